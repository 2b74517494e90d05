/* ratelimit.c - GCRA rate limits in Redis (see ratelimit.h). */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "ratelimit.h"

#define KEY_PREFIX "showcase:rl:"
#define CHECKS_MAX 8
#define FAILURES_KEEP_MS 3600000LL	/* a failure is remembered an hour */
#define LOCK_FIRST_MS 1000LL

/*
 * KEYS[i] is one limit's key; ARGV[2i-1], ARGV[2i] its emission interval
 * T and tolerance tau in microseconds, or "lock" and "" for a login lock
 * (a hash whose "until" ends it).  Replies {1, 0, 0} when every limit
 * lets the request through (and then advances each TAT), else {0, i,
 * wait_us} for the limit i that makes it wait longest.
 */
static struct redis_script take_script = REDIS_SCRIPT_INIT(
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
	"local wait, which, tat = 0, 0, {}\n"
	"for i = 1, #KEYS do\n"
	"  if ARGV[2 * i - 1] == 'lock' then\n"
	"    local u = tonumber(redis.call('HGET', KEYS[i], 'until') or 0)\n"
	"    if u - now > wait then wait, which = u - now, i end\n"
	"  else\n"
	"    local T, tau = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])\n"
	"    local v = math.max(tonumber(redis.call('GET', KEYS[i]) or 0), now)\n"
	"    local w = v + T - tau - now\n"
	"    if w > wait then wait, which = w, i end\n"
	"    tat[i] = v + T\n"
	"  end\n"
	"end\n"
	"if which > 0 then return {0, which, wait} end\n"
	"for i, v in pairs(tat) do\n"
	"  redis.call('SET', KEYS[i], string.format('%d', v), 'PX',\n"
	"             math.ceil((v - now) / 1000))\n"
	"end\n"
	"return {1, 0, 0}\n");

/*
 * KEYS[1] an account's failures; ARGV: free failures, the first lock,
 * the longest lock and how long a failure is remembered (ms).  Replies
 * the lock now in force, in ms.
 */
static struct redis_script fail_script = REDIS_SCRIPT_INIT(
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
	"local free, first, max, keep = tonumber(ARGV[1]), tonumber(ARGV[2]),\n"
	"  tonumber(ARGV[3]), tonumber(ARGV[4])\n"
	"local n = redis.call('HINCRBY', KEYS[1], 'n', 1)\n"
	"local lock = 0\n"
	"if n > free then\n"
	"  lock = math.min(first * 2 ^ math.min(n - free - 1, 40), max)\n"
	"  redis.call('HSET', KEYS[1], 'until', string.format('%d', now + lock * 1000))\n"
	"end\n"
	"redis.call('PEXPIRE', KEYS[1], math.max(keep, lock))\n"
	"return lock\n");

static const struct {
	const char *name;
	const char *setting;
	size_t offset;		/* of the rate's text in struct config */
} limits[RL__COUNT] = {
	[RL_SIGNUP_IP] = { "signup_ip", "API_LIMIT_SIGNUP_IP",
			   offsetof(struct config, api_limit_signup_ip) },
	[RL_LOGIN_IP] = { "login_ip", "API_LIMIT_LOGIN_IP",
			  offsetof(struct config, api_limit_login_ip) },
	[RL_LOGIN_ACCOUNT] = { "login_account", "API_LIMIT_LOGIN_ACCOUNT",
			       offsetof(struct config, api_limit_login_account) },
	[RL_LOGIN_FAILURES] = { "login_failures", "API_LOGIN_FREE_FAILURES", 0 },
	[RL_VOTE_IP] = { "vote_ip", "API_LIMIT_VOTE_IP",
			 offsetof(struct config, api_limit_vote_ip) },
	[RL_VOTE_ACCOUNT] = { "vote_account", "API_LIMIT_VOTE_ACCOUNT",
			      offsetof(struct config, api_limit_vote_account) },
	[RL_UPLOAD_IP] = { "upload_ip", "API_LIMIT_UPLOAD_IP",
			   offsetof(struct config, api_limit_upload_ip) },
	[RL_UPLOAD_ACCOUNT] = { "upload_account", "API_LIMIT_UPLOAD_ACCOUNT",
				offsetof(struct config, api_limit_upload_account) },
};

void ratelimit_init(struct ratelimit *rl, const struct config *c)
{
	int i;

	memset(rl, 0, sizeof(*rl));
	rl->on = c->api_rate_limits;
	rl->free_failures = c->api_login_free_failures;
	rl->backoff_max_s = c->api_login_backoff_max_s;
	for (i = 0; i < RL__COUNT; i++) {
		struct rl_rate *r = &rl->rate[i];

		r->setting = limits[i].setting;
		if (i == RL_LOGIN_FAILURES) {
			r->count = 1;	/* always on with the rest */
			r->text = "";
			continue;
		}
		r->text = *(char *const *)((const char *)c + limits[i].offset);
		if (config_parse_rate(r->text, &r->count, &r->period_ms))
			r->count = 0;	/* config_load checked it */
	}
}

const char *ratelimit_name(enum rl_limit l)
{
	return l >= 0 && l < RL__COUNT ? limits[l].name : "unknown";
}

static void key_of(char *out, size_t cap, enum rl_limit l, const char *subject)
{
	snprintf(out, cap, KEY_PREFIX "%s:%s", limits[l].name, subject);
}

enum sc_err ratelimit_take(struct ratelimit *rl, struct redisconn *rc,
			   const struct rl_check *checks, int n,
			   struct rl_verdict *v)
{
	char keys[CHECKS_MAX][200], args[CHECKS_MAX][2][24];
	const char *argv[CHECKS_MAX * 3];
	enum rl_limit which[CHECKS_MAX];
	redisReply *r;
	enum sc_err err;
	int i, k = 0;

	memset(v, 0, sizeof(*v));
	v->allowed = 1;
	if (!rl->on)
		return SC_OK;
	if (n > CHECKS_MAX)
		return SC_ERR_INVALID;
	for (i = 0; i < n; i++) {
		const struct rl_rate *rate = &rl->rate[checks[i].limit];
		long long t_us;

		if (!rate->count)
			continue;
		which[k] = checks[i].limit;
		key_of(keys[k], sizeof(keys[k]), checks[i].limit, checks[i].subject);
		if (checks[i].limit == RL_LOGIN_FAILURES) {
			snprintf(args[k][0], sizeof(args[k][0]), "lock");
			args[k][1][0] = '\0';
		} else {
			t_us = rate->period_ms * 1000 / rate->count;
			snprintf(args[k][0], sizeof(args[k][0]), "%lld", t_us);
			snprintf(args[k][1], sizeof(args[k][1]), "%lld",
				 t_us * rate->count);
		}
		k++;
	}
	if (!k)
		return SC_OK;
	for (i = 0; i < k; i++) {
		argv[i] = keys[i];
		argv[k + 2 * i] = args[i][0];
		argv[k + 2 * i + 1] = args[i][1];
	}
	if ((err = redisconn_eval(rc, &take_script, &r, k, 2 * k, argv))) {
		atomic_fetch_add(&rl->errors, 1);
		return err;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER ||
	    r->element[2]->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r);
		atomic_fetch_add(&rl->errors, 1);
		return SC_ERR_REDIS;
	}
	if (!r->element[0]->integer) {
		long long i1 = r->element[1]->integer, wait = r->element[2]->integer;

		v->allowed = 0;
		v->limit = i1 >= 1 && i1 <= k ? which[i1 - 1] : checks[0].limit;
		v->retry_after_s = (long)((wait + 999999) / 1000000);
		if (v->retry_after_s < 1)
			v->retry_after_s = 1;
		atomic_fetch_add(&rl->refused[v->limit], 1);
	}
	freeReplyObject(r);
	return SC_OK;
}

enum sc_err ratelimit_login_failed(struct ratelimit *rl, struct redisconn *rc,
				   const char *subject, long *lock_ms)
{
	char key[200], a[4][24];
	const char *argv[] = { key, a[0], a[1], a[2], a[3] };
	redisReply *r;
	enum sc_err err;

	*lock_ms = 0;
	if (!rl->on)
		return SC_OK;
	key_of(key, sizeof(key), RL_LOGIN_FAILURES, subject);
	snprintf(a[0], sizeof(a[0]), "%d", rl->free_failures);
	snprintf(a[1], sizeof(a[1]), "%lld", LOCK_FIRST_MS);
	snprintf(a[2], sizeof(a[2]), "%lld", rl->backoff_max_s * 1000LL);
	snprintf(a[3], sizeof(a[3]), "%lld", FAILURES_KEEP_MS);
	if ((err = redisconn_eval(rc, &fail_script, &r, 1, 4, argv))) {
		atomic_fetch_add(&rl->errors, 1);
		return err;
	}
	if (r->type == REDIS_REPLY_INTEGER)
		*lock_ms = (long)r->integer;
	freeReplyObject(r);
	return SC_OK;
}

enum sc_err ratelimit_login_ok(struct ratelimit *rl, struct redisconn *rc,
			       const char *subject)
{
	char key[200];
	const char *argv[] = { "DEL", key };
	redisReply *r;
	enum sc_err err;

	if (!rl->on)
		return SC_OK;
	key_of(key, sizeof(key), RL_LOGIN_FAILURES, subject);
	if ((err = redisconn_command(rc, &r, 2, argv, NULL))) {
		atomic_fetch_add(&rl->errors, 1);
		return err;
	}
	freeReplyObject(r);
	return SC_OK;
}
