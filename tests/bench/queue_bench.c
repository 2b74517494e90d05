/*
 * queue_bench - the job queue's own cost, without any work in the jobs.
 *
 *   REDIS_URL=... queue_bench JOBS CONSUMERS
 *
 * CONSUMERS threads, each with its own connection, first enqueue JOBS
 * no-op jobs between them (as several API instances would), then lease
 * and complete them until none is left.  Prints one line: operations (enqueue + lease + complete) per
 * second over the whole run, and the 99th percentile latency of each
 * kind, in microseconds.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "queue.h"
#include "redisconn.h"

#define PREFIX "bench:{q}:"

struct consumer {
	pthread_t thread;
	const char *url;
	int first, count;			/* the jobs it enqueues */
	long long *enq_us;
	pthread_barrier_t *ready;
	long long *lease_us, *complete_us;	/* one slot per job, shared */
	int *next;				/* next free slot */
	pthread_mutex_t *lock;
	int failed;
};

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static long long p99(long long *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n ? v[(n * 99) / 100] : 0;
}

static void *consume(void *arg)
{
	struct consumer *c = arg;
	struct redisconn *rc = NULL;
	struct queue *q = NULL;
	struct queue_job job;
	long long t0, t1, t2;
	int got, slot;

	char id[32];
	int i;

	if (redisconn_new(c->url, 2000, &rc) || queue_new(rc, PREFIX, &q))
		c->failed = 1;
	for (i = c->first; !c->failed && i < c->first + c->count; i++) {
		snprintf(id, sizeof(id), "job-%d", i);
		t0 = clock_us();
		if (queue_enqueue(q, id, NULL))
			c->failed = 1;
		c->enq_us[i] = clock_us() - t0;
	}
	/* every job is queued before anyone leases */
	pthread_barrier_wait(c->ready);
	for (;;) {
		if (c->failed)
			break;
		t0 = clock_us();
		if (queue_lease(q, "bench", 60000, &job, &got)) {
			c->failed = 1;
			break;
		}
		if (!got)
			break;
		t1 = clock_us();
		if (queue_complete(q, &job)) {
			c->failed = 1;
			break;
		}
		t2 = clock_us();
		pthread_mutex_lock(c->lock);
		slot = (*c->next)++;
		pthread_mutex_unlock(c->lock);
		c->lease_us[slot] = t1 - t0;
		c->complete_us[slot] = t2 - t1;
	}
	queue_free(q);
	redisconn_free(rc);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *url = getenv("REDIS_URL");
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_barrier_t ready;
	struct consumer cs[64];
	long long *enq_us, *lease_us, *complete_us, start, t;
	int jobs, n, i, done = 0, failed = 0;

	if (argc != 3 || !url || (jobs = atoi(argv[1])) < 1 ||
	    (n = atoi(argv[2])) < 1 || n > 64) {
		fprintf(stderr, "usage: REDIS_URL=... queue_bench JOBS CONSUMERS\n");
		return 2;
	}
	enq_us = calloc((size_t)jobs, sizeof(*enq_us));
	lease_us = calloc((size_t)jobs, sizeof(*lease_us));
	complete_us = calloc((size_t)jobs, sizeof(*complete_us));
	if (!enq_us || !lease_us || !complete_us) {
		fprintf(stderr, "queue_bench: cannot start\n");
		return 1;
	}
	pthread_barrier_init(&ready, NULL, (unsigned)n);
	start = clock_us();
	for (i = 0; i < n; i++) {
		cs[i] = (struct consumer){ .url = url, .first = jobs / n * i,
					   .count = i == n - 1 ? jobs - jobs / n * i : jobs / n,
					   .enq_us = enq_us, .ready = &ready,
					   .lease_us = lease_us,
					   .complete_us = complete_us,
					   .next = &done, .lock = &lock };
		pthread_create(&cs[i].thread, NULL, consume, &cs[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(cs[i].thread, NULL);
		failed |= cs[i].failed;
	}
	t = clock_us() - start;
	pthread_barrier_destroy(&ready);
	printf("%d jobs, %d consumers: %.0f queue ops/s; p99 us: enqueue %lld, "
	       "lease %lld, complete %lld%s\n",
	       jobs, n, 3.0 * jobs / (t / 1e6), p99(enq_us, jobs),
	       p99(lease_us, done), p99(complete_us, done),
	       failed || done != jobs ? " (INCOMPLETE)" : "");
	free(enq_us);
	free(lease_us);
	free(complete_us);
	return failed || done != jobs;
}
