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

/* Connect if needed and PING. */
enum sc_err redisconn_ping(struct redisconn *rc);

const char *redisconn_errstr(const struct redisconn *rc);

#endif
