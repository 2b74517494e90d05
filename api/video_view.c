/* video_view.c - a video row as JSON (see video_view.h). */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "video_view.h"

enum { C_ID, C_TITLE, C_STATUS, C_PUBLIC, C_UPLOADED, C_PROCESSED, C_PKEY,
       C_POSTER, C_OKEY, C_ECODE, C_EMSG, C_VOTES, C_UID, C_PLAYER, C_CITY };

/* field: a string column, or null when SQL NULL. */
static int add_text(cJSON *o, const char *name, const PGresult *res, int row,
		    int col)
{
	if (PQgetisnull(res, row, col))
		return cJSON_AddNullToObject(o, name) != NULL;
	return cJSON_AddStringToObject(o, name, PQgetvalue(res, row, col)) != NULL;
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

static int add_owner_fields(cJSON *o, struct deps *d, const PGresult *res,
			    int row, long ttl)
{
	const char *status = PQgetvalue(res, row, C_STATUS);
	cJSON *err;
	int pct = 0, attempt = 0;

	if (!add_url(o, d, "original_url", res, row, C_OKEY, ttl))
		return 0;
	if (PQgetisnull(res, row, C_ECODE)) {
		if (!cJSON_AddNullToObject(o, "error"))
			return 0;
	} else {
		err = cJSON_AddObjectToObject(o, "error");
		if (!err || !add_text(err, "code", res, row, C_ECODE) ||
		    !add_text(err, "message", res, row, C_EMSG))
			return 0;
	}
	/* progress of a running job; a Redis hiccup only hides it */
	if (!strcmp(status, "processing") || !strcmp(status, "uploaded")) {
		if (queue_progress(d->queue, PQgetvalue(res, row, C_ID), &pct,
				   &attempt) == SC_ERR_REDIS)
			log_debug("progress unknown: %s", redisconn_errstr(d->redis));
		return cJSON_AddNumberToObject(o, "progress", pct) &&
		       cJSON_AddNumberToObject(o, "attempt", attempt);
	}
	return cJSON_AddNumberToObject(o, "progress",
				       !strcmp(status, "processed") ? 100 : 0) != NULL;
}

cJSON *video_view_list(struct deps *d, const PGresult *res, unsigned flags,
		       long ttl)
{
	cJSON *list = cJSON_CreateArray(), *v;
	int i;

	for (i = 0; list && i < PQntuples(res); i++) {
		v = video_view(d, res, i, flags, ttl);
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
	cJSON *o = cJSON_CreateObject();
	int ok;

	ok = o && add_text(o, "video_id", res, row, C_ID) &&
	     add_text(o, "title", res, row, C_TITLE) &&
	     add_text(o, "status", res, row, C_STATUS) &&
	     cJSON_AddBoolToObject(o, "is_public",
				   !strcmp(PQgetvalue(res, row, C_PUBLIC), "t")) &&
	     add_text(o, "uploaded_at", res, row, C_UPLOADED) &&
	     add_text(o, "processed_at", res, row, C_PROCESSED) &&
	     add_url(o, d, "processed_url", res, row, C_PKEY, ttl) &&
	     add_url(o, d, "poster_url", res, row, C_POSTER, ttl) &&
	     cJSON_AddNumberToObject(o, "votes",
				     atof(PQgetvalue(res, row, C_VOTES)));
	if (ok && (flags & VV_OWNER))
		ok = add_owner_fields(o, d, res, row, ttl);
	if (ok && (flags & VV_PLAYER))
		ok = cJSON_AddNumberToObject(o, "player_id",
					     atof(PQgetvalue(res, row, C_UID))) &&
		     add_text(o, "player", res, row, C_PLAYER) &&
		     add_text(o, "city", res, row, C_CITY);
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}
