/*
 * rate_guard.h - a request held to its rate limits (ratelimit.h), and the
 * refusal in the project's error shape:
 *
 *   429, Retry-After: 12
 *   {"error":"rate_limited","limit":"login_ip","message":"too many logins
 *    from this address (API_LIMIT_LOGIN_IP 30/m); try again in 12 s", ...}
 *
 * When Redis cannot be asked the route chooses (docs/operations.md, "Rate
 * limits and quotas"): LIMITS_FAIL_CLOSED refuses with 503 (signups and
 * votes: an outage must not open the contest to floods of accounts and
 * votes), and LIMITS_FAIL_OPEN lets the request through (logins and
 * uploads: players keep access; argon2 is bounded by the hashing pool,
 * uploads by their slots, per-player cap and quotas, none of which need
 * Redis).
 */
#ifndef SC_RATE_GUARD_H
#define SC_RATE_GUARD_H

#include "http.h"
#include "ratelimit.h"

enum limits_on_error { LIMITS_FAIL_OPEN, LIMITS_FAIL_CLOSED };

/* A refusal decided away from its request (an upload's transfer thread),
 * recorded into the request later by refusal_record(). */
struct refusal {
	unsigned status;
	unsigned retry_after;		/* seconds; 0: no Retry-After */
	const char *limit;		/* a rate limit's name, or NULL */
	char code[32];
	char message[256];
};

/*
 * Take one request from each of checks[0..n) (ratelimit_take) over rc.
 * 0: go on.  1: refused, and *out says how to answer.  what names the
 * requests in messages ("logins", "votes").
 */
int limits_decide(struct api *api, struct redisconn *rc,
		  const struct rl_check *checks, int n, const char *what,
		  enum limits_on_error on_error, struct refusal *out);

/* Record r in req (http_set_error, Retry-After, the limit's name): sent
 * by http_send_recorded(), or by the HTTP layer after the body. */
void refusal_record(struct request *req, const struct refusal *r);

/* limits_decide(), the refusal recorded in req: 1 refused, 0 go on. */
int limits_apply(struct api *api, struct request *req, struct redisconn *rc,
		 const struct rl_check *checks, int n, const char *what,
		 enum limits_on_error on_error);

#endif
