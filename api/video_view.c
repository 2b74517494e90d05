/* video_view.c - a video row as JSON (see video_view.h). */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "video_view.h"

/* Where each column is in a result, -1 when it was not selected. */
struct cols {
	int id, title, status, public, uploaded, processed, pkey, poster;
	int okey, ecode, emsg, votes, player_id, player, city, hls;
};

static void find_cols(const PGresult *res, struct cols *c)
{
	c->id = PQfnumber(res, "video_id");
	c->title = PQfnumber(res, "title");
	c->status = PQfnumber(res, "status");
	c->public = PQfnumber(res, "is_public");
	c->uploaded = PQfnumber(res, "uploaded_at");
	c->processed = PQfnumber(res, "processed_at");
	c->pkey = PQfnumber(res, "processed_key");
	c->poster = PQfnumber(res, "poster_key");
	c->okey = PQfnumber(res, "original_key");
	c->ecode = PQfnumber(res, "error_code");
	c->emsg = PQfnumber(res, "error_message");
	c->votes = PQfnumber(res, "votes");
	c->player_id = PQfnumber(res, "player_id");
	c->player = PQfnumber(res, "player");
	c->city = PQfnumber(res, "city");
	c->hls = PQfnumber(res, "has_hls");
}

/* field: a string column, or null when SQL NULL. */
static int add_text(cJSON *o, const char *name, const PGresult *res, int row,
		    int col)
{
	if (PQgetisnull(res, row, col))
		return cJSON_AddNullToObject(o, name) != NULL;
	return cJSON_AddStringToObject(o, name, PQgetvalue(res, row, col)) != NULL;
}

static int add_number(cJSON *o, const char *name, const PGresult *res,
		      int row, int col)
{
	return cJSON_AddNumberToObject(o, name,
				       atof(PQgetvalue(res, row, col))) != NULL;
}

/* field: a presigned GET for the key in col, or null. */
static int add_url(cJSON *o, struct deps *d, const char *name,
		   const PGresult *res, int row, int col, long ttl)
{
	char *url = NULL;
	int ok;

	if (PQgetisnull(res, row, col) ||
	    s3_presign_get_cached(d->s3, PQgetvalue(res, row, col), ttl, &url))
		return cJSON_AddNullToObject(o, name) != NULL;
	ok = cJSON_AddStringToObject(o, name, url) != NULL;
	free(url);
	return ok;
}

/* hls_url: the API's master playlist (routes/hls.c), or null without HLS. */
static int add_hls_url(cJSON *o, const PGresult *res, int row,
		       const struct cols *c)
{
	char url[128];

	if (c->hls < 0 || strcmp(PQgetvalue(res, row, c->hls), "t") ||
	    strcmp(PQgetvalue(res, row, c->status), "processed"))
		return cJSON_AddNullToObject(o, "hls_url") != NULL;
	snprintf(url, sizeof(url), "/api/videos/%s/hls/master.m3u8",
		 PQgetvalue(res, row, c->id));
	return cJSON_AddStringToObject(o, "hls_url", url) != NULL;
}

static int add_error(cJSON *o, const PGresult *res, int row,
		     const struct cols *c)
{
	cJSON *err;

	if (PQgetisnull(res, row, c->ecode))
		return cJSON_AddNullToObject(o, "error") != NULL;
	err = cJSON_AddObjectToObject(o, "error");
	return err && add_text(err, "code", res, row, c->ecode) &&
	       add_text(err, "message", res, row, c->emsg);
}

static int add_progress(cJSON *o, struct deps *d, const PGresult *res,
			int row, const struct cols *c)
{
	const char *status = PQgetvalue(res, row, c->status);
	int pct = 0, attempt = 0;

	/* progress of a running job; a Redis hiccup only hides it */
	if (!strcmp(status, "processing") || !strcmp(status, "uploaded")) {
		if (queue_progress(d->queue, PQgetvalue(res, row, c->id), &pct,
				   &attempt) == SC_ERR_REDIS)
			log_debug("progress unknown: %s", redisconn_errstr(d->redis));
		return cJSON_AddNumberToObject(o, "progress", pct) &&
		       cJSON_AddNumberToObject(o, "attempt", attempt);
	}
	return cJSON_AddNumberToObject(o, "progress",
				       !strcmp(status, "processed") ? 100 : 0) != NULL;
}

static cJSON *view_row(struct deps *d, const PGresult *res, int row,
		       const struct cols *c, unsigned flags, long ttl)
{
	cJSON *o = cJSON_CreateObject();
	int ok;

	ok = o && add_text(o, "video_id", res, row, c->id) &&
	     add_text(o, "title", res, row, c->title) &&
	     add_text(o, "status", res, row, c->status) &&
	     cJSON_AddBoolToObject(o, "is_public",
				   !strcmp(PQgetvalue(res, row, c->public), "t")) &&
	     add_text(o, "uploaded_at", res, row, c->uploaded) &&
	     add_text(o, "processed_at", res, row, c->processed) &&
	     add_url(o, d, "processed_url", res, row, c->pkey, ttl) &&
	     add_url(o, d, "poster_url", res, row, c->poster, ttl) &&
	     add_hls_url(o, res, row, c);
	if (ok && c->okey >= 0)
		ok = add_url(o, d, "original_url", res, row, c->okey, ttl);
	if (ok && c->votes >= 0)
		ok = add_number(o, "votes", res, row, c->votes);
	if (ok && c->ecode >= 0)
		ok = add_error(o, res, row, c);
	if (ok && (flags & VV_PROGRESS))
		ok = add_progress(o, d, res, row, c);
	if (ok && c->player_id >= 0)
		ok = add_number(o, "player_id", res, row, c->player_id) &&
		     add_text(o, "player", res, row, c->player) &&
		     add_text(o, "city", res, row, c->city);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

cJSON *video_view_list(struct deps *d, const PGresult *res, unsigned flags,
		       long ttl)
{
	cJSON *list = cJSON_CreateArray(), *v;
	struct cols c;
	int i;

	find_cols(res, &c);
	for (i = 0; list && i < PQntuples(res); i++) {
		v = view_row(d, res, i, &c, flags, ttl);
		if (!v || !cJSON_AddItemToArray(list, v)) {
			cJSON_Delete(v);
			cJSON_Delete(list);
			list = NULL;
		}
	}
	return list;
}

cJSON *video_view(struct deps *d, const PGresult *res, int row, unsigned flags,
		  long ttl)
{
	struct cols c;

	find_cols(res, &c);
	return view_row(d, res, row, &c, flags, ttl);
}

enum MHD_Result video_view_send_list(struct api *api, struct request *req,
				     struct MHD_Connection *conn,
				     const char *sql, int nparams,
				     const char *const *params, unsigned flags)
{
	struct deps *d = deps_get(api);
	PGresult *res;
	cJSON *list;

	if (!d)
		return http_send_unavailable(req, conn, "the server", "out of memory");
	if (db_exec_prepared(d->db, sql, nparams, params, &res))
		return http_send_db_unavailable(api, req, conn, d);
	list = video_view_list(d, res, flags, api->cfg.s3_presign_ttl_s);
	PQclear(res);
	deps_put(api, d);
	return http_send_json(req, conn, MHD_HTTP_OK, list);
}
