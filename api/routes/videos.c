/*
 * routes/videos.c - a player's own videos: list, detail, delete.
 *
 * Only the owner sees a video here (403 for anyone else's, 404 for one
 * that does not exist).  DELETE removes the row first (the source of
 * truth), then the objects at their fixed keys.  A video that is
 * processed and public is in the contest and cannot be deleted (400).
 * One still being processed can: its worker finds the row gone when it
 * finishes and removes what it uploaded (see worker/job.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "input.h"
#include "log.h"
#include "refusal_memo.h"
#include "video_view.h"
#include "videos.h"

static enum MHD_Result get_videos(struct api *api, struct request *req,
				  struct MHD_Connection *conn)
{
	struct input in = { 0 };
	char owner[24], limit[16], offset[24];
	const char *params[] = { owner, limit, offset };

	input_page(&in, conn, limit, offset);
	if (input_failed(&in))
		return input_reply(&in, req, conn);
	snprintf(owner, sizeof(owner), "%lld", req->user_id);
	return video_view_send_list(api, req, conn,
		    "SELECT " VC_BASE VC_OWNER " FROM videos v "
		    "WHERE v.user_id = $1 "
		    "ORDER BY v.uploaded_at DESC, v.id LIMIT $2 OFFSET $3",
		    3, params, VV_PROGRESS);
}

/*
 * Is req->param a video the caller owns?  Answers 404 or 403 itself and
 * returns 0 when not; on 1, *res holds the row (the detail's columns).
 */
static int own_video(struct request *req, struct MHD_Connection *conn,
		     struct deps *d, PGresult **res, enum MHD_Result *ret)
{
	const char *params[] = { req->param };

	*res = NULL;
	if (!videos_valid_id(req->param)) {
		*ret = http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found",
				       "no such video");
		return 0;
	}
	if (db_exec_prepared(d->db,
		    "SELECT " VC_BASE VC_OWNER VC_ORIGINAL VC_VOTES
		    " FROM videos v WHERE v.id = $1",
		    1, params, res)) {
		*ret = http_send_unavailable(req, conn, "the database",
					     db_errstr(d->db));
		return 0;
	}
	if (PQntuples(*res) == 0) {
		*ret = http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found",
				       "no such video");
	} else if (atoll(PQgetvalue(*res, 0, PQfnumber(*res, "user_id"))) !=
		   req->user_id) {
		*ret = http_send_error(req, conn, MHD_HTTP_FORBIDDEN, "forbidden",
				       "this video belongs to another player");
	} else {
		return 1;
	}
	PQclear(*res);
	*res = NULL;
	return 0;
}

static enum MHD_Result get_video(struct api *api, struct request *req,
				 struct MHD_Connection *conn)
{
	struct deps *d = deps_get(api);
	enum MHD_Result ret;
	PGresult *res;
	cJSON *v;

	if (!d)
		return http_send_unavailable(req, conn, "the server", "out of memory");
	if (!own_video(req, conn, d, &res, &ret)) {
		deps_put(api, d);
		return ret;
	}
	v = video_view(d, res, 0, VV_PROGRESS, api->cfg.s3_presign_ttl_s);
	PQclear(res);
	deps_put(api, d);
	return http_send_json(req, conn, MHD_HTTP_OK, v);
}

static enum MHD_Result delete_video(struct api *api, struct request *req,
				    struct MHD_Connection *conn)
{
	char owner[24], prefix[VIDEO_KEY_MAX];
	const char *params[] = { req->param, owner };
	struct deps *d = deps_get(api);
	enum MHD_Result ret;
	PGresult *res;
	long n = 0;

	if (!d)
		return http_send_unavailable(req, conn, "the server", "out of memory");
	if (!own_video(req, conn, d, &res, &ret)) {
		deps_put(api, d);
		return ret;
	}
	PQclear(res);
	snprintf(owner, sizeof(owner), "%lld", req->user_id);
	/* the check and the delete in one statement: no race with publishing */
	if (db_exec_prepared(d->db,
		    "DELETE FROM videos WHERE id = $1 AND user_id = $2 "
		    "AND NOT (is_public AND status = 'processed') RETURNING original_key",
		    2, params, &res))
		return http_send_db_unavailable(api, req, conn, d);
	if (PQntuples(res) == 0) {
		PQclear(res);
		deps_put(api, d);
		return http_send_error(req, conn, MHD_HTTP_BAD_REQUEST,
				       "published",
				       "the video is public and in the contest; "
				       "it cannot be deleted");
	}
	if (s3_delete_object(d->s3, PQgetvalue(res, 0, 0)))
		log_error("video %s deleted but %s remains: %s", req->param,
			  PQgetvalue(res, 0, 0), s3_errstr(d->s3));
	PQclear(res);
	/* every attempt's outputs, current or stale (videos.h) */
	videos_outputs_prefix(req->param, prefix);
	if (s3_delete_prefix(d->s3, prefix, &n))
		log_error("video %s deleted but objects under %s remain: %s",
			  req->param, prefix, s3_errstr(d->s3));
	deps_put(api, d);
	/* room for one more: a remembered refusal of an upload is stale */
	refusal_memo_forget(api->upload_refusals, req->user_id);
	log_info("video %s deleted by its owner", req->param);
	return http_send_json(req, conn, MHD_HTTP_OK,
			      http_strings("message", "video deleted",
					   "video_id", req->param, NULL));
}

const struct route route_videos[] = {
	{ "GET", "/api/videos", get_videos, R_AUTH | R_IO, NULL },
	{ "GET", "/api/videos/{}", get_video, R_AUTH | R_IO, NULL },
	{ "DELETE", "/api/videos/{}", delete_video, R_AUTH | R_IO, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
