/*
 * videos.c - the worker's SQL on the videos table, in one place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "videos.h"

void videos_key(enum video_object o, const char *id, int attempt, char *out)
{
	static const char *const name[VIDEO_OBJECTS] = {
		[VIDEO_ORIGINAL] = "source.mp4", [VIDEO_PROCESSED] = "video.mp4",
		[VIDEO_POSTER] = "poster.jpg",
	};

	if (o == VIDEO_ORIGINAL)
		snprintf(out, VIDEO_KEY_MAX, "originals/%.64s/%s", id, name[o]);
	else
		snprintf(out, VIDEO_KEY_MAX, "processed/%.64s/%d/%s", id, attempt,
			 name[o]);
}

void videos_outputs_prefix(const char *id, char *out)
{
	snprintf(out, VIDEO_KEY_MAX, "processed/%.64s/", id);
}

void videos_hls_prefix(const char *id, int attempt, char *out)
{
	snprintf(out, VIDEO_KEY_MAX, "processed/%.64s/hls/%d/", id, attempt);
}

enum sc_err videos_start(struct db *db, const char *id, int *attempt,
			 char *key, size_t cap, int *found)
{
	const char *params[] = { id };
	PGresult *res;
	enum sc_err rc;

	*found = 0;
	rc = db_exec(db,
		     "UPDATE videos SET status = 'processing', attempt = attempt + 1, "
		     "updated_at = now() WHERE id = $1 "
		     "AND status IN ('uploaded', 'processing') "
		     "RETURNING attempt, original_key",
		     1, params, &res);
	if (rc)
		return rc;
	if (PQntuples(res) == 1 && strlen(PQgetvalue(res, 0, 1)) < cap) {
		*attempt = atoi(PQgetvalue(res, 0, 0));
		snprintf(key, cap, "%s", PQgetvalue(res, 0, 1));
		*found = 1;
	}
	PQclear(res);
	return SC_OK;
}

int videos_valid_id(const char *id)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	for (i = 0; shape[i]; i++) {
		char c = id[i];

		if (shape[i] == '-' ? c != '-'
				    : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return 0;
	}
	return id[i] == '\0';
}

/* Run a fenced UPDATE of the row whose id is params[0]; *applied says
 * whether it changed the row (an id that is no uuid names no row). */
static enum sc_err fenced_update(struct db *db, const char *sql, int n,
				 const char *const *params, int *applied)
{
	PGresult *res;
	enum sc_err rc;

	if (applied)
		*applied = 0;
	if (!videos_valid_id(params[0]))
		return SC_OK;
	rc = db_exec(db, sql, n, params, &res);
	if (rc)
		return rc;
	if (applied)
		*applied = !strcmp(PQcmdTuples(res), "1");
	PQclear(res);
	return SC_OK;
}

enum sc_err videos_processed(struct db *db, const char *id, int attempt,
			     const char *video_key, const char *poster_key,
			     const char *hls, const char *report, int *applied)
{
	char att[16];
	const char *params[] = { id, att, video_key, poster_key, report, hls };

	snprintf(att, sizeof(att), "%d", attempt);
	return fenced_update(db,
			     "UPDATE videos SET status = 'processed', processed_key = $3, "
			     "poster_key = $4, report = $5::jsonb, hls = $6::jsonb, "
			     "processed_at = now(), "
			     "error_code = NULL, error_message = NULL, updated_at = now() "
			     "WHERE id = $1 AND attempt = $2 AND status = 'processing'",
			     6, params, applied);
}

enum sc_err videos_failed(struct db *db, const char *id, int attempt,
			  const char *code, const char *message,
			  const char *report, int *applied)
{
	char att[16];
	const char *params[] = { id, att, code, message, report };

	snprintf(att, sizeof(att), "%d", attempt);
	return fenced_update(db,
			     "UPDATE videos SET status = 'failed', error_code = $3, "
			     "error_message = $4, report = $5::jsonb, updated_at = now() "
			     "WHERE id = $1 AND attempt = $2 AND status = 'processing'",
			     5, params, applied);
}

enum sc_err videos_exists(struct db *db, const char *id, int *exists)
{
	const char *params[] = { id };
	PGresult *res;
	enum sc_err rc = db_exec(db, "SELECT 1 FROM videos WHERE id = $1", 1,
				 params, &res);

	*exists = 1;	/* when in doubt, touch nothing */
	if (rc)
		return rc;
	*exists = PQntuples(res) > 0;
	PQclear(res);
	return SC_OK;
}

enum sc_err videos_settled(struct db *db, const char *id, int *settled)
{
	const char *params[] = { id };
	PGresult *res;
	enum sc_err rc = db_exec(db, "SELECT status FROM videos WHERE id = $1",
				 1, params, &res);

	*settled = 0;
	if (rc)
		return rc;
	*settled = PQntuples(res) == 0 ||
		   strcmp(PQgetvalue(res, 0, 0), "processed") == 0;
	PQclear(res);
	return SC_OK;
}

enum sc_err videos_unfinished_page(struct db *db, int idle_s, int limit,
				   struct videos_cursor *cur,
				   videos_row_fn fn, void *arg, int *rows)
{
	char idle[16], lim[16];
	/* NULL (SQL NULL) at the start of a walk: no cursor to compare */
	const char *params[] = { idle, lim,
				 cur->uploaded_at[0] ? cur->uploaded_at : NULL,
				 cur->uploaded_at[0] ? cur->id : NULL };
	PGresult *res;
	enum sc_err rc;
	int i, n;

	*rows = 0;
	snprintf(idle, sizeof(idle), "%d", idle_s);
	snprintf(lim, sizeof(lim), "%d", limit);
	/* keyset pagination on (uploaded_at, id), which the partial index
	 * videos_unfinished_keyset_idx serves: each page starts where the
	 * last ended, so a pass reaches every row however many are stuck
	 * ahead of it (an OFFSET or a fixed "oldest N" would not) */
	rc = db_exec(db,
		     "SELECT id, status, "
		     "to_char(uploaded_at AT TIME ZONE 'UTC', "
		     "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') "
		     "FROM videos WHERE status IN ('uploaded', 'processing') "
		     "AND updated_at < now() - make_interval(secs => $1::int) "
		     "AND ($3::timestamptz IS NULL "
		     "OR (uploaded_at, id) > ($3::timestamptz, $4::uuid)) "
		     "ORDER BY uploaded_at, id LIMIT $2",
		     4, params, &res);
	if (rc)
		return rc;
	n = PQntuples(res);
	for (i = 0; i < n; i++)
		fn(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), arg);
	if (n > 0) {
		snprintf(cur->id, sizeof(cur->id), "%s", PQgetvalue(res, n - 1, 0));
		snprintf(cur->uploaded_at, sizeof(cur->uploaded_at), "%s",
			 PQgetvalue(res, n - 1, 2));
	}
	*rows = n;
	PQclear(res);
	return SC_OK;
}

enum sc_err videos_fail_unfinished(struct db *db, const char *id, int idle_s,
				   const char *code, const char *message,
				   int *applied)
{
	char idle[16];
	const char *params[] = { id, idle, code, message };

	snprintf(idle, sizeof(idle), "%d", idle_s);
	return fenced_update(db,
			     "UPDATE videos SET status = 'failed', error_code = $3, "
			     "error_message = $4, updated_at = now() "
			     "WHERE id = $1 AND status IN ('uploaded', 'processing') "
			     "AND updated_at <= now() - make_interval(secs => $2::int)",
			     4, params, applied);
}

enum sc_err videos_revive(struct db *db, const char *id, int *applied)
{
	const char *params[] = { id };

	return fenced_update(db,
			     "UPDATE videos SET status = 'uploaded', error_code = NULL, "
			     "error_message = NULL, report = NULL, updated_at = now() "
			     "WHERE id = $1 AND status = 'failed'",
			     1, params, applied);
}

enum sc_err videos_stuck_summary(struct db *db, int older_than_s,
				 long long *count, long long *oldest_s)
{
	char age[16];
	const char *params[] = { age };
	PGresult *res;
	enum sc_err rc;

	*count = *oldest_s = 0;
	snprintf(age, sizeof(age), "%d", older_than_s);
	rc = db_exec(db,
		     "SELECT count(*), coalesce(floor(extract(epoch FROM "
		     "now() - min(uploaded_at))), 0)::bigint FROM videos "
		     "WHERE status IN ('uploaded', 'processing') "
		     "AND uploaded_at < now() - make_interval(secs => $1::int)",
		     1, params, &res);
	if (rc)
		return rc;
	*count = atoll(PQgetvalue(res, 0, 0));
	*oldest_s = atoll(PQgetvalue(res, 0, 1));
	PQclear(res);
	return SC_OK;
}

enum sc_err videos_stuck_list(struct db *db, int older_than_s, int limit,
			      videos_stuck_fn fn, void *arg)
{
	char age[16], lim[16];
	const char *params[] = { age, lim };
	PGresult *res;
	enum sc_err rc;
	int i;

	snprintf(age, sizeof(age), "%d", older_than_s);
	snprintf(lim, sizeof(lim), "%d", limit);
	rc = db_exec(db,
		     "SELECT id, status, floor(extract(epoch FROM now() - uploaded_at))"
		     "::bigint, attempt FROM videos "
		     "WHERE status IN ('uploaded', 'processing') "
		     "AND uploaded_at < now() - make_interval(secs => $1::int) "
		     "ORDER BY uploaded_at, id LIMIT $2",
		     2, params, &res);
	if (rc)
		return rc;
	for (i = 0; i < PQntuples(res); i++)
		fn(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		   atoll(PQgetvalue(res, i, 2)), atoi(PQgetvalue(res, i, 3)), arg);
	PQclear(res);
	return SC_OK;
}
