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
 * resumed when it is granted a slot, when it has waited longer than the
 * gate's wait (gate_expire(), which a timer calls: libmicrohttpd never
 * times out a suspended connection), or when the gate closes (shutdown).
 */
#ifndef SC_GATE_H
#define SC_GATE_H

#include <pthread.h>

#include <microhttpd.h>

struct gate_waiter {
	struct MHD_Connection *conn;
	struct gate_waiter *next;
	long deadline_ms;	/* gives up then (clock_ms()) */
	int state;		/* GATE_WAITING, GATE_GRANTED, ... */
};

enum { GATE_WAITING, GATE_GRANTED, GATE_REFUSED, GATE_EXPIRED };

struct gate {
	pthread_mutex_t lock;
	int max, used, waiting;
	long wait_ms;		/* longest wait for a slot */
	struct gate_waiter *head, *tail;
	int closed;
};

/* max slots; a waiter gives up after wait_ms. */
void gate_init(struct gate *g, int max, long wait_ms);
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

/*
 * Waiters whose wait ran out by now_ms leave the queue as GATE_EXPIRED,
 * their connections resumed.  Returns how many.
 */
int gate_expire(struct gate *g, long now_ms);

/* Refuse every waiter and every later enter; resumes their connections. */
void gate_close(struct gate *g);

/* Slots in use and waiters, for /metrics. */
void gate_counts(struct gate *g, int *used, int *waiting);

#endif
