/*
 * showcase-worker - the processing side of Showcase.
 *
 * Connects to Redis and PostgreSQL, keeps its presence record in Redis
 * fresh every WORKER_HEARTBEAT_MS, logs when a dependency goes away or
 * comes back (once per change, not on every beat), and on SIGTERM or
 * SIGINT removes its record and exits 0.  A dependency that is down is
 * retried on the next beat, never in a tight loop.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "presence.h"
#include "redisconn.h"

struct worker {
	struct config cfg;
	struct db *db;
	struct redisconn *redis;
	struct presence *presence;
	int redis_ok;	/* last known state, to log changes only */
	int db_ok;
};

static void beat(struct worker *w)
{
	int ok;

	ok = presence_beat(w->presence, w->redis, "idle") == SC_OK;
	if (ok != w->redis_ok) {
		if (ok)
			log_info("redis reachable; registered as %s",
				 presence_key(w->presence));
		else
			log_error("redis unreachable: %s", redisconn_errstr(w->redis));
		w->redis_ok = ok;
	}
	ok = db_ping(w->db) == SC_OK;
	if (ok != w->db_ok) {
		if (ok)
			log_info("postgresql reachable");
		else
			log_error("postgresql unreachable: %s", db_errstr(w->db));
		w->db_ok = ok;
	}
}

int main(void)
{
	struct buf errmsg = BUF_INIT(4096);
	struct worker w = { .redis_ok = -1, .db_ok = -1 };
	struct timespec tick;
	sigset_t sigs;
	int sig, status = EXIT_FAILURE;
	enum sc_err err;

	log_init("worker", LOG_INFO);
	if (config_load(&w.cfg, CFG_WORKER, &errmsg)) {
		fprintf(stderr, "showcase-worker: bad configuration:\n%s",
			errmsg.data ? errmsg.data : "");
		buf_release(&errmsg);
		return 2;
	}
	log_init("worker", (enum log_level)w.cfg.log_level);
	config_log(&w.cfg, CFG_WORKER);

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	err = redisconn_new(w.cfg.redis_url, w.cfg.connect_timeout_ms, &w.redis);
	if (err == SC_ERR_INVALID) {
		log_error("REDIS_URL: cannot parse '%s'", w.cfg.redis_url);
		goto out;
	}
	w.db = db_new(w.cfg.database_url, w.cfg.connect_timeout_ms);
	w.presence = presence_new(w.cfg.queue_prefix, w.cfg.worker_concurrency,
				  w.cfg.worker_heartbeat_ms);
	if (err || !w.db || !w.presence) {
		log_error("cannot start: %s", sc_strerror(SC_ERR_NOMEM));
		goto out;
	}
	log_info("worker started: concurrency %d, heartbeat %d ms",
		 w.cfg.worker_concurrency, w.cfg.worker_heartbeat_ms);

	tick.tv_sec = w.cfg.worker_heartbeat_ms / 1000;
	tick.tv_nsec = (w.cfg.worker_heartbeat_ms % 1000) * 1000000L;
	for (;;) {
		beat(&w);
		sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			log_error("sigtimedwait: %s", sc_strerror(SC_ERR_IO));
			goto out;
		}
	}
	log_info("received %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	if (presence_remove(w.presence, w.redis))
		log_warn("cannot remove presence record: %s",
			 redisconn_errstr(w.redis));
	log_info("stopped");
	status = EXIT_SUCCESS;

out:
	presence_free(w.presence);
	redisconn_free(w.redis);
	db_free(w.db);
	config_free(&w.cfg);
	buf_release(&errmsg);
	return status;
}
