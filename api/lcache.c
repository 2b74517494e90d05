/* lcache.c - in-process response cache (see lcache.h). */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "lcache.h"

void lcache_init(struct lcache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

static void drop(struct lcache *c, int i)
{
	free(c->slot[i].key);
	free(c->slot[i].text);
	c->slot[i].key = c->slot[i].text = NULL;
	c->slot[i].expires_ms = 0;
	c->slot[i].refreshing = 0;
}

void lcache_clear(struct lcache *c)
{
	int i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < LCACHE_SLOTS; i++)
		drop(c, i);
	pthread_mutex_unlock(&c->lock);
}

void lcache_free(struct lcache *c)
{
	lcache_clear(c);
	pthread_mutex_destroy(&c->lock);
}

char *lcache_get(struct lcache *c, const char *key, size_t *len)
{
	long now = clock_ms();
	char *copy = NULL;
	int i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < LCACHE_SLOTS; i++) {
		if (!c->slot[i].key || strcmp(c->slot[i].key, key))
			continue;
		if (c->slot[i].expires_ms <= now) {
			if (!c->slot[i].refreshing) {
				c->slot[i].refreshing = 1;	/* this caller's job */
				break;
			}
			if (c->slot[i].expires_ms + LCACHE_STALE_MAX * c->slot[i].ttl_ms <= now) {
				drop(c, i);	/* the refresh is long overdue */
				break;
			}
		}
		copy = malloc(c->slot[i].len + 1);
		if (copy) {
			memcpy(copy, c->slot[i].text, c->slot[i].len + 1);
			*len = c->slot[i].len;
		}
		break;
	}
	pthread_mutex_unlock(&c->lock);
	return copy;
}

void lcache_put(struct lcache *c, const char *key, const char *text,
		size_t len, long ttl_ms)
{
	char *k = strdup(key), *t = malloc(len + 1);
	int i, victim = 0;

	if (!k || !t) {
		free(k);
		free(t);
		return;
	}
	memcpy(t, text, len);
	t[len] = '\0';
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < LCACHE_SLOTS; i++) {
		if (!c->slot[i].key || !strcmp(c->slot[i].key, key)) {
			victim = i;
			break;
		}
		if (c->slot[i].expires_ms < c->slot[victim].expires_ms)
			victim = i;
	}
	drop(c, victim);
	c->slot[victim].key = k;
	c->slot[victim].text = t;
	c->slot[victim].len = len;
	c->slot[victim].expires_ms = clock_ms() + ttl_ms;
	c->slot[victim].ttl_ms = ttl_ms;
	pthread_mutex_unlock(&c->lock);
}
