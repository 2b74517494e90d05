/* pool.c - worker threads with a FIFO of tasks and queue deadlines (see pool.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "pool.h"

struct pool {
	const char *name;
	long max_wait_ms;
	pthread_mutex_t lock;
	pthread_cond_t work;		/* a task queued, or closing */
	pthread_cond_t idle;		/* a task ended */
	pthread_cond_t timer;		/* the head of the queue changed */
	struct pool_task *head, *tail;
	int queued, running, closed;
	int nthreads;
	pthread_t *threads;
	pthread_t timer_thread;
	int has_timer;
};

/* The first task, out of the queue.  Under the lock. */
static struct pool_task *pop(struct pool *p)
{
	struct pool_task *t = p->head;

	if (t) {
		p->head = t->next;
		if (!p->head)
			p->tail = NULL;
		p->queued--;
		p->running++;
	}
	return t;
}

/* Run t outside the lock, then count it ended. */
static void run(struct pool *p, struct pool_task *t, int late)
{
	pthread_mutex_unlock(&p->lock);
	t->run(t, late);
	pthread_mutex_lock(&p->lock);
	p->running--;
	pthread_cond_broadcast(&p->idle);
}

static int expired(const struct pool *p, const struct pool_task *t, long now)
{
	return p->max_wait_ms && now - t->queued_ms > p->max_wait_ms;
}

static void *worker(void *arg)
{
	struct pool *p = arg;
	struct pool_task *t;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->closed)
			pthread_cond_wait(&p->work, &p->lock);
		if (!p->head)
			break;	/* closed and drained */
		t = pop(p);
		pthread_cond_signal(&p->timer);
		run(p, t, expired(p, t, clock_ms()));
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Expire the tasks at the head that waited too long, even while every
 * worker is busy: a request gets its 503 when its wait is over, not when
 * a thread frees up. */
static void *timer(void *arg)
{
	struct pool *p = arg;
	struct timespec ts;
	long now, wait;

	pthread_mutex_lock(&p->lock);
	while (!p->closed || p->head) {
		now = clock_ms();
		if (p->head && expired(p, p->head, now)) {
			struct pool_task *t = pop(p);

			log_warn("%s pool: a request waited %ld ms for a thread "
				 "(%d running, %d more waiting); answered 503",
				 p->name, now - t->queued_ms, p->running - 1,
				 p->queued);
			run(p, t, 1);
			continue;
		}
		if (p->closed)
			break;	/* the workers drain what is left */
		wait = p->head ? p->head->queued_ms + p->max_wait_ms + 1 - now
			       : 60000;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += wait / 1000;
		ts.tv_nsec += (wait % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->timer, &p->lock, &ts);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct pool *pool_new(const char *name, int threads, long max_wait_ms)
{
	struct pool *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;
	int err = 0;

	if (!p || !(p->threads = calloc((size_t)threads, sizeof(pthread_t)))) {
		free(p);
		log_error("%s pool: out of memory", name);
		return NULL;
	}
	p->name = name;
	p->max_wait_ms = max_wait_ms;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->idle, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->timer, &ca);
	pthread_condattr_destroy(&ca);
	for (; p->nthreads < threads && !err; p->nthreads++)
		if ((err = pthread_create(&p->threads[p->nthreads], NULL, worker, p)))
			break;
	if (!err && max_wait_ms) {
		err = pthread_create(&p->timer_thread, NULL, timer, p);
		p->has_timer = !err;
	}
	if (err) {
		log_error("%s pool: cannot start a thread: %s", name,
			  err == EAGAIN ? "too many threads" : "error");
		pool_close(p);
		pool_free(p);
		return NULL;
	}
	return p;
}

int pool_submit(struct pool *p, struct pool_task *t,
		struct MHD_Connection *suspend)
{
	pthread_mutex_lock(&p->lock);
	if (p->closed) {
		pthread_mutex_unlock(&p->lock);
		return -1;
	}
	if (suspend)
		MHD_suspend_connection(suspend);
	t->queued_ms = clock_ms();
	t->next = NULL;
	if (p->tail)
		p->tail->next = t;
	else
		p->head = t;
	p->tail = t;
	p->queued++;
	pthread_cond_signal(&p->work);
	if (p->head == t)
		pthread_cond_signal(&p->timer);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

void pool_counts(struct pool *p, int *running, int *queued)
{
	pthread_mutex_lock(&p->lock);
	*running = p->running;
	*queued = p->queued;
	pthread_mutex_unlock(&p->lock);
}

void pool_close(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->closed = 1;
	pthread_cond_broadcast(&p->work);
	pthread_cond_broadcast(&p->timer);
	while (p->head || p->running)
		pthread_cond_wait(&p->idle, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

void pool_free(struct pool *p)
{
	int i;

	if (!p)
		return;
	pool_close(p);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	if (p->has_timer)
		pthread_join(p->timer_thread, NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->timer);
	pthread_mutex_destroy(&p->lock);
	free(p->threads);
	free(p);
}
