/* refusal_memo.c - players' last upload refusals (see refusal_memo.h). */
#include <stdlib.h>

#include "refusal_memo.h"

#define PROBES 8	/* slots looked at from a player's own */

struct refusal_memo *refusal_memo_new(void)
{
	struct refusal_memo *m = calloc(1, sizeof(*m));

	if (m)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

void refusal_memo_free(struct refusal_memo *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static size_t home(long long user)
{
	unsigned long long h = (unsigned long long)user * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 52) % MEMO_SLOTS;	/* 12 bits: 4096 slots */
}

/* user's slot, or NULL; under m->lock. */
static struct refusal_memo_entry *find(struct refusal_memo *m, long long user)
{
	size_t i, at = home(user);

	for (i = 0; i < PROBES; i++)
		if (m->e[(at + i) % MEMO_SLOTS].user == user)
			return &m->e[(at + i) % MEMO_SLOTS];
	return NULL;
}

void refusal_memo_put(struct refusal_memo *m, long long user,
		      const struct refusal *r, long now_ms)
{
	struct refusal_memo_entry *e, *victim = NULL;
	long ms = r->retry_after ? r->retry_after * 1000L : MEMO_NO_RETRY_MS;
	size_t i, at = home(user);

	if (user <= 0)
		return;
	if (ms > MEMO_MAX_MS)
		ms = MEMO_MAX_MS;
	pthread_mutex_lock(&m->lock);
	if (!(e = find(m, user))) {
		/* a free or expired slot, else the one ending soonest */
		for (i = 0; i < PROBES; i++) {
			e = &m->e[(at + i) % MEMO_SLOTS];
			if (!e->user || e->until_ms <= now_ms) {
				victim = e;
				break;
			}
			if (!victim || e->until_ms < victim->until_ms)
				victim = e;
		}
		e = victim;
	}
	e->user = user;
	e->until_ms = now_ms + ms;
	e->retry_at_ms = now_ms + r->retry_after * 1000L;
	e->refusal = *r;
	pthread_mutex_unlock(&m->lock);
}

int refusal_memo_get(struct refusal_memo *m, long long user, long now_ms,
		     struct refusal *out)
{
	struct refusal_memo_entry *e;
	int found = 0;

	pthread_mutex_lock(&m->lock);
	if ((e = find(m, user)) && e->until_ms > now_ms) {
		*out = e->refusal;
		if (out->retry_after)	/* what is left of it, rounded up */
			out->retry_after = (unsigned)((e->retry_at_ms - now_ms + 999) / 1000);
		found = 1;
	}
	pthread_mutex_unlock(&m->lock);
	return found;
}

void refusal_memo_forget(struct refusal_memo *m, long long user)
{
	struct refusal_memo_entry *e;

	pthread_mutex_lock(&m->lock);
	if ((e = find(m, user)))
		e->user = 0;
	pthread_mutex_unlock(&m->lock);
}
