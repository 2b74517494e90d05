/*
 * presence.h - a worker's record of itself in Redis.
 *
 * Each live worker process keeps one HASH, PREFIX worker:HOST:PID, with
 * plain fields an admin reads with redis-cli (host pid started_at
 * concurrency state job heartbeat_at).  The key expires three heartbeats
 * after the last refresh, so a worker that dies without saying so drops
 * out of the listing on its own.
 */
#ifndef SC_PRESENCE_H
#define SC_PRESENCE_H

#include "error.h"
#include "redisconn.h"

struct presence;

/* NULL only when out of memory. */
struct presence *presence_new(const char *prefix, int concurrency,
			      int heartbeat_ms);
void presence_free(struct presence *p);

/* Write or refresh the record with state ("idle", "stopping", ...). */
enum sc_err presence_beat(struct presence *p, struct redisconn *rc,
			  const char *state);

/* Delete the record (on clean exit). */
enum sc_err presence_remove(struct presence *p, struct redisconn *rc);

/* The record's key, for logs. */
const char *presence_key(const struct presence *p);

#endif
