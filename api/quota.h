/*
 * quota.h - a player's upload quotas: API_VIDEOS_PER_DAY uploads in any
 * 24 hours (counted in upload_log, so a deleted video still counts: see
 * migrations/004_upload_log) and API_VIDEOS_MAX videos held (counted in
 * videos, so deleting one frees room).
 *
 * Checked twice.  quota_check() reads the counts before an upload's
 * first byte is taken, so most refusals cost the client nothing; it may
 * let uploads started together pass.  quota_insert() decides: it inserts
 * the video's row in a transaction that first takes a lock on the player
 * (pg_advisory_xact_lock on a hash of the user id) and counts again, so
 * concurrent uploads, through any API instance, cannot pass a quota
 * together.  The lock is held for a count and an insert, milliseconds.
 */
#ifndef SC_QUOTA_H
#define SC_QUOTA_H

#include "db.h"
#include "error.h"

struct quota {
	int per_day;		/* 0: no daily quota */
	int max;		/* 0: no total quota */
};

enum quota_outcome { QUOTA_OK, QUOTA_DAILY, QUOTA_TOTAL };

struct quota_verdict {
	enum quota_outcome outcome;
	long long count;	/* the count that refused: today's or held */
	long long frees_in_s;	/* QUOTA_DAILY: when one more is allowed */
};

/* Read user's counts against q into *v.  Errors: db_exec's. */
enum sc_err quota_check(struct db *db, const struct quota *q, long long user,
			struct quota_verdict *v);

/*
 * Insert the video (id, user, title, is_public "t"/"f", original key,
 * source bytes: params[0..5], text) only if the quotas allow it, in one
 * transaction with the player locked.  SC_OK with v->outcome QUOTA_OK
 * when inserted, else nothing is.  Errors: db_exec's (the transaction is
 * rolled back).
 */
enum sc_err quota_insert(struct db *db, const struct quota *q, long long user,
			 const char *const params[6], struct quota_verdict *v);

#endif
