/* redisconn.c - Redis connection with reconnect (see redisconn.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "redisconn.h"

struct redisconn {
	redisContext *ctx;
	char host[256];
	int port;
	int db;
	char password[256];
	struct timeval timeout;
	char errstr[512];
};

/* Copy [s, s+n) into dst of size cap; -1 if it does not fit. */
static int copy_part(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

static int parse_int(const char *s, size_t n, int lo, int hi, int *out)
{
	long v = 0;
	size_t i;

	if (!n || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

enum sc_err redisconn_new(const char *url, int connect_timeout_ms,
			  struct redisconn **out)
{
	struct redisconn *rc;
	const char *p, *at, *slash, *colon, *end;

	*out = NULL;
	if (strncmp(url, "redis://", 8))
		return SC_ERR_INVALID;
	rc = calloc(1, sizeof(*rc));
	if (!rc)
		return SC_ERR_NOMEM;
	rc->port = 6379;
	rc->timeout.tv_sec = connect_timeout_ms / 1000;
	rc->timeout.tv_usec = (connect_timeout_ms % 1000) * 1000;

	p = url + 8;
	end = p + strlen(p);
	slash = strchr(p, '/');
	if (!slash)
		slash = end;
	at = memchr(p, '@', (size_t)(slash - p));
	if (at) {
		/* user:password or :password; the user part is ignored */
		colon = memchr(p, ':', (size_t)(at - p));
		colon = colon ? colon + 1 : p;
		if (copy_part(rc->password, sizeof(rc->password), colon,
			      (size_t)(at - colon)))
			goto out_invalid;
		p = at + 1;
	}
	colon = memchr(p, ':', (size_t)(slash - p));
	if (copy_part(rc->host, sizeof(rc->host), p,
		      (size_t)((colon ? colon : slash) - p)) || !rc->host[0])
		goto out_invalid;
	if (colon && parse_int(colon + 1, (size_t)(slash - colon - 1), 1, 65535,
			       &rc->port))
		goto out_invalid;
	if (slash < end && slash + 1 < end &&
	    parse_int(slash + 1, (size_t)(end - slash - 1), 0, 15, &rc->db))
		goto out_invalid;
	*out = rc;
	return SC_OK;

out_invalid:
	free(rc);
	return SC_ERR_INVALID;
}

void redisconn_free(struct redisconn *rc)
{
	if (!rc)
		return;
	if (rc->ctx)
		redisFree(rc->ctx);
	free(rc);
}

const char *redisconn_errstr(const struct redisconn *rc)
{
	return rc->errstr;
}

static void drop(struct redisconn *rc, const char *what)
{
	/* hiredis reports a read past its timeout as EAGAIN's text */
	int timed_out = rc->ctx && rc->ctx->err == REDIS_ERR_IO &&
			(errno == EAGAIN || errno == EWOULDBLOCK);

	snprintf(rc->errstr, sizeof(rc->errstr), "%s: %s", what,
		 timed_out ? "no answer in time (timed out)"
		 : rc->ctx && rc->ctx->errstr[0] ? rc->ctx->errstr
						 : "connection lost");
	if (rc->ctx) {
		redisFree(rc->ctx);
		rc->ctx = NULL;
	}
}

/* One command on the live context, without reconnecting. */
static enum sc_err raw_command(struct redisconn *rc, redisReply **reply,
			       int argc, const char **argv,
			       const size_t *argvlen)
{
	redisReply *r = redisCommandArgv(rc->ctx, argc, argv, argvlen);

	*reply = NULL;
	if (!r) {
		drop(rc, "redis command failed");
		return SC_ERR_REDIS;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		snprintf(rc->errstr, sizeof(rc->errstr), "redis: %s", r->str);
		freeReplyObject(r);
		return SC_ERR_REDIS;
	}
	*reply = r;
	return SC_OK;
}

static enum sc_err redisconn_connect(struct redisconn *rc)
{
	redisReply *r;
	char dbs[8];
	const char *argv[2];
	enum sc_err err;

	if (rc->ctx)
		return SC_OK;
	rc->ctx = redisConnectWithTimeout(rc->host, rc->port, rc->timeout);
	if (!rc->ctx || rc->ctx->err) {
		drop(rc, "cannot connect to redis");
		return SC_ERR_REDIS;
	}
	/* the same bound for every later command, so a hung server times out */
	redisSetTimeout(rc->ctx, rc->timeout);
	if (rc->password[0]) {
		argv[0] = "AUTH";
		argv[1] = rc->password;
		err = raw_command(rc, &r, 2, argv, NULL);
		if (err)
			goto out_drop;
		freeReplyObject(r);
	}
	if (rc->db) {
		snprintf(dbs, sizeof(dbs), "%d", rc->db);
		argv[0] = "SELECT";
		argv[1] = dbs;
		err = raw_command(rc, &r, 2, argv, NULL);
		if (err)
			goto out_drop;
		freeReplyObject(r);
	}
	return SC_OK;

out_drop:
	if (rc->ctx) {
		redisFree(rc->ctx);
		rc->ctx = NULL;
	}
	return err;
}

/*
 * An idle connection the server has closed (a restart, a failover, an
 * idle timeout) is found only by the next command, which then fails.  No
 * reply is ever pending between commands, so a socket that is readable
 * now holds the server's goodbye: drop it and connect afresh instead.
 */
static void drop_if_closed(struct redisconn *rc)
{
	struct pollfd p;

	if (!rc->ctx)
		return;
	p.fd = rc->ctx->fd;
	p.events = POLLIN;
	p.revents = 0;
	if (poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
		redisFree(rc->ctx);
		rc->ctx = NULL;
	}
}

enum sc_err redisconn_command(struct redisconn *rc, redisReply **reply,
			      int argc, const char **argv,
			      const size_t *argvlen)
{
	enum sc_err err;

	drop_if_closed(rc);
	err = redisconn_connect(rc);

	*reply = NULL;
	if (err)
		return err;
	return raw_command(rc, reply, argc, argv, argvlen);
}

/* Learn s's SHA1 from Redis (SCRIPT LOAD) into sha. */
static enum sc_err script_load(struct redisconn *rc, struct redis_script *s,
			       char sha[41])
{
	const char *argv[] = { "SCRIPT", "LOAD", s->body };
	redisReply *r;
	enum sc_err err = redisconn_command(rc, &r, 3, argv, NULL);

	if (err)
		return err;
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
		snprintf(rc->errstr, sizeof(rc->errstr),
			 "SCRIPT LOAD gave no SHA1");
		freeReplyObject(r);
		return SC_ERR_REDIS;
	}
	memcpy(sha, r->str, 40);
	sha[40] = '\0';
	freeReplyObject(r);
	pthread_mutex_lock(&s->lock);
	memcpy(s->sha, sha, 41);
	pthread_mutex_unlock(&s->lock);
	return SC_OK;
}

enum sc_err redisconn_eval(struct redisconn *rc, struct redis_script *s,
			   redisReply **reply, int nkeys, int nargs,
			   const char **argv)
{
	const char *cmd[3 + 64];
	char sha[41], nk[16];
	enum sc_err err = SC_ERR_REDIS;
	int i, tries;

	*reply = NULL;
	if (nkeys < 0 || nargs < 0 || nkeys + nargs > 64)
		return SC_ERR_INVALID;
	snprintf(nk, sizeof(nk), "%d", nkeys);
	for (tries = 0; tries < 2; tries++) {
		pthread_mutex_lock(&s->lock);
		memcpy(sha, s->sha, sizeof(sha));
		pthread_mutex_unlock(&s->lock);
		if (!sha[0] && (err = script_load(rc, s, sha)))
			return err;
		cmd[0] = "EVALSHA";
		cmd[1] = sha;
		cmd[2] = nk;
		for (i = 0; i < nkeys + nargs; i++)
			cmd[3 + i] = argv[i];
		err = redisconn_command(rc, reply, 3 + nkeys + nargs, cmd, NULL);
		if (err != SC_ERR_REDIS || !strstr(rc->errstr, "NOSCRIPT"))
			return err;
		pthread_mutex_lock(&s->lock);	/* Redis forgot it: load again */
		s->sha[0] = '\0';
		pthread_mutex_unlock(&s->lock);
	}
	return err;
}

enum sc_err redisconn_ping(struct redisconn *rc)
{
	const char *argv[] = { "PING" };
	redisReply *r;
	enum sc_err err = redisconn_command(rc, &r, 1, argv, NULL);

	if (!err)
		freeReplyObject(r);
	return err;
}
