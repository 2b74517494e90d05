/*
 * reconcile.h - PostgreSQL's unfinished videos against the queue in Redis.
 *
 * PostgreSQL is the source of truth; Redis may lose a job (a restart
 * without its append-only file, an enqueue that failed after the row was
 * written) or hold one that ended without its video learning of it (the
 * reaper dead-lettered a job while PostgreSQL was away).  A pass walks
 * the videos still 'uploaded' or 'processing' that no one touched for a
 * while and, for each:
 *
 *   no job in Redis      queue it again (it goes through the pipeline);
 *   its job is dead      fail the video with the job's reason;
 *   any other state      leave it: a job is queued, running or waiting.
 *
 * A dead job is final (its attempts or its crashes are spent); an admin
 * revives it with `showcasectl queue retry`, which resets the row too.
 *
 * Errors: SC_ERR_DB or SC_ERR_REDIS (the pass stops where it was; the
 * cursor keeps its place for the next one).
 */
#ifndef SC_RECONCILE_H
#define SC_RECONCILE_H

#include <stddef.h>

#include "db.h"
#include "queue.h"
#include "videos.h"

/* Rows one query fetches. */
#define RECONCILE_PAGE 500

struct reconcile_stats {
	int scanned;		/* unfinished rows looked at */
	int queued;		/* had no job: queued again */
	int failed;		/* their job was dead: marked failed */
};

/*
 * Walk from *cur through at most max_rows unfinished videos idle for
 * idle_s seconds (a live job renews its row's neighbours in Redis, not
 * the row: idle_s should be a few leases), acting as above.  When the
 * walk reaches the last row, *cur goes back to the start; otherwise the
 * next pass goes on from where this one stopped.  *st is filled in.
 */
enum sc_err reconcile_pass(struct db *db, struct queue *q, int idle_s,
			   int max_rows, struct videos_cursor *cur,
			   struct reconcile_stats *st);

/*
 * Split a job's last_error, "code: message", into its code (into code,
 * cap bytes; "unknown" when there is none) and a pointer to the message
 * inside err.
 */
const char *reconcile_split_error(const char *err, char *code, size_t cap);

/*
 * What the video's owner is told of a failure with this code: the detail
 * of our own failures ("db", "s3", "internal": host names, ports,
 * library messages) stays in the job's last_error and the logs, and the
 * row gets a plain sentence; a code that is about the source or the run
 * ("worker_lost", "timeout", "crashed") keeps its message.
 */
const char *reconcile_public_message(const char *code, const char *detail);

#endif
