/*
 * routes/me.c - the caller's own profile.
 *
 * GET /api/me shows it; PUT /api/me changes city, country, first_name
 * or last_name (any of them; those absent stay).  A player who came from
 * the identity provider (oidc/players.h) starts without a city and a
 * country, which the rankings need, and sets them here.  "provider" says
 * where the account comes from: "local" (signup) or "oidc".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "input.h"

#define NAME_MAX_BYTES 100

/* The profile's columns, in profile_json()'s order. */
#define ME_COLUMNS "id, email, first_name, last_name, city, country, " \
		   "oidc_sub IS NOT NULL"

/* Row 0 of res as the profile object; NULL when out of memory. */
static cJSON *profile_json(const PGresult *res)
{
	static const char *const names[] = { "email", "first_name", "last_name",
					     "city", "country" };
	cJSON *o = cJSON_CreateObject();
	size_t i;

	if (!o || !cJSON_AddNumberToObject(o, "user_id",
					   (double)atoll(PQgetvalue(res, 0, 0))))
		goto out_nomem;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int col = (int)i + 1;

		if (!(PQgetisnull(res, 0, col)
			      ? cJSON_AddNullToObject(o, names[i])
			      : cJSON_AddStringToObject(o, names[i],
							PQgetvalue(res, 0, col))))
			goto out_nomem;
	}
	if (!cJSON_AddStringToObject(o, "provider",
				     *PQgetvalue(res, 0, 6) == 't' ? "oidc"
								  : "local"))
		goto out_nomem;
	return o;
out_nomem:
	cJSON_Delete(o);
	return NULL;
}

/* Run sql (parameter $1 the caller's id, one row of ME_COLUMNS) and send
 * the profile. */
static enum MHD_Result send_profile(struct api *api, struct request *req,
				    struct MHD_Connection *conn,
				    const char *sql, int nparams,
				    const char **params)
{
	struct deps *d;
	PGresult *res;
	enum MHD_Result ret;

	if (!(d = deps_get(api)))
		return http_send_unavailable(req, conn, "the server",
					     "out of memory");
	if (db_exec_prepared(d->db, sql, nparams, params, &res))
		return http_send_db_unavailable(api, req, conn, d);
	deps_put(api, d);
	if (PQntuples(res) != 1)	/* the account was deleted meanwhile */
		ret = http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found",
				      "no such account");
	else
		ret = http_send_json(req, conn, MHD_HTTP_OK, profile_json(res));
	PQclear(res);
	return ret;
}

static enum MHD_Result get_me(struct api *api, struct request *req,
			      struct MHD_Connection *conn)
{
	char id[24];
	const char *params[] = { id };

	snprintf(id, sizeof(id), "%lld", req->user_id);
	return send_profile(api, req, conn,
			    "SELECT " ME_COLUMNS " FROM users WHERE id = $1", 1,
			    params);
}

/* An optional string field: NULL when absent, else checked like signup's. */
static const char *optional(struct input *in, const cJSON *body,
			    const char *name, int *given)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);

	if (!v)
		return NULL;
	(*given)++;
	if (cJSON_IsNull(v)) {
		input_bad(in, name, "cannot be removed: leave it out to keep it");
		return NULL;
	}
	return input_text(in, body, name, 1, NAME_MAX_BYTES);
}

static enum MHD_Result put_me(struct api *api, struct request *req,
			      struct MHD_Connection *conn)
{
	struct input in = { 0 };
	char id[24];
	int given = 0;
	const char *params[5] = { id };

	params[1] = optional(&in, req->json, "city", &given);
	params[2] = optional(&in, req->json, "country", &given);
	params[3] = optional(&in, req->json, "first_name", &given);
	params[4] = optional(&in, req->json, "last_name", &given);
	if (!given)
		input_bad(&in, "city", "give at least one of city, country, "
			  "first_name, last_name");
	if (input_failed(&in))
		return input_reply(&in, req, conn);
	snprintf(id, sizeof(id), "%lld", req->user_id);
	return send_profile(api, req, conn,
			    "UPDATE users SET city = COALESCE($2, city), "
			    "country = COALESCE($3, country), "
			    "first_name = COALESCE($4, first_name), "
			    "last_name = COALESCE($5, last_name) "
			    "WHERE id = $1 RETURNING " ME_COLUMNS,
			    5, params);
}

const struct route route_me[] = {
	{ "GET", "/api/me", get_me, R_AUTH | R_IO, NULL },
	{ "PUT", "/api/me", put_me, R_AUTH | R_JSON | R_IO, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
