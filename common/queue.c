/*
 * queue.c - the job queue's state changes, one Lua script each.
 *
 * Every script shares one prelude: the server's clock in milliseconds, the
 * fencing check (the job's token equals the caller's and is not empty) and
 * the dead set's cap.  Scripts are loaded with SCRIPT LOAD on first use and
 * run with EVALSHA; after NOSCRIPT (Redis restarted or flushed its script
 * cache) they are loaded again and the call is retried once.  Replies are
 * flat arrays or integers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "queue.h"

#define PRELUDE \
	"local function now_ms()\n" \
	"  local t = redis.call('TIME')\n" \
	"  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n" \
	"end\n" \
	"local function owned(job, token)\n" \
	"  return token ~= '' and redis.call('HGET', job, 'token') == token\n" \
	"end\n" \
	"local function note(job, now, event)\n" \
	"  redis.call('RPUSH', job .. ':history', now .. ' ' .. event)\n" \
	"  redis.call('LTRIM', job .. ':history', -20, -1)\n" \
	"end\n" \
	"local function forget(job)\n" \
	"  redis.call('DEL', job, job .. ':history')\n" \
	"end\n" \
	"local function trim_dead(dead, prefix, max, max_age_ms, now)\n" \
	"  local old = redis.call('ZRANGEBYSCORE', dead, '-inf', now - max_age_ms)\n" \
	"  local n = redis.call('ZCARD', dead) - max\n" \
	"  if n > 0 then\n" \
	"    for _, id in ipairs(redis.call('ZRANGE', dead, 0, n - 1)) do\n" \
	"      table.insert(old, id)\n" \
	"    end\n" \
	"  end\n" \
	"  for _, id in ipairs(old) do\n" \
	"    forget(prefix .. 'job:' .. id)\n" \
	"    redis.call('ZREM', dead, id)\n" \
	"  end\n" \
	"end\n"

enum script { S_ENQUEUE, S_LEASE, S_EXTEND, S_COMPLETE, S_FAIL, S_REQUEUE,
	      S_PROMOTE, S_REAP, S_RETRY_DEAD, S_FORGET_DEAD, S_OLDEST, S__COUNT };

/* KEYS and ARGV are listed above each body; ARGV[1] is always the prefix. */
static const char *const bodies[S__COUNT] = {
	/* KEYS pending; ARGV prefix id -> 1 queued, 0 exists */
	[S_ENQUEUE] =
	"local job = ARGV[1] .. 'job:' .. ARGV[2]\n"
	"if redis.call('EXISTS', job) == 1 then return 0 end\n"
	"local now = now_ms()\n"
	"redis.call('HSET', job, 'video_id', ARGV[2], 'state', 'pending',\n"
	"  'attempt', 0, 'crashes', 0, 'token', '', 'worker', '', 'progress', 0,\n"
	"  'last_error', '', 'created_at', now, 'updated_at', now)\n"
	"redis.call('DEL', job .. ':history')\n"
	"note(job, now, 'queued')\n"
	"redis.call('RPUSH', KEYS[1], ARGV[2])\n"
	"return 1\n",

	/* KEYS pending lease; ARGV prefix worker lease_ms token
	 * -> {id, video_id, attempt, crashes} or nil */
	[S_LEASE] =
	"for _ = 1, 100 do\n"
	"  local id = redis.call('LPOP', KEYS[1])\n"
	"  if not id then return false end\n"
	"  local job = ARGV[1] .. 'job:' .. id\n"
	"  if redis.call('EXISTS', job) == 1 then\n"
	"    local now = now_ms()\n"
	"    local attempt = redis.call('HINCRBY', job, 'attempt', 1)\n"
	"    redis.call('HSET', job, 'state', 'active', 'token', ARGV[4],\n"
	"      'worker', ARGV[2], 'progress', 0, 'updated_at', now)\n"
	"    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), id)\n"
	"    note(job, now, 'leased by ' .. ARGV[2] .. ', attempt ' .. attempt)\n"
	"    local f = redis.call('HMGET', job, 'video_id', 'crashes')\n"
	"    return {id, f[1], attempt, tonumber(f[2])}\n"
	"  end\n"
	"end\n"
	"return false\n",

	/* KEYS lease; ARGV prefix id token lease_ms progress -> 1 or 0 */
	[S_EXTEND] =
	"local job = ARGV[1] .. 'job:' .. ARGV[2]\n"
	"if not owned(job, ARGV[3]) or not redis.call('ZSCORE', KEYS[1], ARGV[2]) then\n"
	"  return 0\n"
	"end\n"
	"local now = now_ms()\n"
	"redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[4]), ARGV[2])\n"
	"redis.call('HSET', job, 'progress', ARGV[5], 'updated_at', now)\n"
	"return 1\n",

	/* KEYS lease; ARGV prefix id token -> 1 or 0 */
	[S_COMPLETE] =
	"local job = ARGV[1] .. 'job:' .. ARGV[2]\n"
	"if not owned(job, ARGV[3]) then return 0 end\n"
	"redis.call('ZREM', KEYS[1], ARGV[2])\n"
	"forget(job)\n"
	"return 1\n",

	/* KEYS lease scheduled dead; ARGV prefix id token permanent error
	 * max_attempts base_ms cap_ms jitter(0..1000) dead_max dead_max_age_ms
	 * -> 0 ended, 1 scheduled, 2 dead, -1 not owned */
	[S_FAIL] =
	"local job = ARGV[1] .. 'job:' .. ARGV[2]\n"
	"if not owned(job, ARGV[3]) then return -1 end\n"
	"local now = now_ms()\n"
	"redis.call('ZREM', KEYS[1], ARGV[2])\n"
	"if ARGV[4] == '1' then forget(job) return 0 end\n"
	"local attempt = tonumber(redis.call('HGET', job, 'attempt'))\n"
	"redis.call('HSET', job, 'token', '', 'worker', '', 'last_error', ARGV[5],\n"
	"  'updated_at', now)\n"
	"if attempt >= tonumber(ARGV[6]) then\n"
	"  redis.call('HSET', job, 'state', 'dead')\n"
	"  note(job, now, 'dead: ' .. ARGV[5])\n"
	"  redis.call('ZADD', KEYS[3], now, ARGV[2])\n"
	"  trim_dead(KEYS[3], ARGV[1], tonumber(ARGV[10]), tonumber(ARGV[11]), now)\n"
	"  return 2\n"
	"end\n"
	"local delay = math.min(tonumber(ARGV[8]), tonumber(ARGV[7]) * 2 ^ (attempt - 1))\n"
	"delay = math.floor(delay * (1000 + tonumber(ARGV[9])) / 2000)\n"
	"redis.call('HSET', job, 'state', 'scheduled')\n"
	"note(job, now, 'failed: ' .. ARGV[5] .. '; retry in ' .. delay .. ' ms')\n"
	"redis.call('ZADD', KEYS[2], now + delay, ARGV[2])\n"
	"return 1\n",

	/* KEYS lease pending; ARGV prefix id token -> 1 or 0 */
	[S_REQUEUE] =
	"local job = ARGV[1] .. 'job:' .. ARGV[2]\n"
	"if not owned(job, ARGV[3]) then return 0 end\n"
	"redis.call('ZREM', KEYS[1], ARGV[2])\n"
	"redis.call('HINCRBY', job, 'attempt', -1)\n"
	"local now = now_ms()\n"
	"redis.call('HSET', job, 'state', 'pending', 'token', '', 'worker', '',\n"
	"  'updated_at', now)\n"
	"note(job, now, 'handed back (worker stopping)')\n"
	"redis.call('LPUSH', KEYS[2], ARGV[2])\n"
	"return 1\n",

	/* KEYS scheduled pending; ARGV prefix limit -> moved */
	[S_PROMOTE] =
	"local now = now_ms()\n"
	"local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0,\n"
	"  tonumber(ARGV[2]))\n"
	"for _, id in ipairs(due) do\n"
	"  redis.call('ZREM', KEYS[1], id)\n"
	"  redis.call('HSET', ARGV[1] .. 'job:' .. id, 'state', 'pending',\n"
	"    'updated_at', now)\n"
	"  note(ARGV[1] .. 'job:' .. id, now, 'due: back in pending')\n"
	"  redis.call('RPUSH', KEYS[2], id)\n"
	"end\n"
	"return #due\n",

	/* KEYS lease pending dead; ARGV prefix max_crashes limit dead_max
	 * dead_max_age_ms -> {requeued, dead, id, last_error, id, ...} with
	 * the id and error of each job it dead-lettered */
	[S_REAP] =
	"local now = now_ms()\n"
	"local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT',\n"
	"  0, tonumber(ARGV[3]))\n"
	"local out = {0, 0}\n"
	"for _, id in ipairs(expired) do\n"
	"  local job = ARGV[1] .. 'job:' .. id\n"
	"  redis.call('ZREM', KEYS[1], id)\n"
	"  local crashes = redis.call('HINCRBY', job, 'crashes', 1)\n"
	"  local why = 'worker_lost: the lease expired ' .. crashes ..\n"
	"    ' time(s): its worker stopped renewing it (killed, out of memory' ..\n"
	"    ' or its host lost)'\n"
	"  redis.call('HSET', job, 'token', '', 'worker', '', 'last_error', why,\n"
	"    'updated_at', now)\n"
	"  if crashes >= tonumber(ARGV[2]) then\n"
	"    redis.call('HSET', job, 'state', 'dead')\n"
	"    note(job, now, 'lease expired, crash ' .. crashes .. ': dead')\n"
	"    redis.call('ZADD', KEYS[3], now, id)\n"
	"    out[2] = out[2] + 1\n"
	"    table.insert(out, id)\n"
	"    table.insert(out, why)\n"
	"  else\n"
	"    redis.call('HSET', job, 'state', 'pending')\n"
	"    note(job, now, 'lease expired, crash ' .. crashes .. ': back at the head')\n"
	"    redis.call('LPUSH', KEYS[2], id)\n"
	"    out[1] = out[1] + 1\n"
	"  end\n"
	"end\n"
	"trim_dead(KEYS[3], ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5]), now)\n"
	"return out\n",

	/* KEYS dead pending; ARGV prefix id -> 1 or 0 */
	[S_RETRY_DEAD] =
	"if redis.call('ZREM', KEYS[1], ARGV[2]) == 0 then return 0 end\n"
	"local now = now_ms()\n"
	"redis.call('HSET', ARGV[1] .. 'job:' .. ARGV[2], 'state', 'pending',\n"
	"  'attempt', 0, 'crashes', 0, 'token', '', 'worker', '',\n"
	"  'updated_at', now)\n"
	"note(ARGV[1] .. 'job:' .. ARGV[2], now, 'retried by an admin')\n"
	"redis.call('RPUSH', KEYS[2], ARGV[2])\n"
	"return 1\n",

	/* KEYS dead; ARGV prefix id -> 1 forgotten, 0 not dead */
	[S_FORGET_DEAD] =
	"if redis.call('ZREM', KEYS[1], ARGV[2]) == 0 then return 0 end\n"
	"forget(ARGV[1] .. 'job:' .. ARGV[2])\n"
	"return 1\n",

	/* KEYS pending; ARGV prefix -> age of the head job in ms, or -1 */
	[S_OLDEST] =
	"local id = redis.call('LINDEX', KEYS[1], 0)\n"
	"if not id then return -1 end\n"
	"local u = redis.call('HGET', ARGV[1] .. 'job:' .. id, 'updated_at')\n"
	"if not u then return -1 end\n"
	"return now_ms() - tonumber(u)\n",
};

/* at most this many jobs per promote or reap call */
#define BATCH 100

enum { K_PENDING, K_LEASE, K_SCHEDULED, K_DEAD, K__COUNT };

struct queue {
	struct redisconn *rc;
	char *prefix;
	char *keys[K__COUNT];
	char sha[S__COUNT][41];		/* "" until loaded */
	int dead_max;
	long long dead_max_age_ms;
};

static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

enum sc_err queue_new(struct redisconn *rc, const char *prefix,
		      struct queue **out)
{
	static const char *const names[K__COUNT] = { "pending", "lease",
						     "scheduled", "dead" };
	struct queue *q;
	int i;

	*out = NULL;
	if (sodium_init() < 0)
		return SC_ERR_NOMEM;
	q = calloc(1, sizeof(*q));
	if (!q)
		return SC_ERR_NOMEM;
	q->rc = rc;
	q->dead_max = QUEUE_DEAD_MAX;
	q->dead_max_age_ms = QUEUE_DEAD_MAX_AGE_MS;
	q->prefix = strdup(prefix);
	if (!q->prefix)
		goto out_nomem;
	for (i = 0; i < K__COUNT; i++) {
		q->keys[i] = concat(prefix, names[i]);
		if (!q->keys[i])
			goto out_nomem;
	}
	*out = q;
	return SC_OK;
out_nomem:
	queue_free(q);
	return SC_ERR_NOMEM;
}

void queue_set_dead_limits(struct queue *q, int max, long long max_age_ms)
{
	q->dead_max = max;
	q->dead_max_age_ms = max_age_ms;
}

void queue_free(struct queue *q)
{
	int i;

	if (!q)
		return;
	for (i = 0; i < K__COUNT; i++)
		free(q->keys[i]);
	free(q->prefix);
	free(q);
}

static enum sc_err load(struct queue *q, enum script s)
{
	struct buf body = BUF_INIT(16384);
	const char *argv[3] = { "SCRIPT", "LOAD", NULL };
	redisReply *r = NULL;
	enum sc_err rc;

	if ((rc = buf_appends(&body, PRELUDE)) || (rc = buf_appends(&body, bodies[s])))
		goto out;
	argv[2] = body.data;
	rc = redisconn_command(q->rc, &r, 3, argv, NULL);
	if (rc)
		goto out;
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		rc = SC_ERR_REDIS;
		goto out;
	}
	memcpy(q->sha[s], r->str, 40);
	q->sha[s][40] = '\0';
out:
	if (r)
		freeReplyObject(r);
	buf_release(&body);
	return rc;
}

/*
 * EVALSHA script s with nkeys of q's keys (by index) and the arguments
 * after the prefix; the caller frees *reply.
 */
static enum sc_err run(struct queue *q, enum script s, redisReply **reply,
		       int nkeys, const int *keys, int nargs, const char **args)
{
	const char *argv[3 + K__COUNT + 1 + 12];
	char nk[16];
	int argc = 0, i, tries;
	enum sc_err rc = SC_ERR_REDIS;

	*reply = NULL;
	if (nkeys > K__COUNT || nargs > 12)
		return SC_ERR_INVALID;
	for (tries = 0; tries < 2; tries++) {
		if (!q->sha[s][0] && (rc = load(q, s)))
			return rc;
		snprintf(nk, sizeof(nk), "%d", nkeys);
		argc = 0;
		argv[argc++] = "EVALSHA";
		argv[argc++] = q->sha[s];
		argv[argc++] = nk;
		for (i = 0; i < nkeys; i++)
			argv[argc++] = q->keys[keys[i]];
		argv[argc++] = q->prefix;
		for (i = 0; i < nargs; i++)
			argv[argc++] = args[i];
		rc = redisconn_command(q->rc, reply, argc, argv, NULL);
		if (rc == SC_ERR_REDIS &&
		    strstr(redisconn_errstr(q->rc), "NOSCRIPT")) {
			q->sha[s][0] = '\0';	/* Redis forgot it: load again */
			continue;
		}
		return rc;
	}
	return rc;
}

/* The integer a command replied (rc its outcome); frees the reply. */
static enum sc_err take_int(enum sc_err rc, redisReply *r, long long *out)
{
	if (rc)
		return rc;
	if (r->type != REDIS_REPLY_INTEGER)
		rc = SC_ERR_REDIS;
	else
		*out = r->integer;
	freeReplyObject(r);
	return rc;
}

/* Run a script whose reply is one integer. */
static enum sc_err run_int(struct queue *q, enum script s, long long *out,
			   int nkeys, const int *keys, int nargs, const char **args)
{
	redisReply *r = NULL;
	enum sc_err rc = run(q, s, &r, nkeys, keys, nargs, args);

	return take_int(rc, r, out);
}

static int valid_id(const char *id)
{
	size_t n = strlen(id), i;

	if (n == 0 || n > QUEUE_ID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

enum sc_err queue_enqueue(struct queue *q, const char *video_id, int *created)
{
	static const int keys[] = { K_PENDING };
	const char *args[] = { video_id };
	long long v;
	enum sc_err rc;

	if (!valid_id(video_id))
		return SC_ERR_INVALID;
	rc = run_int(q, S_ENQUEUE, &v, 1, keys, 1, args);
	if (!rc && created)
		*created = v == 1;
	return rc;
}

static int copy_str(char *dst, size_t cap, const redisReply *r)
{
	if (r->type != REDIS_REPLY_STRING || r->len >= cap)
		return -1;
	memcpy(dst, r->str, r->len);
	dst[r->len] = '\0';
	return 0;
}

enum sc_err queue_lease(struct queue *q, const char *worker, int lease_ms,
			struct queue_job *job, int *got)
{
	static const int keys[] = { K_PENDING, K_LEASE };
	unsigned char raw[QUEUE_TOKEN_LEN / 2];
	char ms[16];
	const char *args[3];
	redisReply *r;
	enum sc_err rc;

	*got = 0;
	memset(job, 0, sizeof(*job));
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(job->token, sizeof(job->token), raw, sizeof(raw));
	snprintf(ms, sizeof(ms), "%d", lease_ms);
	args[0] = worker;
	args[1] = ms;
	args[2] = job->token;
	if ((rc = run(q, S_LEASE, &r, 2, keys, 3, args)))
		return rc;
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return SC_OK;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 4 ||
	    copy_str(job->id, sizeof(job->id), r->element[0]) ||
	    copy_str(job->video_id, sizeof(job->video_id), r->element[1]) ||
	    r->element[2]->type != REDIS_REPLY_INTEGER ||
	    r->element[3]->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r);
		return SC_ERR_REDIS;
	}
	job->attempt = (int)r->element[2]->integer;
	job->crashes = (int)r->element[3]->integer;
	freeReplyObject(r);
	*got = 1;
	return SC_OK;
}

/* Run a fenced script: its 1 is SC_OK, its 0 SC_ERR_CONFLICT. */
static enum sc_err run_fenced(struct queue *q, enum script s, int nkeys,
			      const int *keys, int nargs, const char **args)
{
	long long v = 0;
	enum sc_err rc = run_int(q, s, &v, nkeys, keys, nargs, args);

	if (rc)
		return rc;
	return v == 1 ? SC_OK : SC_ERR_CONFLICT;
}

enum sc_err queue_extend(struct queue *q, const struct queue_job *job,
			 int lease_ms, int progress)
{
	static const int keys[] = { K_LEASE };
	char ms[16], pct[16];
	const char *args[] = { job->id, job->token, ms, pct };

	snprintf(ms, sizeof(ms), "%d", lease_ms);
	snprintf(pct, sizeof(pct), "%d", progress < 0 ? 0 : progress > 100 ? 100 : progress);
	return run_fenced(q, S_EXTEND, 1, keys, 4, args);
}

enum sc_err queue_complete(struct queue *q, const struct queue_job *job)
{
	static const int keys[] = { K_LEASE };
	const char *args[] = { job->id, job->token };

	return run_fenced(q, S_COMPLETE, 1, keys, 2, args);
}

enum sc_err queue_fail(struct queue *q, const struct queue_job *job,
		       int permanent, const char *error,
		       const struct queue_retry *policy, int *dead)
{
	static const int keys[] = { K_LEASE, K_SCHEDULED, K_DEAD };
	char max[16], base[16], cap[16], jitter[16], dmax[16], dage[24];
	const char *args[] = { job->id, job->token, permanent ? "1" : "0", error,
			       max, base, cap, jitter, dmax, dage };
	long long v = 0;
	enum sc_err rc;

	snprintf(max, sizeof(max), "%d", policy->max_attempts);
	snprintf(base, sizeof(base), "%d", policy->base_ms);
	snprintf(cap, sizeof(cap), "%d", policy->cap_ms);
	snprintf(jitter, sizeof(jitter), "%u", (unsigned)randombytes_uniform(1001));
	snprintf(dmax, sizeof(dmax), "%d", q->dead_max);
	snprintf(dage, sizeof(dage), "%lld", q->dead_max_age_ms);
	rc = run_int(q, S_FAIL, &v, 3, keys, 10, args);
	if (rc)
		return rc;
	if (v < 0)
		return SC_ERR_CONFLICT;
	if (dead)
		*dead = v == 2;
	return SC_OK;
}

enum sc_err queue_requeue(struct queue *q, const struct queue_job *job)
{
	static const int keys[] = { K_LEASE, K_PENDING };
	const char *args[] = { job->id, job->token };

	return run_fenced(q, S_REQUEUE, 2, keys, 2, args);
}

enum sc_err queue_promote(struct queue *q, int *moved)
{
	static const int keys[] = { K_SCHEDULED, K_PENDING };
	char lim[16];
	const char *args[] = { lim };
	long long v = 0;
	enum sc_err rc;

	snprintf(lim, sizeof(lim), "%d", BATCH);
	rc = run_int(q, S_PROMOTE, &v, 2, keys, 1, args);
	if (!rc && moved)
		*moved = (int)v;
	return rc;
}

enum sc_err queue_reap(struct queue *q, int max_crashes, int *requeued,
		       int *dead, queue_dead_fn on_dead, void *arg)
{
	static const int keys[] = { K_LEASE, K_PENDING, K_DEAD };
	char max[16], lim[16], dmax[16], dage[24];
	const char *args[] = { max, lim, dmax, dage };
	redisReply *r;
	enum sc_err rc;
	size_t i;

	snprintf(max, sizeof(max), "%d", max_crashes);
	snprintf(lim, sizeof(lim), "%d", BATCH);
	snprintf(dmax, sizeof(dmax), "%d", q->dead_max);
	snprintf(dage, sizeof(dage), "%lld", q->dead_max_age_ms);
	if ((rc = run(q, S_REAP, &r, 3, keys, 4, args)))
		return rc;
	if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->elements % 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER) {
		freeReplyObject(r);
		return SC_ERR_REDIS;
	}
	if (requeued)
		*requeued = (int)r->element[0]->integer;
	if (dead)
		*dead = (int)r->element[1]->integer;
	for (i = 2; on_dead && i + 1 < r->elements; i += 2)
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    r->element[i + 1]->type == REDIS_REPLY_STRING)
			on_dead(r->element[i]->str, r->element[i + 1]->str, arg);
	freeReplyObject(r);
	return SC_OK;
}

enum sc_err queue_retry_dead(struct queue *q, const char *id)
{
	static const int keys[] = { K_DEAD, K_PENDING };
	const char *args[] = { id };
	long long v = 0;
	enum sc_err rc;

	if (!valid_id(id))
		return SC_ERR_INVALID;
	rc = run_int(q, S_RETRY_DEAD, &v, 2, keys, 1, args);
	if (rc)
		return rc;
	return v == 1 ? SC_OK : SC_ERR_NOT_FOUND;
}

/* One integer reply of a plain command on one of q's keys. */
static enum sc_err count(struct queue *q, const char *cmd, int key,
			 long long *out)
{
	const char *argv[] = { cmd, q->keys[key] };
	redisReply *r = NULL;
	enum sc_err rc = redisconn_command(q->rc, &r, 2, argv, NULL);

	return take_int(rc, r, out);
}

enum sc_err queue_stats(struct queue *q, struct queue_stats *st)
{
	enum sc_err rc;

	memset(st, 0, sizeof(*st));
	if ((rc = count(q, "LLEN", K_PENDING, &st->pending)) ||
	    (rc = count(q, "ZCARD", K_LEASE, &st->leased)) ||
	    (rc = count(q, "ZCARD", K_SCHEDULED, &st->scheduled)) ||
	    (rc = count(q, "ZCARD", K_DEAD, &st->dead)))
		return rc;
	return SC_OK;
}

enum sc_err queue_list(struct queue *q, enum queue_list which, int limit,
		       void (*fn)(const char *id, long long score, void *arg),
		       void *arg)
{
	static const int keys[] = { K_PENDING, K_LEASE, K_SCHEDULED, K_DEAD };
	char last[16];
	const char *argv[5];
	redisReply *r;
	enum sc_err rc;
	size_t i;
	int zset = which != QUEUE_PENDING;

	if ((unsigned)which > QUEUE_DEAD || limit < 1)
		return SC_ERR_INVALID;
	snprintf(last, sizeof(last), "%d", limit - 1);
	argv[0] = zset ? "ZRANGE" : "LRANGE";
	argv[1] = q->keys[keys[which]];
	argv[2] = "0";
	argv[3] = last;
	argv[4] = "WITHSCORES";
	if ((rc = redisconn_command(q->rc, &r, zset ? 5 : 4, argv, NULL)))
		return rc;
	if (r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return SC_ERR_REDIS;
	}
	for (i = 0; i < r->elements; i += zset ? 2 : 1) {
		if (zset && i + 1 < r->elements)
			fn(r->element[i]->str, atoll(r->element[i + 1]->str), arg);
		else if (!zset)
			fn(r->element[i]->str, -1, arg);
	}
	freeReplyObject(r);
	return SC_OK;
}

/* Call fn(field, value) for the pairs (hash) or lines (list) of a reply. */
static void each(const redisReply *r, int pairs, const char *field,
		 void (*fn)(const char *field, const char *value, void *arg),
		 void *arg)
{
	size_t i;

	for (i = 0; i + (pairs ? 1 : 0) < r->elements; i += pairs ? 2 : 1)
		fn(pairs ? r->element[i]->str : field,
		   r->element[i + (pairs ? 1 : 0)]->str, arg);
}

/*
 * Two fields of job id's hash into v1 and v2 (each "" when absent);
 * SC_ERR_NOT_FOUND when the first is absent (there is no such job).
 */
static enum sc_err hmget2(struct queue *q, const char *id, const char *f1,
			  char *v1, size_t c1, const char *f2, char *v2, size_t c2)
{
	struct buf key = BUF_INIT(1024);
	const char *argv[] = { "HMGET", NULL, f1, f2 };
	redisReply *r = NULL;
	enum sc_err rc;

	v1[0] = v2[0] = '\0';
	if (!valid_id(id))
		return SC_ERR_INVALID;
	if ((rc = buf_appendf(&key, "%sjob:%s", q->prefix, id)))
		goto out;
	argv[1] = key.data;
	if ((rc = redisconn_command(q->rc, &r, 4, argv, NULL)))
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		rc = SC_ERR_REDIS;
	else if (r->element[0]->type != REDIS_REPLY_STRING)
		rc = SC_ERR_NOT_FOUND;
	else {
		snprintf(v1, c1, "%s", r->element[0]->str);
		if (r->element[1]->type == REDIS_REPLY_STRING)
			snprintf(v2, c2, "%s", r->element[1]->str);
	}
out:
	if (r)
		freeReplyObject(r);
	buf_release(&key);
	return rc;
}

enum sc_err queue_progress(struct queue *q, const char *id, int *percent,
			   int *attempt)
{
	char p[16], a[16];
	enum sc_err rc = hmget2(q, id, "progress", p, sizeof(p), "attempt", a,
				sizeof(a));

	*percent = rc ? 0 : atoi(p);
	*attempt = rc ? 0 : atoi(a);
	return rc;
}

enum sc_err queue_show(struct queue *q, const char *id,
		       void (*fn)(const char *field, const char *value, void *arg),
		       void *arg)
{
	struct buf key = BUF_INIT(1024), hist = BUF_INIT(1024);
	const char *argv[4];
	redisReply *h = NULL, *l = NULL;
	enum sc_err rc;

	if (!valid_id(id))
		return SC_ERR_INVALID;
	if ((rc = buf_appendf(&key, "%sjob:%s", q->prefix, id)) ||
	    (rc = buf_appendf(&hist, "%sjob:%s:history", q->prefix, id)))
		goto out;
	argv[0] = "HGETALL";
	argv[1] = key.data;
	if ((rc = redisconn_command(q->rc, &h, 2, argv, NULL)))
		goto out;
	argv[0] = "LRANGE";
	argv[1] = hist.data;
	argv[2] = "0";
	argv[3] = "-1";
	if ((rc = redisconn_command(q->rc, &l, 4, argv, NULL)))
		goto out;
	if (h->type != REDIS_REPLY_ARRAY || l->type != REDIS_REPLY_ARRAY) {
		rc = SC_ERR_REDIS;
		goto out;
	}
	if (h->elements == 0) {
		rc = SC_ERR_NOT_FOUND;
		goto out;
	}
	each(h, 1, NULL, fn, arg);
	each(l, 0, "history", fn, arg);
out:
	if (h)
		freeReplyObject(h);
	if (l)
		freeReplyObject(l);
	buf_release(&key);
	buf_release(&hist);
	return rc;
}

enum sc_err queue_forget_dead(struct queue *q, const char *id)
{
	static const int keys[] = { K_DEAD };
	const char *args[] = { id };
	long long v = 0;
	enum sc_err rc;

	if (!valid_id(id))
		return SC_ERR_INVALID;
	rc = run_int(q, S_FORGET_DEAD, &v, 1, keys, 1, args);
	if (rc)
		return rc;
	return v == 1 ? SC_OK : SC_ERR_NOT_FOUND;
}

enum sc_err queue_job_state(struct queue *q, const char *id, char *state,
			    size_t state_cap, char *error, size_t error_cap)
{
	char none[1];

	return hmget2(q, id, "state", state, state_cap, "last_error",
		      error_cap ? error : none, error_cap ? error_cap : sizeof(none));
}

enum sc_err queue_oldest_pending(struct queue *q, long long *age_ms)
{
	static const int keys[] = { K_PENDING };

	return run_int(q, S_OLDEST, age_ms, 1, keys, 0, NULL);
}

enum sc_err queue_workers(struct queue *q, long long *n)
{
	struct buf pattern = BUF_INIT(1024);
	char cursor[32] = "0";
	const char *argv[6];
	redisReply *r;
	enum sc_err err;

	*n = 0;
	if ((err = buf_appendf(&pattern, "%sworker:*", q->prefix)))
		return err;
	do {
		argv[0] = "SCAN";
		argv[1] = cursor;
		argv[2] = "MATCH";
		argv[3] = pattern.data;
		argv[4] = "COUNT";
		argv[5] = "1000";
		if ((err = redisconn_command(q->rc, &r, 6, argv, NULL)))
			break;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING) {
			freeReplyObject(r);
			err = SC_ERR_REDIS;
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		*n += (long long)r->element[1]->elements;
		freeReplyObject(r);
	} while (strcmp(cursor, "0"));
	buf_release(&pattern);
	return err;
}
