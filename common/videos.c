/*
 * videos.c - the worker's SQL on the videos table, in one place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "videos.h"

void videos_key(enum video_object o, const char *id, char *out)
{
	static const char *const dir[VIDEO_OBJECTS] = {
		[VIDEO_ORIGINAL] = "originals", [VIDEO_PROCESSED] = "processed",
		[VIDEO_POSTER] = "processed",
	};
	static const char *const name[VIDEO_OBJECTS] = {
		[VIDEO_ORIGINAL] = "source.mp4", [VIDEO_PROCESSED] = "video.mp4",
		[VIDEO_POSTER] = "poster.jpg",
	};

	snprintf(out, VIDEO_KEY_MAX, "%s/%.64s/%s", dir[o], id, name[o]);
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

/* Run a fenced UPDATE; *applied says whether it changed the row. */
static enum sc_err fenced_update(struct db *db, const char *sql, int n,
				 const char *const *params, int *applied)
{
	PGresult *res;
	enum sc_err rc = db_exec(db, sql, n, params, &res);

	if (rc)
		return rc;
	if (applied)
		*applied = !strcmp(PQcmdTuples(res), "1");
	PQclear(res);
	return SC_OK;
}

enum sc_err videos_processed(struct db *db, const char *id, int attempt,
			     const char *video_key, const char *poster_key,
			     const char *report, int *applied)
{
	char att[16];
	const char *params[] = { id, att, video_key, poster_key, report };

	snprintf(att, sizeof(att), "%d", attempt);
	return fenced_update(db,
			     "UPDATE videos SET status = 'processed', processed_key = $3, "
			     "poster_key = $4, report = $5::jsonb, processed_at = now(), "
			     "error_code = NULL, error_message = NULL, updated_at = now() "
			     "WHERE id = $1 AND attempt = $2 AND status = 'processing'",
			     5, params, applied);
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

enum sc_err videos_unfinished(struct db *db, int idle_s, int limit,
			      void (*fn)(const char *id, void *arg), void *arg)
{
	char idle[16], lim[16];
	const char *params[] = { idle, lim };
	PGresult *res;
	enum sc_err rc;
	int i;

	snprintf(idle, sizeof(idle), "%d", idle_s);
	snprintf(lim, sizeof(lim), "%d", limit);
	rc = db_exec(db,
		     "SELECT id FROM videos WHERE status IN ('uploaded', 'processing') "
		     "AND updated_at < now() - make_interval(secs => $1::int) "
		     "ORDER BY uploaded_at LIMIT $2",
		     2, params, &res);
	if (rc)
		return rc;
	for (i = 0; i < PQntuples(res); i++)
		fn(PQgetvalue(res, 0 + i, 0), arg);
	PQclear(res);
	return SC_OK;
}
