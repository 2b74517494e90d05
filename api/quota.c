/* quota.c - a player's upload quotas (see quota.h). */
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "quota.h"

/*
 * The counts: uploads in the last day, videos held, and when the
 * per_day-th newest upload of the day turns a day old (then the day's
 * count drops below the quota).
 */
static enum sc_err count(struct db *db, const struct quota *q, long long user,
			 struct quota_verdict *v)
{
	char owner[24], day[16];
	const char *params[] = { owner, day };
	long long today, held;
	PGresult *res;
	enum sc_err rc;

	v->outcome = QUOTA_OK;
	snprintf(owner, sizeof(owner), "%lld", user);
	snprintf(day, sizeof(day), "%d", q->per_day ? q->per_day : 1);
	rc = db_exec_prepared(db,
		    "SELECT (SELECT count(*) FROM upload_log WHERE user_id = $1 "
		    "  AND uploaded_at > now() - interval '1 day'), "
		    " (SELECT count(*) FROM videos WHERE user_id = $1), "
		    " (SELECT ceil(extract(epoch FROM uploaded_at "
		    "   + interval '1 day' - now())) FROM upload_log "
		    "  WHERE user_id = $1 AND uploaded_at > now() - interval '1 day' "
		    "  ORDER BY uploaded_at DESC OFFSET $2::int - 1 LIMIT 1)",
		    2, params, &res);
	if (rc)
		return rc;
	today = atoll(PQgetvalue(res, 0, 0));
	held = atoll(PQgetvalue(res, 0, 1));
	v->frees_in_s = PQgetisnull(res, 0, 2) ? 1 : atoll(PQgetvalue(res, 0, 2));
	if (v->frees_in_s < 1)
		v->frees_in_s = 1;
	PQclear(res);
	if (q->max && held >= q->max) {
		v->outcome = QUOTA_TOTAL;
		v->count = held;
	} else if (q->per_day && today >= q->per_day) {
		v->outcome = QUOTA_DAILY;
		v->count = today;
	}
	return SC_OK;
}

enum sc_err quota_check(struct db *db, const struct quota *q, long long user,
			struct quota_verdict *v)
{
	v->outcome = QUOTA_OK;
	if (!q->per_day && !q->max)
		return SC_OK;
	return count(db, q, user, v);
}

/* The statements of quota_insert, after BEGIN. */
static enum sc_err insert_locked(struct db *db, const struct quota *q,
				 long long user, const char *const params[6],
				 struct quota_verdict *v)
{
	const char *owner[] = { params[1] };
	enum sc_err rc;

	v->outcome = QUOTA_OK;
	if (q->per_day || q->max) {
		/* a new statement after the lock: it sees every upload
		 * committed before the lock was granted */
		if ((rc = db_exec_prepared(db,
			    "SELECT pg_advisory_xact_lock(hashtextextended("
			    "'showcase upload quota ' || $1, 0))",
			    1, owner, NULL)) ||
		    (rc = count(db, q, user, v)))
			return rc;
		if (v->outcome != QUOTA_OK)
			return SC_OK;
	}
	if ((rc = db_exec_prepared(db,
		    "INSERT INTO videos (id, user_id, title, is_public, "
		    "original_key, source_bytes) VALUES ($1, $2, $3, $4, $5, $6)",
		    6, params, NULL)))
		return rc;
	/* what counts for nothing any more */
	return db_exec_prepared(db,
		    "DELETE FROM upload_log WHERE user_id = $1 "
		    "AND uploaded_at <= now() - interval '1 day'",
		    1, owner, NULL);
}

enum sc_err quota_insert(struct db *db, const struct quota *q, long long user,
			 const char *const params[6], struct quota_verdict *v)
{
	enum sc_err rc;

	if ((rc = db_exec(db, "BEGIN", 0, NULL, NULL)))
		return rc;
	rc = insert_locked(db, q, user, params, v);
	if (rc || v->outcome != QUOTA_OK) {
		db_exec(db, "ROLLBACK", 0, NULL, NULL);	/* or the link died */
		return rc;
	}
	return db_exec(db, "COMMIT", 0, NULL, NULL);
}
