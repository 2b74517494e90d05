/*
 * refusal_memo.h - a player's last upload refusal, remembered for a
 * while, so that the player's next upload is refused at its headers.
 *
 * Why: an upload's rate limits and quotas are decided on its transfer
 * thread once the body flows (transfer.h), and libmicrohttpd 0.9.75
 * cannot answer mid-body: a refused body is drained for 2 MiB or 2 s
 * (http.h), so a large upload refused there usually sees its connection
 * closed, not the 429.  The retry that follows (a browser's, a player's)
 * is then refused from this memo before its body, and gets the answer:
 * with "Expect: 100-continue" before sending anything, and otherwise
 * because a declared body that large is answered at once.  The memo is
 * this instance's: through a load balancer a retry may land elsewhere and
 * be decided there as the first was.
 *
 * Invariants: at most MEMO_SLOTS players are remembered (an older entry
 * gives way); an entry lasts for its refusal's Retry-After, at most
 * MEMO_MAX_MS (MEMO_NO_RETRY_MS for a refusal without one: the total
 * quota, which a deletion through this instance forgets at once).
 * Thread-safe.
 */
#ifndef SC_REFUSAL_MEMO_H
#define SC_REFUSAL_MEMO_H

#include <pthread.h>

#include "rate_guard.h"

#define MEMO_SLOTS 4096
#define MEMO_MAX_MS (5 * 60 * 1000L)
#define MEMO_NO_RETRY_MS (60 * 1000L)

struct refusal_memo_entry {
	long long user;			/* 0: free */
	long until_ms;			/* remembered until (clock_ms()) */
	long retry_at_ms;		/* when its Retry-After ends */
	struct refusal refusal;
};

struct refusal_memo {
	pthread_mutex_t lock;
	struct refusal_memo_entry e[MEMO_SLOTS];
};

/* A new memo (its slots are touched as they are used), or NULL. */
struct refusal_memo *refusal_memo_new(void);
void refusal_memo_free(struct refusal_memo *m);

/* Remember r for user from now_ms (clock_ms()). */
void refusal_memo_put(struct refusal_memo *m, long long user,
		      const struct refusal *r, long now_ms);

/* user's refusal still in force at now_ms into *out, with Retry-After
 * counting down: 1; else 0. */
int refusal_memo_get(struct refusal_memo *m, long long user, long now_ms,
		     struct refusal *out);

/* Forget user's refusal (a video deleted frees room). */
void refusal_memo_forget(struct refusal_memo *m, long long user);

#endif
