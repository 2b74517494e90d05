/* direct_store.c - direct uploads' rows in PostgreSQL (see direct_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "direct_store.h"
#include "log.h"
#include "videos.h"

enum sc_err direct_store_create(struct db *db, const char *id, long long user,
				const char *title, int is_public, int live_s)
{
	char u[24], l[24];
	const char *params[] = { id, u, title, is_public ? "t" : "f", l };

	snprintf(u, sizeof(u), "%lld", user);
	snprintf(l, sizeof(l), "%d", live_s);
	return db_exec_prepared(db,
		    "INSERT INTO direct_uploads (id, user_id, title, is_public, "
		    "expires_at) VALUES ($1, $2, $3, $4, now() + "
		    "make_interval(secs => $5))", 5, params, NULL);
}

enum sc_err direct_store_get(struct db *db, const char *id,
			     struct direct_row *row)
{
	const char *params[] = { id };
	PGresult *res;
	enum sc_err rc;

	if ((rc = db_exec_prepared(db,
		    "SELECT user_id, title, is_public FROM direct_uploads "
		    "WHERE id = $1 AND expires_at > now()", 1, params, &res)))
		return rc;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return SC_ERR_NOT_FOUND;
	}
	row->user = atoll(PQgetvalue(res, 0, 0));
	snprintf(row->title, sizeof(row->title), "%s", PQgetvalue(res, 0, 1));
	row->is_public = PQgetvalue(res, 0, 2)[0] == 't';
	PQclear(res);
	return SC_OK;
}

enum sc_err direct_store_take(struct db *db, const char *id)
{
	const char *params[] = { id };
	PGresult *res;
	enum sc_err rc;
	int taken;

	if ((rc = db_exec_prepared(db, "DELETE FROM direct_uploads WHERE id = $1",
				   1, params, &res)))
		return rc;
	taken = atoi(PQcmdTuples(res)) == 1;
	PQclear(res);
	return taken ? SC_OK : SC_ERR_NOT_FOUND;
}

int direct_store_sweep(struct deps *d)
{
	char key[VIDEO_KEY_MAX];
	PGresult *res;
	int i, n;

	if (db_exec_prepared(d->db,
		    "DELETE FROM direct_uploads WHERE id IN (SELECT id FROM "
		    "direct_uploads WHERE expires_at < now() ORDER BY expires_at "
		    "LIMIT 100) RETURNING id", 0, NULL, &res)) {
		log_warn("expired direct uploads not swept: %s", db_errstr(d->db));
		return -1;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		videos_key(VIDEO_ORIGINAL, PQgetvalue(res, i, 0), 0, key);
		if (s3_delete_object(d->s3, key))
			log_warn("cannot delete %s: %s", key, s3_errstr(d->s3));
		else
			log_info("direct upload %s never completed: removed",
				 PQgetvalue(res, i, 0));
	}
	PQclear(res);
	return n;
}
