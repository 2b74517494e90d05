/* upload_sweeper.c - expired uploads removed (see upload_sweeper.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "direct_store.h"
#include "log.h"
#include "tus_store.h"
#include "upload_sweeper.h"

#define SWEEP_BATCH "100"

struct upload_sweeper {
	struct api *api;
	pthread_t thread;
	atomic_int stop;
};

/* One expired upload, under its lock: 1 removed, 0 left. */
static int sweep_one(struct deps *d, const char *id)
{
	struct tus_row row;
	int got, removed = 0;

	if ((got = tus_store_lock(d->db, id)) <= 0)
		return 0;	/* a PATCH holds it, or PostgreSQL failed */
	/* read again under the lock: still expired? */
	if (!tus_store_get(d->db, id, &row) && row.expired &&
	    !tus_store_discard(d, id, &row)) {
		log_info("tus upload %s expired (%s): removed%s", id, row.expires,
			 row.completed ? "" : " with its S3 parts");
		removed = 1;
	}
	tus_store_unlock(d->db, id);
	return removed;
}

int tus_sweep(struct api *api, struct deps *d)
{
	const char *params[] = { SWEEP_BATCH };
	PGresult *res;
	int i, n = 0;

	(void)api;
	if (db_exec_prepared(d->db,
		    "SELECT id FROM tus_uploads WHERE expires_at < now() "
		    "ORDER BY expires_at LIMIT $1", 1, params, &res)) {
		log_warn("expired uploads not swept: %s", db_errstr(d->db));
		return -1;
	}
	for (i = 0; i < PQntuples(res); i++)
		n += sweep_one(d, PQgetvalue(res, i, 0));
	PQclear(res);
	return n;
}

static void *run(void *arg)
{
	struct upload_sweeper *sw = arg;
	long next = clock_ms();
	struct deps *d;

	log_set_request(NULL);
	while (!atomic_load(&sw->stop)) {
		if (clock_ms() < next) {
			clock_sleep_ms(200);
			continue;
		}
		next = clock_ms() + sw->api->cfg.api_tus_sweep_s * 1000L;
		if (!(d = deps_get(sw->api)))
			continue;
		tus_sweep(sw->api, d);
		direct_store_sweep(d);
		deps_put(sw->api, d);
	}
	return NULL;
}

struct upload_sweeper *upload_sweeper_start(struct api *api)
{
	struct upload_sweeper *sw = calloc(1, sizeof(*sw));

	if (!sw) {
		log_error("cannot start the upload sweeper: out of memory");
		return NULL;
	}
	sw->api = api;
	if (pthread_create(&sw->thread, NULL, run, sw)) {
		log_error("cannot start the upload sweeper thread");
		free(sw);
		return NULL;
	}
	return sw;
}

void upload_sweeper_stop(struct upload_sweeper *sw)
{
	if (!sw)
		return;
	atomic_store(&sw->stop, 1);
	pthread_join(sw->thread, NULL);
	free(sw);
}
