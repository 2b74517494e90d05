/*
 * redisconn.h - a Redis connection that reconnects after it is lost.
 *
 * Invariants: one struct redisconn is used by one thread at a time.  After
 * any I/O or protocol error the hiredis context is dropped, and the next
 * command connects anew (hiredis cannot recover a context in error).
 *
 * Life cycle: redisconn_new() parses the URL without connecting; commands
 * connect on demand (AUTH and SELECT included); redisconn_free() closes.
 */
#ifndef SC_REDISCONN_H
#define SC_REDISCONN_H

#include <stddef.h>

#include <pthread.h>

#include <hiredis/hiredis.h>

#include "error.h"

struct redisconn;

/*
 * Parse url (redis://[:password@]host[:port][/db]) into *out.  On
 * SC_ERR_INVALID *out is NULL; the caller owns *out on SC_OK.
 */
enum sc_err redisconn_new(const char *url, int connect_timeout_ms,
			  struct redisconn **out);
void redisconn_free(struct redisconn *rc);

/*
 * Run one command given as argc strings (lengths in argvlen, or NULL for
 * NUL-terminated strings).  On SC_OK the caller owns *reply
 * (freeReplyObject); a Redis error reply gives SC_ERR_REDIS with *reply
 * NULL and its text in redisconn_errstr().
 */
enum sc_err redisconn_command(struct redisconn *rc, redisReply **reply,
			      int argc, const char **argv,
			      const size_t *argvlen);

/*
 * A Lua script run by its SHA1 (EVALSHA; Redis documentation, "Scripting
 * with Lua": the script cache).  body is a constant the caller keeps; sha
 * is learnt from SCRIPT LOAD on first use and again after NOSCRIPT (Redis
 * restarted or flushed its cache).  One struct may serve every thread:
 * sha is read and written under lock.
 */
struct redis_script {
	const char *body;
	pthread_mutex_t lock;
	char sha[41];		/* "" until loaded */
};
#define REDIS_SCRIPT_INIT(text) { (text), PTHREAD_MUTEX_INITIALIZER, "" }

/*
 * EVALSHA s with nkeys keys and nargs arguments (argv holds the keys,
 * then the arguments; NUL-terminated).  Replies and errors as
 * redisconn_command(); SC_ERR_INVALID past 64 strings.
 */
enum sc_err redisconn_eval(struct redisconn *rc, struct redis_script *s,
			   redisReply **reply, int nkeys, int nargs,
			   const char **argv);

/* Connect if needed and PING. */
enum sc_err redisconn_ping(struct redisconn *rc);

const char *redisconn_errstr(const struct redisconn *rc);

#endif
