/*
 * video_view.h - how a video is shown to clients, in one place.
 *
 * Routes select VIDEO_COLUMNS (in this order) from "videos v JOIN users u"
 * and turn each row into JSON with video_view().  Presigned URLs are made
 * for the objects that exist (the processed video and poster only once
 * processed); they live S3_PRESIGN_TTL_S seconds.
 */
#ifndef SC_VIDEO_VIEW_H
#define SC_VIDEO_VIEW_H

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "api.h"

#define VIDEO_COLUMNS                                                          \
	"v.id, v.title, v.status, v.is_public, "                               \
	"to_char(v.uploaded_at AT TIME ZONE 'UTC', "                           \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "                                  \
	"to_char(v.processed_at AT TIME ZONE 'UTC', "                          \
	"'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "                                  \
	"v.processed_key, v.poster_key, v.original_key, v.error_code, "        \
	"v.error_message, "                                                    \
	"(SELECT count(*) FROM votes vo WHERE vo.video_id = v.id), "           \
	"u.id, u.first_name || ' ' || u.last_name, u.city"

enum video_view_flags {
	VV_OWNER = 1 << 0,	/* original_url, error, progress */
	VV_PLAYER = 1 << 1,	/* who uploaded it (public listings) */
};

/* Row `row` of res as JSON, or NULL when out of memory. */
cJSON *video_view(struct deps *d, const PGresult *res, int row, unsigned flags,
		  long url_ttl_s);

/* Every row of res, as a JSON array; NULL when out of memory. */
cJSON *video_view_list(struct deps *d, const PGresult *res, unsigned flags,
		       long url_ttl_s);

#endif
