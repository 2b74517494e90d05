/*
 * rate_guard.h - a request held to its rate limits (ratelimit.h), and the
 * refusal recorded in the project's error shape:
 *
 *   429, Retry-After: 12
 *   {"error":"rate_limited","limit":"login_ip","message":"too many logins
 *    from this address (API_LIMIT_LOGIN_IP 30/m); try again in 12 s", ...}
 *
 * When Redis cannot be asked the route chooses (docs/operations.md, "Rate
 * limits"): LIMITS_FAIL_CLOSED refuses with 503 (signups and votes: an
 * outage must not open the contest to floods of accounts and votes, and
 * neither works without Redis's rankings cache long anyway), and
 * LIMITS_FAIL_OPEN lets the request through (logins and uploads: players
 * keep access; argon2 is bounded by the hashing pool, uploads by their
 * slots, per-player cap and quotas, none of which need Redis).
 */
#ifndef SC_RATE_GUARD_H
#define SC_RATE_GUARD_H

#include "http.h"
#include "ratelimit.h"

enum limits_on_error { LIMITS_FAIL_OPEN, LIMITS_FAIL_CLOSED };

/*
 * Take one request from each of checks[0..n) (ratelimit_take) over rc.
 * 0: go on.  1: refused, the error recorded in req (http_set_error,
 * Retry-After, the limit's name): send it with http_send_recorded(), or
 * let the HTTP layer send it after the body.  what names the request in
 * messages ("logins", "votes").
 */
int limits_apply(struct api *api, struct request *req, struct redisconn *rc,
		 const struct rl_check *checks, int n, const char *what,
		 enum limits_on_error on_error);

#endif
