/*
 * video_view.h - a video row as the JSON the API answers with.
 *
 * Routes select the column groups below from "videos v" (VC_PLAYER also
 * needs "JOIN users u ON u.id = v.user_id") and turn each row into JSON
 * with video_view().  A field is written when its column was selected, so
 * a listing pays only for what it shows: the owner's list has no votes
 * (a count per row) and no link to the original (see the API contract).
 * Presigned URLs are made for the objects that exist (the processed video
 * and poster only once processed); they live S3_PRESIGN_TTL_S seconds.
 */
#ifndef SC_VIDEO_VIEW_H
#define SC_VIDEO_VIEW_H

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "api.h"
#include "http.h"

/* video_id, title, status, is_public, uploaded_at, processed_at, the
 * processed video's and poster's URLs and hls_url: in every view */
#define VC_BASE                                                                \
	"v.id AS video_id, v.title, v.status, v.is_public, "                    \
	"to_char(v.uploaded_at AT TIME ZONE 'UTC', "                           \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS uploaded_at, "                   \
	"to_char(v.processed_at AT TIME ZONE 'UTC', "                          \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS processed_at, "                  \
	"v.processed_key, v.poster_key, v.hls IS NOT NULL AS has_hls"
/* the owner's view: error (code and message) and the owner's id */
#define VC_OWNER ", v.error_code, v.error_message, v.user_id"
/* the original's URL */
#define VC_ORIGINAL ", v.original_key"
/* votes, counted */
#define VC_VOTES                                                               \
	", (SELECT count(*) FROM votes vo WHERE vo.video_id = v.id) AS votes"
/* who uploaded it: player_id, player, city (needs the users join) */
#define VC_PLAYER                                                              \
	", u.id AS player_id, u.first_name || ' ' || u.last_name AS player, "  \
	"u.city"

enum video_view_flags {
	VV_PROGRESS = 1 << 0,	/* progress (and attempt) of the processing */
};

/* Row `row` of res as JSON, or NULL when out of memory. */
cJSON *video_view(struct deps *d, const PGresult *res, int row, unsigned flags,
		  long url_ttl_s);

/* Every row of res, as a JSON array; NULL when out of memory. */
cJSON *video_view_list(struct deps *d, const PGresult *res, unsigned flags,
		       long url_ttl_s);

/* Run a listing's query (prepared) and answer 200 with its rows as a JSON
 * array, or 503 when the database cannot be asked. */
enum MHD_Result video_view_send_list(struct api *api, struct request *req,
				     struct MHD_Connection *conn,
				     const char *sql, int nparams,
				     const char *const *params, unsigned flags);

#endif
