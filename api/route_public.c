/*
 * route_public.c - what the public sees: videos in the contest, votes,
 * rankings.
 *
 * A vote is one row in votes; its primary key (user, video) makes a
 * second vote fail in the database itself, whatever the races.  Only a
 * public, processed video can be voted for (else 404, as if it did not
 * exist).
 *
 * Rankings are read-mostly and cached in two layers.  Redis keeps each
 * page for API_RANKINGS_CACHE_S seconds under a key that includes a
 * generation number, which a vote bumps: every instance sees the new
 * generation at once.  In front of it each instance keeps the pages it
 * served for up to LOCAL_CACHE_MS, without asking Redis; a vote through
 * this instance clears them, so a voter sees the vote counted, and votes
 * through other instances show within LOCAL_CACHE_MS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "input.h"
#include "log.h"
#include "video_view.h"

#define RANKINGS_GEN "showcase:rankings:gen"
#define CITY_MAX 100
#define LOCAL_CACHE_MS 1000L

static enum MHD_Result get_public_videos(struct api *api, struct request *req,
					 struct MHD_Connection *conn)
{
	struct input in = { 0 };
	const char *city = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						       "city");
	char limit[16], offset[24];
	const char *params[3];
	struct deps *d;
	PGresult *res;
	cJSON *list;

	input_page(&in, conn, limit, offset);
	if (city && (strlen(city) > CITY_MAX || !input_text_ok(city, strlen(city))))
		input_bad(&in, "city", "is not a city name");
	if (input_failed(&in))
		return input_reply(&in, req, conn);
	params[0] = limit;
	params[1] = offset;
	params[2] = city && *city ? city : NULL;
	if (!(d = deps_get(api)))
		return http_send_unavailable(req, conn, "the server", "out of memory");
	if (db_exec_prepared(d->db,
		    "SELECT " VIDEO_COLUMNS " FROM videos v JOIN users u "
		    "ON u.id = v.user_id WHERE v.is_public AND v.status = 'processed' "
		    "AND ($3::text IS NULL OR lower(u.city) = lower($3)) "
		    "ORDER BY v.processed_at DESC, v.id LIMIT $1 OFFSET $2",
		    3, params, &res))
		return http_send_db_unavailable(api, req, conn, d);
	list = video_view_list(d, res, VV_PLAYER, api->cfg.s3_presign_ttl_s);
	PQclear(res);
	deps_put(api, d);
	return http_send_json(req, conn, MHD_HTTP_OK, list);
}

static enum MHD_Result post_vote(struct api *api, struct request *req,
				 struct MHD_Connection *conn)
{
	char voter[24];
	const char *params[] = { voter, req->param };
	const char *incr[] = { "INCR", RANKINGS_GEN };
	redisReply *r = NULL;
	struct deps *d;
	PGresult *res;
	enum sc_err rc;
	int found;
	cJSON *body;

	if (!input_is_uuid(req->param))
		return http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found",
				       "no such public video");
	snprintf(voter, sizeof(voter), "%lld", req->user_id);
	if (!(d = deps_get(api)))
		return http_send_unavailable(req, conn, "the server", "out of memory");
	rc = db_exec_prepared(d->db,
		     "INSERT INTO votes (user_id, video_id) SELECT $1, id FROM videos "
		     "WHERE id = $2 AND is_public AND status = 'processed' "
		     "RETURNING video_id",
		     2, params, &res);
	if (rc == SC_ERR_CONFLICT) {
		deps_put(api, d);
		return http_send_error(req, conn, MHD_HTTP_BAD_REQUEST,
				       "already_voted",
				       "you have voted for this video already");
	}
	if (rc)
		return http_send_db_unavailable(api, req, conn, d);
	found = PQntuples(res) == 1;
	PQclear(res);
	if (!found) {
		deps_put(api, d);
		return http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found",
				       "no such public video");
	}
	/* the vote counts now; a stale cache only shows it a little later */
	if (api->cfg.api_rankings_cache_s &&
	    redisconn_command(d->redis, &r, 2, incr, NULL))
		log_warn("rankings cache not refreshed: %s",
			 redisconn_errstr(d->redis));
	if (r)
		freeReplyObject(r);
	deps_put(api, d);
	lcache_clear(&api->rankings);
	atomic_fetch_add(&api->m.votes, 1);
	body = cJSON_CreateObject();
	if (body && !cJSON_AddStringToObject(body, "message", "vote counted")) {
		cJSON_Delete(body);
		body = NULL;
	}
	return http_send_json(req, conn, MHD_HTTP_OK, body);
}

/* The ranking page from PostgreSQL, as JSON text (the caller frees). */
static char *rankings_query(struct deps *d, const char *city, const char *limit,
			    const char *offset)
{
	const char *params[] = { limit, offset, city };
	PGresult *res;
	cJSON *list, *o;
	char *text = NULL;
	int i, ok = 1;

	if (db_exec_prepared(d->db,
		    "SELECT position, player_id, username, city, votes FROM ("
		    " SELECT rank() OVER (ORDER BY count(vo.video_id) DESC) AS position,"
		    "  u.id AS player_id, u.first_name || ' ' || u.last_name AS username,"
		    "  u.city, count(vo.video_id) AS votes"
		    " FROM users u"
		    " JOIN videos v ON v.user_id = u.id AND v.is_public"
		    "  AND v.status = 'processed'"
		    " LEFT JOIN votes vo ON vo.video_id = v.id"
		    " WHERE $3::text IS NULL OR lower(u.city) = lower($3)"
		    " GROUP BY u.id) r "
		    "ORDER BY position, player_id LIMIT $1 OFFSET $2",
		    3, params, &res))
		return NULL;
	list = cJSON_CreateArray();
	for (i = 0; list && ok && i < PQntuples(res); i++) {
		o = cJSON_CreateObject();
		ok = o && cJSON_AddItemToArray(list, o) &&
		     cJSON_AddNumberToObject(o, "position", atof(PQgetvalue(res, i, 0))) &&
		     cJSON_AddNumberToObject(o, "player_id", atof(PQgetvalue(res, i, 1))) &&
		     cJSON_AddStringToObject(o, "username", PQgetvalue(res, i, 2)) &&
		     cJSON_AddStringToObject(o, "city", PQgetvalue(res, i, 3)) &&
		     cJSON_AddNumberToObject(o, "votes", atof(PQgetvalue(res, i, 4)));
	}
	PQclear(res);
	if (list && ok)
		text = cJSON_PrintUnformatted(list);
	cJSON_Delete(list);
	return text;
}

static enum MHD_Result get_rankings(struct api *api, struct request *req,
				    struct MHD_Connection *conn)
{
	struct input in = { 0 };
	const char *city = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						       "city");
	char limit[16], offset[24], ttl[16], local[160], *text;
	const char *argv[5];
	struct buf key = BUF_INIT(512);
	redisReply *r = NULL;
	struct deps *d;
	enum MHD_Result ret;
	long local_ms = api->cfg.api_rankings_cache_s * 1000L;
	int cached = local_ms > 0;
	size_t len;

	input_page(&in, conn, limit, offset);
	if (city && (strlen(city) > CITY_MAX || !input_text_ok(city, strlen(city))))
		input_bad(&in, "city", "is not a city name");
	if (input_failed(&in))
		return input_reply(&in, req, conn);
	if (city && !*city)
		city = NULL;
	snprintf(local, sizeof(local), "%s:%s:%s", limit, offset, city ? city : "*");
	if (cached && (text = lcache_get(&api->rankings, local, &len))) {
		ret = http_send_text(req, conn, MHD_HTTP_OK, "application/json",
				     text, len);
		free(text);
		return ret;
	}
	if (local_ms > LOCAL_CACHE_MS)
		local_ms = LOCAL_CACHE_MS;
	if (!(d = deps_get(api)))
		return http_send_unavailable(req, conn, "the server", "out of memory");

	/* the cache: GET the generation, then the page under it */
	argv[0] = "GET";
	argv[1] = RANKINGS_GEN;
	if (cached && !redisconn_command(d->redis, &r, 2, argv, NULL)) {
		if (buf_appendf(&key, "showcase:rankings:%s:%s:%s:%s",
				r->type == REDIS_REPLY_STRING ? r->str : "0",
				limit, offset, city ? city : "*"))
			cached = 0;
		freeReplyObject(r);
		r = NULL;
		argv[1] = key.data;
		if (cached && !redisconn_command(d->redis, &r, 2, argv, NULL) &&
		    r->type == REDIS_REPLY_STRING) {
			lcache_put(&api->rankings, local, r->str, r->len, local_ms);
			ret = http_send_text(req, conn, MHD_HTTP_OK,
					     "application/json", r->str, r->len);
			freeReplyObject(r);
			deps_put(api, d);
			buf_release(&key);
			return ret;
		}
		if (r)
			freeReplyObject(r);
		r = NULL;
	} else if (cached) {
		log_warn("rankings cache unavailable: %s", redisconn_errstr(d->redis));
		cached = 0;
	}

	text = rankings_query(d, city, limit, offset);
	if (!text) {
		buf_release(&key);
		return http_send_db_unavailable(api, req, conn, d);
	}
	if (cached) {
		snprintf(ttl, sizeof(ttl), "%d", api->cfg.api_rankings_cache_s);
		argv[0] = "SET";
		argv[1] = key.data;
		argv[2] = text;
		argv[3] = "EX";
		argv[4] = ttl;
		if (redisconn_command(d->redis, &r, 5, argv, NULL))
			log_warn("rankings not cached: %s", redisconn_errstr(d->redis));
		else
			freeReplyObject(r);
	}
	deps_put(api, d);
	buf_release(&key);
	if (cached)
		lcache_put(&api->rankings, local, text, strlen(text), local_ms);
	ret = http_send_text(req, conn, MHD_HTTP_OK, "application/json", text,
			     strlen(text));
	free(text);
	return ret;
}

const struct route route_public[] = {
	{ "GET", "/api/public/videos", get_public_videos, R_AUTH_OPTIONAL, NULL },
	{ "POST", "/api/public/videos/{}/vote", post_vote, R_AUTH, NULL },
	{ "GET", "/api/public/rankings", get_rankings, 0, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
