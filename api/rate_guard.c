/* rate_guard.c - a request's rate limits, answered (see rate_guard.h). */
#include "rate_guard.h"
#include "log.h"

/* "from this address" or "for this account", by the limit's kind. */
static const char *whose(enum rl_limit l)
{
	switch (l) {
	case RL_SIGNUP_IP: case RL_LOGIN_IP: case RL_VOTE_IP: case RL_UPLOAD_IP:
		return "from this address";
	default:
		return "for this account";
	}
}

int limits_apply(struct api *api, struct request *req, struct redisconn *rc,
		 const struct rl_check *checks, int n, const char *what,
		 enum limits_on_error on_error)
{
	struct ratelimit *rl = &api->limits;
	struct rl_verdict v;
	const struct rl_rate *rate;

	if (ratelimit_take(rl, rc, checks, n, &v)) {
		if (on_error == LIMITS_FAIL_OPEN) {
			log_warn("rate limits not checked (%s): %s let through",
				 redisconn_errstr(rc), what);
			return 0;
		}
		log_error("rate limits cannot be checked (%s): %s refused",
			  redisconn_errstr(rc), what);
		req->retry_after = 5;
		http_set_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
			       "the rate limiter is unavailable, so %s are not "
			       "taken now; try again shortly", what);
		return 1;
	}
	if (v.allowed)
		return 0;
	rate = &rl->rate[v.limit];
	req->retry_after = (unsigned)v.retry_after_s;
	req->err_limit = ratelimit_name(v.limit);
	if (v.limit == RL_LOGIN_FAILURES)
		http_set_error(req, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited",
			       "too many failed logins for this account "
			       "(more than API_LOGIN_FREE_FAILURES %d); try "
			       "again in %ld s", rl->free_failures,
			       v.retry_after_s);
	else
		http_set_error(req, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited",
			       "too many %s %s (%s %s); try again in %ld s",
			       what, whose(v.limit), rate->setting, rate->text,
			       v.retry_after_s);
	if (v.limit == RL_LOGIN_FAILURES)
		log_info("%s refused: the account's logins are locked after "
			 "failures, for %ld s more", what, v.retry_after_s);
	else
		log_info("%s refused: limit %s (%s %s), retry after %ld s", what,
			 ratelimit_name(v.limit), rate->setting, rate->text,
			 v.retry_after_s);
	return 1;
}
