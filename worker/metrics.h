/*
 * metrics.h - the worker's numbers, served as Prometheus text.
 *
 * Invariants: every field is an atomic the job threads and the main
 * thread update; the HTTP thread only reads.  Queue and stuck-video
 * figures are refreshed by the main thread on each beat (the HTTP thread
 * never talks to Redis or PostgreSQL).
 *
 * Life cycle: metrics_serve() starts an HTTP thread answering GET /metrics
 * and GET /health/live on host:port; metrics_stop() ends it.
 */
#ifndef SC_METRICS_H
#define SC_METRICS_H

#include <stdatomic.h>

#include "error.h"

struct buf;

/* upper bounds of the job duration histogram, seconds */
#define METRICS_BUCKETS 8

struct metrics {
	atomic_llong processed, failed, retried, crashed, handed_back, lost;
	atomic_llong in_flight;
	atomic_llong pending, scheduled, dead, leased;
	atomic_llong oldest_pending_ms;		/* age of the head job, -1 none */
	atomic_llong workers;			/* live worker records */
	atomic_llong stuck;			/* videos unfinished too long */
	atomic_llong stuck_oldest_s;		/* age of the oldest of them */
	atomic_llong duration_bucket[METRICS_BUCKETS + 1];	/* last: +Inf */
	atomic_llong duration_ms_sum;
	atomic_llong duration_count;
	void *daemon;				/* struct MHD_Daemon */
	/* more figures appended by another module (the webhook dispatcher:
	 * dispatch_metrics), called on the HTTP thread; set before
	 * metrics_serve(), its argument alive until metrics_stop() */
	void (*more)(void *arg, struct buf *b);
	void *more_arg;
};

/* Count one finished job of outcome (job.h) that took ms. */
void metrics_job(struct metrics *m, int outcome, long long ms);

enum sc_err metrics_serve(struct metrics *m, const char *host, int port);
void metrics_stop(struct metrics *m);

#endif
