/*
 * lease.c - the lease keeper's thread (see lease.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "lease.h"
#include "log.h"
#include "redisconn.h"

/* A failed renewal is tried again this soon (ms). */
#define RETRY_MS 1000

struct lease_keeper {
	struct redisconn *redis;
	struct queue *queue;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* CLOCK_MONOTONIC */
	int running;			/* a thread to join */
	int stop;			/* under mu */
	const struct queue_job *job;
	int lease_ms;
	atomic_int progress;
	atomic_int lost;
};

enum sc_err lease_keeper_new(const char *redis_url, int connect_timeout_ms,
			     const char *prefix, struct lease_keeper **out)
{
	struct lease_keeper *k = calloc(1, sizeof(*k));
	pthread_condattr_t ca;
	enum sc_err rc;

	*out = NULL;
	if (!k)
		return SC_ERR_NOMEM;
	if ((rc = redisconn_new(redis_url, connect_timeout_ms, &k->redis)) ||
	    (rc = queue_new(k->redis, prefix, &k->queue))) {
		lease_keeper_free(k);
		return rc;
	}
	pthread_mutex_init(&k->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->cv, &ca);
	pthread_condattr_destroy(&ca);
	*out = k;
	return SC_OK;
}

void lease_keeper_free(struct lease_keeper *k)
{
	if (!k)
		return;
	lease_release(k);
	if (k->queue) {
		pthread_mutex_destroy(&k->mu);
		pthread_cond_destroy(&k->cv);
	}
	queue_free(k->queue);
	redisconn_free(k->redis);
	free(k);
}

/* Sleep until ms (monotonic) or until told to stop; 1 if told to stop. */
static int wait_until(struct lease_keeper *k, long long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	int stop;

	pthread_mutex_lock(&k->mu);
	while (!k->stop &&
	       pthread_cond_timedwait(&k->cv, &k->mu, &ts) != ETIMEDOUT)
		;
	stop = k->stop;
	pthread_mutex_unlock(&k->mu);
	return stop;
}

static void *keeper_main(void *arg)
{
	struct lease_keeper *k = arg;
	long long held_until = clock_ms() + k->lease_ms;
	long long next = clock_ms() + k->lease_ms / 3;
	enum sc_err rc;

	log_set_job(k->job->id, k->job->video_id);
	while (!wait_until(k, next)) {
		rc = queue_extend(k->queue, k->job, k->lease_ms,
				  atomic_load(&k->progress));
		if (rc == SC_ERR_CONFLICT) {
			log_warn("lease lost at %d%%: another attempt holds the job",
				 atomic_load(&k->progress));
			atomic_store(&k->lost, 1);
			break;
		}
		if (rc == SC_OK) {
			held_until = clock_ms() + k->lease_ms;
			next = clock_ms() + k->lease_ms / 3;
			continue;
		}
		if (clock_ms() + RETRY_MS >= held_until) {
			log_error("lease lost: no renewal for a whole lease (%s)",
				  redisconn_errstr(k->redis));
			atomic_store(&k->lost, 1);
			break;
		}
		log_warn("cannot renew the lease, retrying: %s",
			 redisconn_errstr(k->redis));
		next = clock_ms() + RETRY_MS;
	}
	log_set_job(NULL, NULL);
	return NULL;
}

enum sc_err lease_keep(struct lease_keeper *k, const struct queue_job *job,
		       int lease_ms)
{
	lease_release(k);
	k->job = job;
	k->lease_ms = lease_ms;
	k->stop = 0;
	atomic_store(&k->progress, 0);
	atomic_store(&k->lost, 0);
	if (pthread_create(&k->thread, NULL, keeper_main, k))
		return SC_ERR_NOMEM;
	k->running = 1;
	return SC_OK;
}

void lease_release(struct lease_keeper *k)
{
	if (!k->running)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = 1;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->thread, NULL);
	k->running = 0;
}

void lease_progress(struct lease_keeper *k, int percent)
{
	atomic_store(&k->progress, percent);
}

int lease_lost(const struct lease_keeper *k)
{
	return atomic_load(&k->lost);
}
