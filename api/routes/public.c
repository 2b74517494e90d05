/*
 * routes/public.c - what the public sees: videos in the contest, votes,
 * rankings.
 *
 * A vote is one row in votes; its primary key (user, video) makes a
 * second vote fail in the database itself, whatever the races.  Only a
 * public, processed video can be voted for (else 404, as if it did not
 * exist), never one's own (400 own_video), and not again once an admin
 * voided the vote (votes_voided).  Votes are rate limited per client
 * address and per account, failing closed (rate_guard.h), and each keeps
 * keyed hashes of the voter's network and User-Agent for the vote audit
 * (fingerprint.h, `showcasectl votes`).
 *
 * Rankings are read-mostly and cached in two layers.  Redis keeps each
 * page for API_RANKINGS_CACHE_S seconds under a key that includes a
 * generation number, which a vote bumps: every instance sees the new
 * generation at once.  In front of it each instance keeps the pages it
 * served for up to LOCAL_CACHE_MS, without asking Redis; a vote through
 * this instance clears them, so a voter sees the vote counted, and votes
 * through other instances show within LOCAL_CACHE_MS.  A page in this
 * instance's copy is answered on the event loop; only a miss goes to the
 * I/O pool (http.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "input.h"
#include "log.h"
#include "rate_guard.h"
#include "video_view.h"
#include "videos.h"

#define RANKINGS_GEN "showcase:rankings:gen"
#define CITY_MAX 100
#define LOCAL_CACHE_MS 1000L

/* ?city=, checked; NULL when absent or empty. */
static const char *city_param(struct input *in, struct MHD_Connection *conn)
{
	const char *city = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						       "city");

	if (city && (strlen(city) > CITY_MAX || !input_text_ok(city, strlen(city))))
		input_bad(in, "city", "is not a city name");
	return city && *city ? city : NULL;
}

static enum MHD_Result get_public_videos(struct api *api, struct request *req,
					 struct MHD_Connection *conn)
{
	struct input in = { 0 };
	char limit[16], offset[24];
	const char *params[] = { limit, offset, city_param(&in, conn) };

	input_page(&in, conn, limit, offset);
	if (input_failed(&in))
		return input_reply(&in, req, conn);
	return video_view_send_list(api, req, conn,
		    "SELECT " VC_BASE VC_VOTES VC_PLAYER " FROM videos v JOIN users u "
		    "ON u.id = v.user_id WHERE v.is_public AND v.status = 'processed' "
		    "AND ($3::text IS NULL OR lower(u.city) = lower($3)) "
		    "ORDER BY v.processed_at DESC, v.id LIMIT $1 OFFSET $2",
		    3, params, 0);
}

/* The voter's network and browser, as the vote audit keeps them. */
static void vote_origin(struct api *api, struct request *req,
			struct MHD_Connection *conn, char network[FINGERPRINT_HEX],
			char agent[FINGERPRINT_HEX])
{
	const char *ua = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_USER_AGENT);

	fingerprint(&api->audit_key, "network", req->client.network,
		    strlen(req->client.network), network);
	fingerprint(&api->audit_key, "agent", ua ? ua : "", ua ? strlen(ua) : 0,
		    agent);
}

/* Why a vote was not counted: the answer. */
static enum MHD_Result vote_refused(struct api *api, struct request *req,
				    struct MHD_Connection *conn, int found,
				    int own, int voided)
{
	if (own) {
		atomic_fetch_add(&api->m.own_votes, 1);
		return http_send_error(req, conn, MHD_HTTP_BAD_REQUEST, "own_video",
				       "you cannot vote for your own video");
	}
	if (found && voided)
		return http_send_error(req, conn, MHD_HTTP_BAD_REQUEST,
				       "already_voted",
				       "your vote for this video was voided by the "
				       "contest's admins; it cannot be cast again");
	return http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found",
			       "no such public video");
}

static enum MHD_Result post_vote(struct api *api, struct request *req,
				 struct MHD_Connection *conn)
{
	char voter[24], network[FINGERPRINT_HEX], agent[FINGERPRINT_HEX];
	const char *params[] = { voter, req->param, network, agent };
	const char *incr[] = { "INCR", RANKINGS_GEN };
	const struct rl_check limits[] = {
		{ RL_VOTE_IP, req->client.network },
		{ RL_VOTE_ACCOUNT, voter },
	};
	redisReply *r = NULL;
	struct deps *d;
	PGresult *res;
	enum sc_err rc;
	int found, own, voided, counted;

	if (!videos_valid_id(req->param))
		return http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found",
				       "no such public video");
	snprintf(voter, sizeof(voter), "%lld", req->user_id);
	vote_origin(api, req, conn, network, agent);
	if (!(d = deps_get(api)))
		return http_send_unavailable(req, conn, "the server", "out of memory");
	if (limits_apply(api, req, d->redis, limits, 2, "votes",
			 LIMITS_FAIL_CLOSED)) {
		deps_put(api, d);
		return http_send_recorded(req, conn);
	}
	/* one statement: whether the video exists and whose it is, whether
	 * an admin voided this vote before, and the vote */
	rc = db_exec_prepared(d->db,
		     "WITH v AS (SELECT id, user_id FROM videos WHERE id = $2 "
		     " AND is_public AND status = 'processed'), "
		     "x AS (SELECT 1 FROM votes_voided WHERE user_id = $1 "
		     " AND video_id = $2), "
		     "ins AS (INSERT INTO votes (user_id, video_id, network_hash, "
		     " agent_hash) SELECT $1, id, $3, $4 FROM v "
		     " WHERE v.user_id <> $1 AND NOT EXISTS (SELECT 1 FROM x) "
		     " RETURNING video_id) "
		     "SELECT EXISTS (SELECT 1 FROM v), "
		     " EXISTS (SELECT 1 FROM v WHERE user_id = $1), "
		     " EXISTS (SELECT 1 FROM x), EXISTS (SELECT 1 FROM ins)",
		     4, params, &res);
	if (rc == SC_ERR_CONFLICT) {
		deps_put(api, d);
		return http_send_error(req, conn, MHD_HTTP_BAD_REQUEST,
				       "already_voted",
				       "you have voted for this video already");
	}
	if (rc)
		return http_send_db_unavailable(api, req, conn, d);
	found = PQgetvalue(res, 0, 0)[0] == 't';
	own = PQgetvalue(res, 0, 1)[0] == 't';
	voided = PQgetvalue(res, 0, 2)[0] == 't';
	counted = PQgetvalue(res, 0, 3)[0] == 't';
	PQclear(res);
	if (!counted) {
		deps_put(api, d);
		return vote_refused(api, req, conn, found, own, voided);
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
	return http_send_json(req, conn, MHD_HTTP_OK,
			      http_strings("message", "vote counted", NULL));
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

/*
 * The page in Redis, a copy the caller frees, or NULL.  key gets the
 * page's key under the current generation; it is left empty when Redis
 * cannot be asked (then the page is not stored there either).
 */
static char *redis_page(struct deps *d, const char *page, struct buf *key)
{
	const char *argv[] = { "GET", RANKINGS_GEN };
	redisReply *r = NULL;
	char *text = NULL;

	if (redisconn_command(d->redis, &r, 2, argv, NULL)) {
		log_warn("rankings cache unavailable: %s", redisconn_errstr(d->redis));
		return NULL;
	}
	if (buf_appendf(key, "showcase:rankings:%s:%s",
			r->type == REDIS_REPLY_STRING ? r->str : "0", page))
		buf_reset(key);
	freeReplyObject(r);
	r = NULL;
	argv[1] = key->data;
	if (key->len && !redisconn_command(d->redis, &r, 2, argv, NULL) &&
	    r->type == REDIS_REPLY_STRING)
		text = strdup(r->str);
	if (r)
		freeReplyObject(r);
	return text;
}

static void redis_store(struct deps *d, const char *key, const char *text,
			int ttl_s)
{
	char ttl[16];
	const char *argv[] = { "SET", key, text, "EX", ttl };
	redisReply *r;

	snprintf(ttl, sizeof(ttl), "%d", ttl_s);
	if (redisconn_command(d->redis, &r, 5, argv, NULL))
		log_warn("rankings not cached: %s", redisconn_errstr(d->redis));
	else
		freeReplyObject(r);
}

/* The page asked for: its parameters and cache key; 0, or 1 when a 400
 * was sent. */
static int rankings_page(struct request *req, struct MHD_Connection *conn,
			 const char **city, char limit[16], char offset[24],
			 char page[160], enum MHD_Result *ret)
{
	struct input in = { 0 };

	*city = city_param(&in, conn);
	input_page(&in, conn, limit, offset);
	if (input_failed(&in)) {
		*ret = input_reply(&in, req, conn);
		return 1;
	}
	snprintf(page, 160, "%s:%s:%s", limit, offset, *city ? *city : "*");
	return 0;
}

/* On the I/O pool: the page from Redis, else PostgreSQL. */
static enum MHD_Result fetch_rankings(struct api *api, struct request *req,
				      struct MHD_Connection *conn)
{
	int cache_s = api->cfg.api_rankings_cache_s;
	long local_ms = cache_s * 1000L < LOCAL_CACHE_MS ? cache_s * 1000L
							 : LOCAL_CACHE_MS;
	char limit[16], offset[24], page[160], *text = NULL;
	struct buf key = BUF_INIT(512);
	const char *city;
	struct deps *d;
	enum MHD_Result ret;
	size_t len;

	if (rankings_page(req, conn, &city, limit, offset, page, &ret))
		return ret;
	if (!(d = deps_get(api)))
		return http_send_unavailable(req, conn, "the server", "out of memory");
	if (cache_s)
		text = redis_page(d, page, &key);
	if (!text) {
		if (!(text = rankings_query(d, city, limit, offset))) {
			buf_release(&key);
			return http_send_db_unavailable(api, req, conn, d);
		}
		if (key.len)
			redis_store(d, key.data, text, cache_s);
	}
	deps_put(api, d);
	len = strlen(text);
	if (key.len)	/* kept here only while Redis holds it too */
		lcache_put(&api->rankings, page, text, len, local_ms);
	buf_release(&key);
	ret = http_send_text(req, conn, MHD_HTTP_OK, "application/json", text, len);
	free(text);
	return ret;
}

/* On the event loop: this instance's copy when it has one, else the pool. */
static enum MHD_Result get_rankings(struct api *api, struct request *req,
				    struct MHD_Connection *conn)
{
	char limit[16], offset[24], page[160], *text;
	const char *city;
	enum MHD_Result ret;
	size_t len;

	if (rankings_page(req, conn, &city, limit, offset, page, &ret))
		return ret;
	if (!api->cfg.api_rankings_cache_s ||
	    !(text = lcache_get(&api->rankings, page, &len)))
		return http_defer(api, req, conn, HTTP_POOL_IO, fetch_rankings);
	ret = http_send_text(req, conn, MHD_HTTP_OK, "application/json", text, len);
	free(text);
	return ret;
}

const struct route route_public[] = {
	{ "GET", "/api/public/videos", get_public_videos, R_AUTH_OPTIONAL | R_IO,
	  NULL },
	{ "POST", "/api/public/videos/{}/vote", post_vote, R_AUTH | R_IO, NULL },
	/* inline on a cached page, else on the I/O pool (get_rankings) */
	{ "GET", "/api/public/rankings", get_rankings, 0, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
