/* gate.c - counting semaphore of suspended connections (see gate.h). */
#include "clock.h"
#include "gate.h"

void gate_init(struct gate *g, int max, long wait_ms)
{
	pthread_mutex_init(&g->lock, NULL);
	g->max = max;
	g->wait_ms = wait_ms;
	g->used = g->waiting = g->closed = 0;
	g->head = g->tail = NULL;
}

void gate_destroy(struct gate *g)
{
	pthread_mutex_destroy(&g->lock);
}

int gate_enter(struct gate *g, struct gate_waiter *w, struct MHD_Connection *conn)
{
	int r;

	pthread_mutex_lock(&g->lock);
	if (g->closed) {
		r = -1;
	} else if (g->used < g->max) {
		g->used++;
		r = 1;
	} else {
		w->conn = conn;
		w->next = NULL;
		w->deadline_ms = clock_ms() + g->wait_ms;
		w->state = GATE_WAITING;
		if (g->tail)
			g->tail->next = w;
		else
			g->head = w;
		g->tail = w;
		g->waiting++;
		/* under the lock: a leave() cannot resume it before this */
		MHD_suspend_connection(conn);
		r = 0;
	}
	pthread_mutex_unlock(&g->lock);
	return r;
}

int gate_state(struct gate *g, const struct gate_waiter *w)
{
	int s;

	pthread_mutex_lock(&g->lock);
	s = w->state;
	pthread_mutex_unlock(&g->lock);
	return s;
}

/* The first waiter, out of the queue; NULL if none.  Under the lock. */
static struct gate_waiter *pop(struct gate *g)
{
	struct gate_waiter *w = g->head;

	if (w) {
		g->head = w->next;
		if (!g->head)
			g->tail = NULL;
		g->waiting--;
	}
	return w;
}

void gate_leave(struct gate *g)
{
	struct gate_waiter *w;

	pthread_mutex_lock(&g->lock);
	w = g->closed ? NULL : pop(g);
	if (w) {
		w->state = GATE_GRANTED;	/* the slot passes on */
		MHD_resume_connection(w->conn);
	} else {
		g->used--;
	}
	pthread_mutex_unlock(&g->lock);
}

void gate_cancel(struct gate *g, struct gate_waiter *w)
{
	struct gate_waiter **p, *prev = NULL;
	int granted;

	pthread_mutex_lock(&g->lock);
	granted = w->state == GATE_GRANTED;
	for (p = &g->head; *p; prev = *p, p = &(*p)->next) {
		if (*p != w)
			continue;
		*p = w->next;
		if (g->tail == w)
			g->tail = prev;
		g->waiting--;
		break;
	}
	w->state = GATE_REFUSED;
	pthread_mutex_unlock(&g->lock);
	if (granted)
		gate_leave(g);
}

int gate_expire(struct gate *g, long now_ms)
{
	struct gate_waiter **p, *w, *prev = NULL;
	int n = 0;

	pthread_mutex_lock(&g->lock);
	for (p = &g->head; (w = *p);) {
		if (w->deadline_ms > now_ms) {
			prev = w;
			p = &w->next;
			continue;
		}
		*p = w->next;
		if (g->tail == w)
			g->tail = prev;
		g->waiting--;
		w->state = GATE_EXPIRED;
		MHD_resume_connection(w->conn);
		n++;
	}
	pthread_mutex_unlock(&g->lock);
	return n;
}

void gate_close(struct gate *g)
{
	struct gate_waiter *w;

	pthread_mutex_lock(&g->lock);
	g->closed = 1;
	while ((w = pop(g))) {
		w->state = GATE_REFUSED;
		MHD_resume_connection(w->conn);
	}
	pthread_mutex_unlock(&g->lock);
}

void gate_counts(struct gate *g, int *used, int *waiting)
{
	pthread_mutex_lock(&g->lock);
	*used = g->used;
	*waiting = g->waiting;
	pthread_mutex_unlock(&g->lock);
}
