/* test_pool.c - the API's worker pools: order, queue deadlines, closing. */
#include <pthread.h>
#include <stddef.h>

#include "clock.h"
#include "pool.h"
#include "unit.h"

struct probe {
	struct pool_task task;
	pthread_mutex_t *lock;
	pthread_cond_t *cond;
	int *gate;		/* the task waits while *gate is 0, if set */
	int ran, late, order;
	int *counter;
};

static void probe_run(struct pool_task *t, int late)
{
	struct probe *p = (struct probe *)((char *)t - offsetof(struct probe, task));

	pthread_mutex_lock(p->lock);
	while (p->gate && !*p->gate && !late)
		pthread_cond_wait(p->cond, p->lock);
	p->ran = 1;
	p->late = late;
	p->order = ++*p->counter;
	pthread_cond_broadcast(p->cond);
	pthread_mutex_unlock(p->lock);
}

/* Wait (5 s at most: a hang, not a timing) until *flag is set. */
static int wait_for(pthread_mutex_t *lock, int *flag)
{
	long until = clock_ms() + 5000;

	pthread_mutex_lock(lock);
	while (!*flag && clock_ms() < until) {
		pthread_mutex_unlock(lock);
		clock_sleep_ms(5);
		pthread_mutex_lock(lock);
	}
	pthread_mutex_unlock(lock);
	return *flag;
}

static void test_tasks_run_in_order(void)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	struct probe p[5] = { { .ran = 0 } };
	struct pool *pool = pool_new("test", 1, 0);
	int counter = 0, i, running, queued;

	CHECK(pool != NULL);
	if (!pool)
		return;
	for (i = 0; i < 5; i++) {
		p[i].task.run = probe_run;
		p[i].lock = &lock;
		p[i].cond = &cond;
		p[i].counter = &counter;
		CHECK_INT(pool_submit(pool, &p[i].task, NULL), 0);
	}
	pool_close(pool);	/* waits for all of them */
	for (i = 0; i < 5; i++) {
		CHECK(p[i].ran && !p[i].late);
		CHECK_INT(p[i].order, i + 1);
	}
	pool_counts(pool, &running, &queued);
	CHECK_INT(running + queued, 0);
	CHECK_INT(pool_submit(pool, &p[0].task, NULL), -1);	/* closed */
	pool_free(pool);
}

/* A task that waited past the pool's max wait is expired at once, by the
 * timer, while the only worker is still busy. */
static void test_a_task_past_its_wait_is_expired_while_workers_are_busy(void)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
	struct probe busy = { .ran = 0 }, waiting = { .ran = 0 };
	struct pool *pool = pool_new("test", 1, 50);
	int counter = 0, gate = 0;

	CHECK(pool != NULL);
	if (!pool)
		return;
	busy.task.run = waiting.task.run = probe_run;
	busy.lock = waiting.lock = &lock;
	busy.cond = waiting.cond = &cond;
	busy.counter = waiting.counter = &counter;
	busy.gate = &gate;	/* holds the one worker until released */
	CHECK_INT(pool_submit(pool, &busy.task, NULL), 0);
	CHECK_INT(pool_submit(pool, &waiting.task, NULL), 0);
	CHECK(wait_for(&lock, &waiting.ran));
	CHECK(waiting.late);
	CHECK(!busy.ran);	/* expired while the worker was busy */
	pthread_mutex_lock(&lock);
	gate = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	pool_close(pool);
	CHECK(busy.ran && !busy.late);
	CHECK_INT(busy.order, 2);
	pool_free(pool);
}

const struct unit_test test_pool_suite[] = {
	UNIT_TEST(test_tasks_run_in_order),
	UNIT_TEST(test_a_task_past_its_wait_is_expired_while_workers_are_busy),
	{ NULL, NULL },
};
