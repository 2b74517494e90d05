/*
 * lcache.h - a small in-process cache of response bodies.
 *
 * For read-mostly answers that may be a moment stale (the rankings): a
 * hit costs a mutex and a copy, no network round trip.  Entries live
 * ttl_ms; a full cache evicts the entry closest to expiry.  Thread-safe.
 *
 * When an entry expires, the first caller gets a miss and refreshes it
 * while the others keep getting the expired copy (for up to
 * LCACHE_STALE_MAX times ttl), so an expiry under load sends one request
 * to the layers behind, not one per thread.
 */
#ifndef SC_LCACHE_H
#define SC_LCACHE_H

#include <pthread.h>
#include <stddef.h>

#define LCACHE_SLOTS 64
#define LCACHE_STALE_MAX 5

struct lcache {
	pthread_mutex_t lock;
	struct {
		char *key;
		char *text;
		size_t len;
		long expires_ms;
		long ttl_ms;
		int refreshing;		/* a caller is making a new copy */
	} slot[LCACHE_SLOTS];
};

void lcache_init(struct lcache *c);
void lcache_free(struct lcache *c);

/* A malloc'ed copy of key's live entry (its length in *len), or NULL. */
char *lcache_get(struct lcache *c, const char *key, size_t *len);

/* Keep a copy of text under key for ttl_ms (silently not, without memory). */
void lcache_put(struct lcache *c, const char *key, const char *text,
		size_t len, long ttl_ms);

/* Forget everything (a vote changed the rankings). */
void lcache_clear(struct lcache *c);

#endif
