/* rate_guard.c - a request's rate limits, answered (see rate_guard.h). */
#include <stdio.h>

#include "log.h"
#include "rate_guard.h"

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

int limits_decide(struct api *api, struct redisconn *rc,
		  const struct rl_check *checks, int n, const char *what,
		  enum limits_on_error on_error, struct refusal *out)
{
	struct ratelimit *rl = &api->limits;
	const struct rl_rate *rate;
	struct rl_verdict v;

	if (ratelimit_take(rl, rc, checks, n, &v)) {
		if (on_error == LIMITS_FAIL_OPEN) {
			log_warn("rate limits not checked (%s): %s let through",
				 redisconn_errstr(rc), what);
			return 0;
		}
		log_error("rate limits cannot be checked (%s): %s refused",
			  redisconn_errstr(rc), what);
		*out = (struct refusal){ MHD_HTTP_SERVICE_UNAVAILABLE, 5, NULL,
					 "unavailable", "" };
		snprintf(out->message, sizeof(out->message),
			 "the rate limiter is unavailable, so %s are not taken "
			 "now; try again shortly", what);
		return 1;
	}
	if (v.allowed)
		return 0;
	rate = &rl->rate[v.limit];
	*out = (struct refusal){ MHD_HTTP_TOO_MANY_REQUESTS,
				 (unsigned)v.retry_after_s,
				 ratelimit_name(v.limit), "rate_limited", "" };
	if (v.limit == RL_LOGIN_FAILURES) {
		snprintf(out->message, sizeof(out->message),
			 "too many failed logins for this account (more than "
			 "API_LOGIN_FREE_FAILURES %d); try again in %ld s",
			 rl->free_failures, v.retry_after_s);
		log_info("%s refused: the account's logins are locked after "
			 "failures, for %ld s more", what, v.retry_after_s);
	} else {
		snprintf(out->message, sizeof(out->message),
			 "too many %s %s (%s %s); try again in %ld s", what,
			 whose(v.limit), rate->setting, rate->text,
			 v.retry_after_s);
		log_info("%s refused: limit %s (%s %s), retry after %ld s", what,
			 ratelimit_name(v.limit), rate->setting, rate->text,
			 v.retry_after_s);
	}
	return 1;
}

void refusal_record(struct request *req, const struct refusal *r)
{
	if (req->err_status)
		return;	/* the first error stands (http_set_error) */
	req->retry_after = r->retry_after;
	req->err_limit = r->limit;
	http_set_error(req, r->status, r->code, "%s", r->message);
}

int limits_apply(struct api *api, struct request *req, struct redisconn *rc,
		 const struct rl_check *checks, int n, const char *what,
		 enum limits_on_error on_error)
{
	struct refusal r;

	if (!limits_decide(api, rc, checks, n, what, on_error, &r))
		return 0;
	refusal_record(req, &r);
	return 1;
}
