/* peruser.c - counts per player with a cap (see peruser.h). */
#include <stdlib.h>

#include "peruser.h"

void peruser_init(struct peruser *p, int max)
{
	pthread_mutex_init(&p->lock, NULL);
	p->max = max;
	p->e = NULL;
	p->n = p->cap = 0;
}

void peruser_destroy(struct peruser *p)
{
	free(p->e);
	p->e = NULL;
	p->n = p->cap = 0;
	pthread_mutex_destroy(&p->lock);
}

/* The entry of user, or NULL.  Under the lock. */
static struct peruser_entry *find(struct peruser *p, long long user)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->e[i].user == user)
			return &p->e[i];
	return NULL;
}

int peruser_enter(struct peruser *p, long long user)
{
	struct peruser_entry *e, *grown;
	size_t cap;
	int r = 1;

	pthread_mutex_lock(&p->lock);
	if ((e = find(p, user))) {
		if (p->max && e->count >= p->max)
			r = 0;
		else
			e->count++;
		goto out_unlock;
	}
	if (p->n == p->cap) {
		cap = p->cap ? p->cap * 2 : 16;
		grown = realloc(p->e, cap * sizeof(*p->e));
		if (!grown) {
			r = -1;
			goto out_unlock;
		}
		p->e = grown;
		p->cap = cap;
	}
	p->e[p->n].user = user;
	p->e[p->n].count = 1;
	p->n++;
out_unlock:
	pthread_mutex_unlock(&p->lock);
	return r;
}

void peruser_leave(struct peruser *p, long long user)
{
	struct peruser_entry *e;

	pthread_mutex_lock(&p->lock);
	if ((e = find(p, user)) && --e->count <= 0)
		*e = p->e[--p->n];	/* the last one takes its place */
	pthread_mutex_unlock(&p->lock);
}

int peruser_count(struct peruser *p, long long user)
{
	struct peruser_entry *e;
	int n;

	pthread_mutex_lock(&p->lock);
	e = find(p, user);
	n = e ? e->count : 0;
	pthread_mutex_unlock(&p->lock);
	return n;
}
