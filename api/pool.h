/*
 * pool.h - fixed sets of threads that run the API's blocking work.
 *
 * The HTTP event loops (libmicrohttpd's threads, each serving many
 * connections) must never wait: a route that waits on PostgreSQL, Redis
 * or S3, or burns CPU on a password hash, is handed to a pool as a task
 * while its connection is suspended, and the answer goes back to the
 * loop (http.h: http_defer).  Each kind of work has a pool of its own,
 * so one kind cannot starve another: a stalled PostgreSQL fills the I/O
 * pool, never the hashing pool or the event loops.
 *
 * Invariants: tasks start in the order they were submitted.  A task that
 * waited in the queue longer than the pool's max_wait_ms is not run but
 * expired: its function is called with late = 1, as soon as the wait is
 * over (by the pool's timer thread, even when every worker is busy), so
 * it can answer 503 at once.  Tasks own nothing of the pool's; the pool
 * never frees a task.  Thread-safe.
 *
 * Life cycle: pool_new(); pool_submit() from any thread; pool_close()
 * refuses later tasks and waits until every queued and running one has
 * ended; pool_free() joins the threads and frees the pool.
 */
#ifndef SC_POOL_H
#define SC_POOL_H

#include <microhttpd.h>

struct pool;

struct pool_task {
	/* runs on a pool thread; late: expired in the queue (see above) */
	void (*run)(struct pool_task *t, int late);
	long queued_ms;			/* set by pool_submit */
	struct pool_task *next;
};

/*
 * threads workers; max_wait_ms 0: tasks never expire.  name is for the
 * logs (a constant).  NULL when threads cannot be made (logged).
 */
struct pool *pool_new(const char *name, int threads, long max_wait_ms);

/*
 * Queue t.  When suspend is not NULL, that connection is suspended first,
 * under the pool's lock, so the task cannot resume it before it is
 * suspended (called from the connection's own handler).  0 queued; -1
 * the pool is closed (nothing suspended, t not queued).
 */
int pool_submit(struct pool *p, struct pool_task *t,
		struct MHD_Connection *suspend);

/* Tasks running and waiting, for /metrics and the logs. */
void pool_counts(struct pool *p, int *running, int *queued);

void pool_close(struct pool *p);
void pool_free(struct pool *p);

#endif
