/* tus_store.c - resumable uploads' state in PostgreSQL (see tus_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "log.h"
#include "tus_store.h"
#include "videos.h"

void tus_tail_key(const char *id, long long offset, char *out)
{
	snprintf(out, VIDEO_KEY_MAX, "uploads/%s/tail-%lld", id, offset);
}

#define HTTP_DATE "to_char(expires_at AT TIME ZONE 'UTC', " \
		  "'Dy, DD Mon YYYY HH24:MI:SS \"GMT\"')"

enum sc_err tus_store_create(struct db *db, const char *id, long long user,
			     long long length, long long part_size,
			     const char *title, int is_public, int expiry_s,
			     char expires[40])
{
	char u[24], l[24], p[24], e[24];
	const char *params[] = { id, u, l, p, title, is_public ? "t" : "f", e };
	PGresult *res;
	enum sc_err rc;

	snprintf(u, sizeof(u), "%lld", user);
	snprintf(l, sizeof(l), "%lld", length);
	snprintf(p, sizeof(p), "%lld", part_size);
	snprintf(e, sizeof(e), "%d", expiry_s);
	if ((rc = db_exec_prepared(db,
		    "INSERT INTO tus_uploads (id, user_id, upload_length, "
		    "part_size, title, is_public, expires_at) VALUES ($1, $2, "
		    "$3, $4, $5, $6, now() + make_interval(secs => $7)) "
		    "RETURNING " HTTP_DATE, 7, params, &res)))
		return rc;
	snprintf(expires, 40, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return SC_OK;
}

enum sc_err tus_store_get(struct db *db, const char *id, struct tus_row *row)
{
	const char *params[] = { id };
	PGresult *res;
	enum sc_err rc;

	if ((rc = db_exec_prepared(db,
		    "SELECT user_id, upload_length, upload_offset, part_size, "
		    "title, is_public, coalesce(s3_upload_id, ''), " HTTP_DATE ", "
		    "expires_at < now(), completed_at IS NOT NULL "
		    "FROM tus_uploads WHERE id = $1", 1, params, &res)))
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return SC_ERR_NOT_FOUND;
	}
	row->user = atoll(PQgetvalue(res, 0, 0));
	row->length = atoll(PQgetvalue(res, 0, 1));
	row->offset = atoll(PQgetvalue(res, 0, 2));
	row->part_size = atoll(PQgetvalue(res, 0, 3));
	snprintf(row->title, sizeof(row->title), "%s", PQgetvalue(res, 0, 4));
	row->is_public = PQgetvalue(res, 0, 5)[0] == 't';
	snprintf(row->s3_upload_id, sizeof(row->s3_upload_id), "%s",
		 PQgetvalue(res, 0, 6));
	snprintf(row->expires, sizeof(row->expires), "%s", PQgetvalue(res, 0, 7));
	row->expired = PQgetvalue(res, 0, 8)[0] == 't';
	row->completed = PQgetvalue(res, 0, 9)[0] == 't';
	PQclear(res);
	return SC_OK;
}

int tus_store_lock(struct db *db, const char *id)
{
	const char *params[] = { id };
	PGresult *res;
	int got;

	if (db_exec_prepared(db,
		    "SELECT pg_try_advisory_lock(hashtextextended("
		    "'showcase tus ' || $1, 0))", 1, params, &res))
		return -1;
	got = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return got;
}

void tus_store_unlock(struct db *db, const char *id)
{
	const char *params[] = { id };

	if (db_exec_prepared(db,
		    "SELECT pg_advisory_unlock(hashtextextended("
		    "'showcase tus ' || $1, 0))", 1, params, NULL))
		log_warn("cannot unlock upload %s (it is released with the "
			 "session): %s", id, db_errstr(db));
}

enum sc_err tus_store_set_s3_upload(struct db *db, const char *id,
				    const char *s3_upload_id)
{
	const char *params[] = { id, s3_upload_id };

	return db_exec_prepared(db,
		    "UPDATE tus_uploads SET s3_upload_id = $2 WHERE id = $1",
		    2, params, NULL);
}

/* The statements of tus_store_commit, after BEGIN. */
static enum sc_err commit_in(struct db *db, const char *id, long long from,
			     long long to, int first, char (*etags)[S3_ETAG_MAX],
			     int n)
{
	char f[24], t[24], num[12];
	const char *move[] = { id, f, t };
	PGresult *res;
	enum sc_err rc;
	int i, moved;

	for (i = 0; i < n; i++) {
		const char *part[] = { id, num, etags[i] };

		snprintf(num, sizeof(num), "%d", first + i);
		if ((rc = db_exec_prepared(db,
			    "INSERT INTO tus_parts (upload_id, part_number, etag) "
			    "VALUES ($1, $2, $3) ON CONFLICT (upload_id, "
			    "part_number) DO UPDATE SET etag = excluded.etag",
			    3, part, NULL)))
			return rc;
	}
	snprintf(f, sizeof(f), "%lld", from);
	snprintf(t, sizeof(t), "%lld", to);
	if ((rc = db_exec_prepared(db,
		    "UPDATE tus_uploads SET upload_offset = $3 "
		    "WHERE id = $1 AND upload_offset = $2", 3, move, &res)))
		return rc;
	moved = atoi(PQcmdTuples(res)) == 1;
	PQclear(res);
	return moved ? SC_OK : SC_ERR_CONFLICT;
}

enum sc_err tus_store_commit(struct db *db, const char *id, long long from,
			     long long to, int first, char (*etags)[S3_ETAG_MAX],
			     int n)
{
	enum sc_err rc;

	if ((rc = db_exec(db, "BEGIN", 0, NULL, NULL)))
		return rc;
	if ((rc = commit_in(db, id, from, to, first, etags, n))) {
		db_exec(db, "ROLLBACK", 0, NULL, NULL);	/* or the link died */
		return rc;
	}
	return db_exec(db, "COMMIT", 0, NULL, NULL);
}

enum sc_err tus_store_etags(struct db *db, const char *id, int n,
			    char (*etags)[S3_ETAG_MAX])
{
	char num[12];
	const char *params[] = { id, num };
	PGresult *res;
	enum sc_err rc;
	int i;

	snprintf(num, sizeof(num), "%d", n);
	if ((rc = db_exec_prepared(db,
		    "SELECT part_number, etag FROM tus_parts WHERE upload_id = $1 "
		    "AND part_number <= $2 ORDER BY part_number", 2, params, &res)))
		return rc;
	for (i = 0; i < n && i < PQntuples(res); i++) {
		if (atoi(PQgetvalue(res, i, 0)) != i + 1)
			break;
		snprintf(etags[i], S3_ETAG_MAX, "%s", PQgetvalue(res, i, 1));
	}
	PQclear(res);
	return i == n ? SC_OK : SC_ERR_NOT_FOUND;	/* a part is missing */
}

enum sc_err tus_store_complete(struct db *db, const char *id, long long length)
{
	char l[24];
	const char *params[] = { id, l };
	enum sc_err rc;

	snprintf(l, sizeof(l), "%lld", length);
	if ((rc = db_exec_prepared(db,
		    "UPDATE tus_uploads SET upload_offset = $2, "
		    "completed_at = now() WHERE id = $1", 2, params, NULL)))
		return rc;
	return db_exec_prepared(db, "DELETE FROM tus_parts WHERE upload_id = $1",
				1, params, NULL);
}

enum sc_err tus_store_delete(struct db *db, const char *id)
{
	const char *params[] = { id };

	return db_exec_prepared(db, "DELETE FROM tus_uploads WHERE id = $1", 1,
				params, NULL);
}

enum sc_err tus_store_discard(struct deps *d, const char *id,
			      const struct tus_row *row)
{
	char key[VIDEO_KEY_MAX];

	if (!row->completed && row->s3_upload_id[0]) {
		videos_key(VIDEO_ORIGINAL, id, 0, key);
		if (s3_multipart_abort(d->s3, key, row->s3_upload_id))
			log_warn("cannot abort multipart upload %s of %s, the "
				 "bucket's lifecycle rule will remove its parts: %s",
				 row->s3_upload_id, key, s3_errstr(d->s3));
	}
	if (!row->completed && row->offset % row->part_size) {
		tus_tail_key(id, row->offset, key);
		if (s3_delete_object(d->s3, key))
			log_warn("cannot delete %s: %s", key, s3_errstr(d->s3));
	}
	return tus_store_delete(d->db, id);
}
