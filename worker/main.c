/*
 * showcase-worker - the processing side of Showcase.
 *
 * WORKER_CONCURRENCY threads each lease a job from Redis and run it
 * (job.h); the main thread keeps the presence record fresh, reaps expired
 * leases, promotes due retries, and every WORKER_RECONCILE_S queues again
 * the videos PostgreSQL still calls unfinished (a no-op for videos whose
 * job lives; the cure when Redis lost its data or an enqueue was lost).
 *
 * A webhook dispatcher (dispatch.h) runs on a thread of its own unless
 * WEBHOOK_DISPATCH=0, so no receiver holds up the beat or the jobs.
 *
 * SIGTERM or SIGINT: no new job is taken, the dispatcher stops; running jobs get WORKER_GRACE_S
 * to finish, then are handed back at the head of the queue without
 * counting an attempt; the presence record is removed; exit 0.  A
 * dependency that is down is retried with a pause, never in a tight loop,
 * and its outage is logged once.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "awscreds.h"
#include "child.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "dispatch.h"
#include "job.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "presence.h"
#include "queue.h"
#include "reconcile.h"
#include "redisconn.h"
#include "s3.h"
#include "videos.h"

#define MAX_SLOTS 64
#define IDLE_POLL_MS 500
#define DOWN_PAUSE_MS 2000

struct worker {
	struct config cfg;
	char name[300];			/* host:pid */
	char transcoder[PATH_MAX];
	struct child_sandbox *sandbox;	/* how transcodes are isolated */
	struct awscreds *creds;
	/* the main thread's own handles */
	struct db *db;
	struct redisconn *redis;
	struct queue *queue;
	struct presence *presence;
	struct dispatch *dispatch;	/* NULL: WEBHOOK_DISPATCH=0 */
	int redis_ok;			/* last known state, to log changes only */
	int db_ok;
	atomic_int db_down;		/* the job threads take no job meanwhile */
	long long next_reconcile_ms;
	struct videos_cursor reconcile_cursor;	/* where the last pass stopped */
	/* shared with the job threads and the metrics thread */
	atomic_int stopping;
	atomic_llong handback_at;
	struct metrics metrics;		/* metrics.in_flight: jobs running */
};

struct slot {
	struct worker *w;
	pthread_t thread;
	int started;
	int index;
};

/* One job thread: lease, run, repeat until told to stop. */
static void *slot_main(void *arg)
{
	struct slot *s = arg;
	struct worker *w = s->w;
	struct job_env env = { .cfg = &w->cfg, .worker = w->name,
			       .transcoder = w->transcoder,
			       .sandbox = w->sandbox,
			       .handback_at = &w->handback_at,
			       .crashes = &w->metrics.crashed };
	struct queue_job job;
	enum job_outcome out;
	long long started;
	int got, down = 0;

	if (redisconn_new(w->cfg.redis_url, w->cfg.connect_timeout_ms, &env.redis) ||
	    queue_new(env.redis, w->cfg.queue_prefix, &env.queue) ||
	    !(env.db = db_open(&w->cfg)) ||
	    !(env.s3 = s3_client_new(&w->cfg, w->creds)) ||
	    lease_keeper_new(w->cfg.redis_url, w->cfg.connect_timeout_ms,
			     w->cfg.queue_prefix, &env.lease)) {
		log_error("job thread %d cannot start: %s", s->index,
			  sc_strerror(SC_ERR_NOMEM));
		goto out;
	}
	while (!atomic_load(&w->stopping)) {
		/* a job cannot even start without PostgreSQL: leasing one
		 * would only spend its attempts (the main thread probes) */
		if (atomic_load(&w->db_down)) {
			clock_sleep_ms(DOWN_PAUSE_MS);
			continue;
		}
		if (queue_lease(env.queue, w->name, w->cfg.worker_lease_ms, &job, &got)) {
			if (!down)
				log_error("cannot take jobs: %s", redisconn_errstr(env.redis));
			down = 1;
			clock_sleep_ms(DOWN_PAUSE_MS);
			continue;
		}
		if (down)
			log_info("taking jobs again");
		down = 0;
		if (!got) {
			clock_sleep_ms(IDLE_POLL_MS);
			continue;
		}
		atomic_fetch_add(&w->metrics.in_flight, 1);
		started = clock_ms();
		log_set_job(job.id, job.video_id);
		log_info("job leased: attempt %d, crashes %d", job.attempt, job.crashes);
		out = job_run(&env, &job);
		log_info("job ended: %s", job_outcome_name(out));
		log_set_job(NULL, NULL);
		metrics_job(&w->metrics, out, clock_ms() - started);
		atomic_fetch_sub(&w->metrics.in_flight, 1);
		/* handed back because a dependency is away: do not take it
		 * straight back from the head of the queue */
		if (out == JOB_HANDED_BACK && !atomic_load(&w->stopping))
			clock_sleep_ms(DOWN_PAUSE_MS);
	}
out:
	lease_keeper_free(env.lease);
	s3_client_free(env.s3);
	db_free(env.db);
	queue_free(env.queue);
	redisconn_free(env.redis);
	return NULL;
}

/*
 * The reaper dead-lettered a job: its video fails now, with the reason
 * (if PostgreSQL is away, the reconciler does it later).  A worker killed
 * after marking the video processed but before acknowledging the job
 * leaves a lease that expires like a crash: that job is not dead, its
 * work is done, so it leaves the dead set instead of waiting there for
 * an admin.
 */
static void fail_dead_video(const char *id, const char *error, void *arg)
{
	struct worker *w = arg;
	char code[32];
	const char *msg = reconcile_split_error(error, code, sizeof(code));
	int applied = 0, settled = 0;

	msg = reconcile_public_message(code, msg);
	if (videos_fail_unfinished(w->db, id, 0, code, msg, &applied)) {
		log_error("job %s is dead but its video cannot be marked failed "
			  "yet (%s); the reconciler will", id, db_errstr(w->db));
		return;
	}
	if (applied) {
		log_warn("video %s failed: %s", id, error);
		return;
	}
	if (!videos_settled(w->db, id, &settled) && settled &&
	    !queue_forget_dead(w->queue, id))
		log_info("job %s: lease expired after its video was processed "
			 "(or deleted); dropped from the dead set", id);
}

/* Queue figures for /metrics, read here so the HTTP thread never does. */
static void refresh_metrics(struct worker *w)
{
	struct queue_stats st;
	long long age = -1, n = 0;

	if (!queue_stats(w->queue, &st)) {
		atomic_store(&w->metrics.pending, st.pending);
		atomic_store(&w->metrics.leased, st.leased);
		atomic_store(&w->metrics.scheduled, st.scheduled);
		atomic_store(&w->metrics.dead, st.dead);
	} else {
		atomic_store(&w->metrics.pending, -1);	/* unknown: not served */
	}
	if (!queue_oldest_pending(w->queue, &age))
		atomic_store(&w->metrics.oldest_pending_ms, age);
	if (!queue_workers(w->queue, &n))
		atomic_store(&w->metrics.workers, n);
}

/* Stuck videos for /metrics (a cheap count on a partial index). */
static void refresh_stuck(struct worker *w)
{
	long long n, oldest;

	if (videos_stuck_summary(w->db, w->cfg.video_stuck_after_s, &n, &oldest))
		n = oldest = -1;	/* unknown: not served, never a false 0 */
	atomic_store(&w->metrics.stuck, n);
	atomic_store(&w->metrics.stuck_oldest_s, oldest);
}

/*
 * One reconciler pass, RECONCILE_PASS_MAX rows at most so the main
 * thread's beat is not held up by a huge backlog; the cursor goes on from
 * there next time.  A row idle for two leases and a bit has no live job
 * touching it: a running job's attempt started more recently, and a
 * waiting one is found in Redis.
 */
#define RECONCILE_PASS_MAX 20000

static void reconcile(struct worker *w)
{
	struct reconcile_stats st;
	enum sc_err rc;

	rc = reconcile_pass(w->db, w->queue, 2 * w->cfg.worker_lease_ms / 1000 + 1,
			    RECONCILE_PASS_MAX, &w->reconcile_cursor, &st);
	if (rc)
		log_warn("reconciler stopped after %d videos: %s", st.scanned,
			 rc == SC_ERR_DB ? db_errstr(w->db) : redisconn_errstr(w->redis));
	else if (st.queued || st.failed)
		log_warn("reconciler: %d unfinished videos, %d queued again, %d failed "
			 "(their job was dead)", st.scanned, st.queued, st.failed);
}

/* The main thread's periodic work: presence, reaper, promoter, reconciler. */
static void beat(struct worker *w)
{
	int ok, requeued = 0, dead = 0, moved = 0;

	ok = presence_beat(w->presence, w->redis,
			   atomic_load(&w->stopping)	      ? "stopping"
			   : atomic_load(&w->metrics.in_flight) ? "busy"
								: "idle") == SC_OK;
	if (ok != w->redis_ok) {
		if (ok)
			log_info("redis reachable; registered as %s",
				 presence_key(w->presence));
		else
			log_error("redis unreachable: %s", redisconn_errstr(w->redis));
		w->redis_ok = ok;
	}
	if (ok) {
		if (!queue_reap(w->queue, w->cfg.worker_max_crashes, &requeued, &dead,
				fail_dead_video, w) &&
		    (requeued || dead))
			log_warn("reaped expired leases: %d queued again, %d dead",
				 requeued, dead);
		queue_promote(w->queue, &moved);
		if (w->metrics.daemon)	/* only a served figure is worth reading */
			refresh_metrics(w);
	} else {
		atomic_store(&w->metrics.pending, -1);
	}
	ok = db_ping(w->db) == SC_OK;
	atomic_store(&w->db_down, !ok);
	if (ok != w->db_ok) {
		if (ok)
			log_info("postgresql reachable");
		else
			log_error("postgresql unreachable: %s", db_errstr(w->db));
		w->db_ok = ok;
	}
	if (w->metrics.daemon) {
		if (ok)
			refresh_stuck(w);
		else
			atomic_store(&w->metrics.stuck, -1);
	}
	if (ok && w->redis_ok && clock_ms() >= w->next_reconcile_ms) {
		reconcile(w);
		w->next_reconcile_ms = clock_ms() + w->cfg.worker_reconcile_s * 1000LL;
	}
}

/* showcase-transcode next to this binary, unless configured. */
static int find_transcoder(struct worker *w)
{
	char self[PATH_MAX];
	ssize_t n;

	if (w->cfg.worker_transcoder[0]) {
		snprintf(w->transcoder, sizeof(w->transcoder), "%s",
			 w->cfg.worker_transcoder);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			return -1;
		self[n] = '\0';
		snprintf(w->transcoder, sizeof(w->transcoder), "%s/showcase-transcode",
			 dirname(self));
	}
	return access(w->transcoder, X_OK);
}

int main(void)
{
	struct slot slots[MAX_SLOTS] = { 0 };
	struct buf errmsg = BUF_INIT(4096);
	struct worker w = { .redis_ok = -1, .db_ok = -1,
			    /* figures not read yet are not served */
			    .metrics = { .pending = -1, .stuck = -1 } };
	struct timespec tick;
	char host[256];
	sigset_t sigs;
	long long next_beat;
	int i, sig, status = EXIT_FAILURE, n = 0;
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
	if (find_transcoder(&w) < 0) {
		log_error("cannot run the transcoder %s (WORKER_TRANSCODER)", w.transcoder);
		config_free(&w.cfg);
		return 2;
	}
	/* the user is looked up and the environment copied once, here */
	if (child_sandbox_new(w.cfg.worker_transcode_user, NULL, &w.sandbox,
			      &errmsg)) {
		log_error("cannot set up the transcoder's sandbox: %s",
			  errmsg.data ? errmsg.data : "out of memory");
		buf_release(&errmsg);
		config_free(&w.cfg);
		return 2;
	}
	if (!child_sandbox_describe(w.sandbox, &errmsg)) {
		if (geteuid() == 0 && !w.cfg.worker_transcode_user[0])
			log_warn("transcodes run as %s: root, since "
				 "WORKER_TRANSCODE_USER is empty; a decoder bug "
				 "would run as root too", errmsg.data);
		else
			log_info("transcodes run as %s", errmsg.data);
	}
	buf_reset(&errmsg);

	/* signals go to the main thread only: block them before threads */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(w.name, sizeof(w.name), "%s:%d", host, (int)getpid());
	err = redisconn_new(w.cfg.redis_url, w.cfg.connect_timeout_ms, &w.redis);
	if (err == SC_ERR_INVALID) {
		log_error("REDIS_URL: cannot parse '%s'", w.cfg.redis_url);
		goto out;
	}
	w.db = db_open(&w.cfg);
	w.presence = presence_new(w.cfg.queue_prefix, w.cfg.worker_concurrency,
				  w.cfg.worker_heartbeat_ms);
	w.creds = awscreds_new(&w.cfg);
	if (err || !w.db || !w.presence || !w.creds ||
	    queue_new(w.redis, w.cfg.queue_prefix, &w.queue)) {
		log_error("cannot start: %s", sc_strerror(SC_ERR_NOMEM));
		goto out;
	}

	/* before /metrics is served: it shows the dispatcher's figures */
	if (w.cfg.webhook_dispatch) {
		err = dispatch_start(&w.cfg, &w.dispatch);
		if (err) {
			log_error("cannot start the webhook dispatcher: %s", sc_strerror(err));
			goto out;
		}
		w.metrics.more = dispatch_metrics;
		w.metrics.more_arg = w.dispatch;
	}
	if (w.cfg.worker_metrics_port &&
	    metrics_serve(&w.metrics, w.cfg.worker_metrics_host, w.cfg.worker_metrics_port))
		log_warn("no /metrics: cannot listen on %s:%d (another worker there?)",
			 w.cfg.worker_metrics_host, w.cfg.worker_metrics_port);
	i = job_remove_orphans(w.cfg.worker_tmp_dir);
	if (i)
		log_warn("removed %d job directories of workers that were killed", i);
	n = w.cfg.worker_concurrency < MAX_SLOTS ? w.cfg.worker_concurrency : MAX_SLOTS;
	for (i = 0; i < n; i++) {
		slots[i].w = &w;
		slots[i].index = i;
		if (pthread_create(&slots[i].thread, NULL, slot_main, &slots[i])) {
			log_error("cannot start job thread %d", i);
			atomic_store(&w.stopping, 1);
			break;
		}
		slots[i].started = 1;
	}
	log_info("worker %s started: concurrency %d, heartbeat %d ms, transcoder %s",
		 w.name, n, w.cfg.worker_heartbeat_ms, w.transcoder);

	tick.tv_sec = w.cfg.worker_heartbeat_ms / 1000;
	tick.tv_nsec = (w.cfg.worker_heartbeat_ms % 1000) * 1000000L;
	while (!atomic_load(&w.stopping)) {
		beat(&w);
		sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("received %s: finishing running jobs within %d s",
				 sig == SIGTERM ? "SIGTERM" : "SIGINT", w.cfg.worker_grace_s);
			break;
		}
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			log_error("sigtimedwait: %s", strerror(errno));
			break;
		}
	}
	atomic_store(&w.handback_at, clock_ms() + w.cfg.worker_grace_s * 1000LL);
	atomic_store(&w.stopping, 1);
	dispatch_stop(w.dispatch);	/* a request in flight is abandoned */
	/* keep the presence record (state "stopping") while jobs finish,
	 * beating at the usual pace, noticing the end within 200 ms */
	next_beat = 0;
	while (atomic_load(&w.metrics.in_flight) > 0) {
		if (clock_ms() >= next_beat) {
			beat(&w);
			next_beat = clock_ms() + w.cfg.worker_heartbeat_ms;
		}
		clock_sleep_ms(200);
	}
	for (i = 0; i < n; i++)
		if (slots[i].started)
			pthread_join(slots[i].thread, NULL);
	if (presence_remove(w.presence, w.redis))
		log_warn("cannot remove presence record: %s", redisconn_errstr(w.redis));
	log_info("stopped");
	status = EXIT_SUCCESS;

out:
	metrics_stop(&w.metrics);
	dispatch_free(w.dispatch);	/* after /metrics, which reads it */
	queue_free(w.queue);
	presence_free(w.presence);
	redisconn_free(w.redis);
	db_free(w.db);
	awscreds_free(w.creds);
	child_sandbox_free(w.sandbox);
	config_free(&w.cfg);
	buf_release(&errmsg);
	return status;
}
