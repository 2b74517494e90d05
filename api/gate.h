/*
 * gate.h - a counting semaphore whose waiters are paused connections.
 *
 * Uploads hold a part buffer each, so their number is bounded: an upload
 * past the limit has its connection suspended (libmicrohttpd stops
 * reading it, and TCP holds the client back) until a slot frees, instead
 * of blocking an HTTP thread or failing.  Slots are handed over in order
 * of arrival.  Thread-safe.
 *
 * A waiter lives in the caller's request state; its connection is
 * resumed when it is granted a slot or when the gate closes (shutdown).
 */
#ifndef SC_GATE_H
#define SC_GATE_H

#include <pthread.h>

#include <microhttpd.h>

struct gate_waiter {
	struct MHD_Connection *conn;
	struct gate_waiter *next;
	int state;		/* GATE_WAITING, GATE_GRANTED, GATE_REFUSED */
};

enum { GATE_WAITING, GATE_GRANTED, GATE_REFUSED };

struct gate {
	pthread_mutex_t lock;
	int max, used, waiting;
	struct gate_waiter *head, *tail;
	int closed;
};

void gate_init(struct gate *g, int max);
void gate_destroy(struct gate *g);

/*
 * Take a slot: 1 if taken; 0 if w is queued and conn suspended (called
 * from conn's handler); -1 if the gate is closed.
 */
int gate_enter(struct gate *g, struct gate_waiter *w, struct MHD_Connection *conn);

/* What became of a queued waiter. */
int gate_state(struct gate *g, const struct gate_waiter *w);

/* Give a slot back: to the first waiter, or free. */
void gate_leave(struct gate *g);

/* A waiter that will not use its place: out of the queue (or its slot back). */
void gate_cancel(struct gate *g, struct gate_waiter *w);

/* Refuse every waiter and every later enter; resumes their connections. */
void gate_close(struct gate *g);

/* Slots in use and waiters, for /metrics. */
void gate_counts(struct gate *g, int *used, int *waiting);

#endif
