/* presence.c - a worker's presence record in Redis (see presence.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "presence.h"

struct presence {
	char *key;
	char host[256];
	char pid[16];
	char started_at[32];
	char concurrency[16];
	char ttl_ms[24];
};

static void iso_now(char *out, size_t cap)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

struct presence *presence_new(const char *prefix, int concurrency,
			      int heartbeat_ms)
{
	struct buf key = BUF_INIT(1024);
	struct presence *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (gethostname(p->host, sizeof(p->host) - 1) < 0)
		memcpy(p->host, "unknown", 8);
	snprintf(p->pid, sizeof(p->pid), "%ld", (long)getpid());
	snprintf(p->concurrency, sizeof(p->concurrency), "%d", concurrency);
	snprintf(p->ttl_ms, sizeof(p->ttl_ms), "%ld", 3L * heartbeat_ms);
	iso_now(p->started_at, sizeof(p->started_at));
	if (buf_appendf(&key, "%sworker:%s:%s", prefix, p->host, p->pid)) {
		buf_release(&key);
		free(p);
		return NULL;
	}
	p->key = buf_detach(&key, NULL);
	return p;
}

void presence_free(struct presence *p)
{
	if (!p)
		return;
	free(p->key);
	free(p);
}

const char *presence_key(const struct presence *p)
{
	return p->key;
}

enum sc_err presence_beat(struct presence *p, struct redisconn *rc,
			  const char *state)
{
	char now[32];
	const char *hset[] = { "HSET", p->key, "host", p->host, "pid", p->pid,
			       "started_at", p->started_at, "concurrency",
			       p->concurrency, "state", state,
			       "heartbeat_at", now };
	const char *expire[] = { "PEXPIRE", p->key, p->ttl_ms };
	redisReply *r;
	enum sc_err err;

	iso_now(now, sizeof(now));
	err = redisconn_command(rc, &r, (int)(sizeof(hset) / sizeof(hset[0])),
				hset, NULL);
	if (err)
		return err;
	freeReplyObject(r);
	err = redisconn_command(rc, &r, 3, expire, NULL);
	if (err)
		return err;
	freeReplyObject(r);
	return SC_OK;
}

enum sc_err presence_remove(struct presence *p, struct redisconn *rc)
{
	const char *del[] = { "DEL", p->key };
	redisReply *r;
	enum sc_err err = redisconn_command(rc, &r, 2, del, NULL);

	if (!err)
		freeReplyObject(r);
	return err;
}
