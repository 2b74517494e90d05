/*
 * ratelimit.h - the API's rate limits, shared by every instance through
 * Redis.
 *
 * Each limit is a rate "N per period" enforced with the generic cell rate
 * algorithm (GCRA: ITU-T Recommendation I.371, the leaky bucket as a
 * virtual scheduling algorithm): a key holds the theoretical arrival time
 * (TAT) of the subject's next request; a request is let through when
 * TAT - now <= tau, with emission interval T = period / N and tolerance
 * tau = N * T, so N requests pass at once and then one every T.  Time is
 * Redis's (TIME), in microseconds, so API instances with skewed clocks
 * agree.  One Lua script checks every limit of a request and, only if
 * all let it through, advances them all: a refused request costs nothing.
 *
 * Login failures lock an account's logins for a time that doubles with
 * each failure past API_LOGIN_FREE_FAILURES (1 s, 2 s, 4 s, ... up to
 * API_LOGIN_BACKOFF_MAX_S); a login that succeeds clears them.
 *
 * Keys (docs/operations.md has redis-cli recipes):
 *   showcase:rl:<limit>:<subject>   a string, the TAT in microseconds;
 *                                   expires when the bucket is full again
 *   showcase:rl:login_failures:<subject>
 *                                   a hash {n, until}; kept an hour after
 *                                   the last failure (or the lock, if longer)
 * where subject is a client's network (cidr_network), an account id, or
 * for logins a keyed hash of the email asked for (fingerprint.h), so no
 * email is kept in Redis.
 *
 * Thread-safety: a struct ratelimit is read-only once made, but for its
 * counters (atomic); each call takes the caller's Redis connection.
 */
#ifndef SC_RATELIMIT_H
#define SC_RATELIMIT_H

#include <stdatomic.h>

#include "config.h"
#include "error.h"
#include "redisconn.h"

enum rl_limit {
	RL_SIGNUP_IP,
	RL_LOGIN_IP,
	RL_LOGIN_ACCOUNT,
	RL_LOGIN_FAILURES,	/* the lock after failures, not a rate */
	RL_VOTE_IP,
	RL_VOTE_ACCOUNT,
	RL_UPLOAD_IP,
	RL_UPLOAD_ACCOUNT,
	RL__COUNT
};

struct rl_rate {
	long count;			/* 0: this limit is off */
	long long period_ms;
	const char *setting;		/* its variable, for messages */
	const char *text;		/* as configured: "30/m" */
};

struct ratelimit {
	int on;				/* API_RATE_LIMITS */
	struct rl_rate rate[RL__COUNT];
	int free_failures;
	int backoff_max_s;
	atomic_llong refused[RL__COUNT];	/* for /metrics */
	atomic_llong errors;		/* Redis could not be asked */
};

/* One limit of a request: which, and whose (a string without spaces). */
struct rl_check {
	enum rl_limit limit;
	const char *subject;
};

struct rl_verdict {
	int allowed;
	enum rl_limit limit;		/* refused: the first limit that did */
	long retry_after_s;		/* refused: >= 1 */
};

/* From the configuration (already checked by config_load). */
void ratelimit_init(struct ratelimit *rl, const struct config *c);

/* The limit's name in answers and metrics: "login_ip". */
const char *ratelimit_name(enum rl_limit l);

/*
 * Check and take one request against each of checks[0..n) at once (off
 * limits are skipped; with every limit off, or rl->on 0, Redis is not
 * asked).  SC_OK with *v the verdict; SC_ERR_REDIS (counted in errors)
 * when Redis could not answer, and then the caller chooses to let the
 * request through or not.  n <= 8.
 */
enum sc_err ratelimit_take(struct ratelimit *rl, struct redisconn *rc,
			   const struct rl_check *checks, int n,
			   struct rl_verdict *v);

/*
 * A login for subject failed: count it, and lock the account's logins
 * past the free failures.  *lock_ms gets the lock now in force (0: none).
 */
enum sc_err ratelimit_login_failed(struct ratelimit *rl, struct redisconn *rc,
				   const char *subject, long *lock_ms);

/* A login for subject succeeded: its failures are forgotten. */
enum sc_err ratelimit_login_ok(struct ratelimit *rl, struct redisconn *rc,
			       const char *subject);

#endif
