/*
 * routes/hls.c - a processed video's HLS playlists (RFC 8216).
 *
 *   GET /api/videos/{id}/hls/master.m3u8   the master playlist
 *   GET /api/videos/{id}/hls/{name}.m3u8   a rendition's media playlist
 *
 * The worker stored the playlists in the row (migrations/010_hls.up.sql)
 * and the media files in the private bucket.  The master's variant URIs
 * are relative ("360p.m3u8"), so they come back here; a media playlist
 * goes out with its one file's name replaced by a presigned GET of that
 * file (valid HLS_PRESIGN_TTL_S, long enough to watch), so a player
 * fetches every segment straight from S3 with Range on one URL.
 *
 * Who may: anyone, for a public processed video; its owner (Bearer
 * token), for their own unpublished one.  Anything else is 404, as if
 * the video did not exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "api.h"
#include "hls_ladder.h"
#include "http.h"
#include "log.h"
#include "m3u8.h"
#include "videos.h"

#define M3U8_TYPE "application/vnd.apple.mpegurl"
#define PREFIX "/api/videos/"
#define MIDDLE "/hls/"
#define EXT ".m3u8"

/*
 * The video id and the playlist's name ("master", "720p") from the
 * request's path, into id (cap_id) and name (HLS_NAME_MAX); 0 when the
 * path cannot name one.
 */
static int parse_path(const char *path, char *id, size_t cap_id, char *name)
{
	const char *p = path + strlen(PREFIX), *mid = strstr(p, MIDDLE);
	size_t n, i;

	if (!mid || (size_t)(mid - p) >= cap_id)
		return 0;
	memcpy(id, p, (size_t)(mid - p));
	id[mid - p] = '\0';
	p = mid + strlen(MIDDLE);
	n = strlen(p);
	if (n <= strlen(EXT) || strcmp(p + n - strlen(EXT), EXT) ||
	    n - strlen(EXT) >= HLS_NAME_MAX)
		return 0;
	n -= strlen(EXT);
	for (i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9')))
			return 0;
	memcpy(name, p, n);
	name[n] = '\0';
	return videos_valid_id(id);
}

/* Answer a playlist: not to be kept past the presigned URLs' life. */
static enum MHD_Result send_playlist(struct request *req,
				     struct MHD_Connection *conn,
				     const char *text, size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, (void *)text,
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return http_send_unavailable(req, conn, "the server", "out of memory");
	/* a private video's playlist is the owner's alone */
	MHD_add_response_header(resp, "Cache-Control", "private, max-age=60");
	return http_send_response(req, conn, MHD_HTTP_OK, resp, M3U8_TYPE);
}

/* The media playlist text with its file replaced by a presigned URL. */
static enum MHD_Result send_media(struct api *api, struct request *req,
				  struct MHD_Connection *conn, struct deps *d,
				  const char *text, const char *prefix,
				  const char *name)
{
	char file[HLS_NAME_MAX + 8], key[VIDEO_KEY_MAX + HLS_NAME_MAX + 8];
	struct buf out = BUF_INIT(1 << 20);
	enum MHD_Result ret;
	char *url = NULL;
	enum sc_err rc;

	snprintf(file, sizeof(file), "%s.m4s", name);
	snprintf(key, sizeof(key), "%s%s", prefix, file);
	rc = s3_presign_get_cached(d->s3, key, api->cfg.hls_presign_ttl_s, &url);
	if (rc) {
		ret = http_send_unavailable(req, conn, "S3", sc_strerror(rc));
		goto out;
	}
	rc = m3u8_replace_uri(text, file, url, &out);
	if (rc || !out.data) {
		ret = http_send_error(req, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				      "internal", "the playlist cannot be made");
		goto out;
	}
	ret = send_playlist(req, conn, out.data, out.len);
out:
	free(url);
	buf_release(&out);
	return ret;
}

static enum MHD_Result get_playlist(struct api *api, struct request *req,
				    struct MHD_Connection *conn)
{
	char id[40], name[HLS_NAME_MAX], owner[24];
	const char *params[] = { id, name, owner };
	struct deps *d;
	enum MHD_Result ret;
	PGresult *res;
	const char *text;

	if (!parse_path(req->path, id, sizeof(id), name))
		return http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found",
				       "no such playlist");
	snprintf(owner, sizeof(owner), "%lld", req->user_id);
	d = deps_get(api);
	if (!d)
		return http_send_unavailable(req, conn, "the server", "out of memory");
	/* one row when the caller may watch it and it has HLS */
	if (db_exec_prepared(d->db,
		    "SELECT v.hls->>'prefix', CASE WHEN $2 = 'master' "
		    "THEN v.hls->>'master' ELSE v.hls->'media'->>$2 END "
		    "FROM videos v WHERE v.id = $1 AND v.status = 'processed' "
		    "AND v.hls IS NOT NULL "
		    "AND (v.is_public OR v.user_id = $3::bigint)",
		    3, params, &res))
		return http_send_db_unavailable(api, req, conn, d);
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1)) {
		ret = http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found",
				      "no such playlist");
	} else {
		text = PQgetvalue(res, 0, 1);
		ret = !strcmp(name, "master")
			      ? send_playlist(req, conn, text, strlen(text))
			      : send_media(api, req, conn, d, text,
					   PQgetvalue(res, 0, 0), name);
	}
	PQclear(res);
	deps_put(api, d);
	return ret;
}

const struct route route_hls[] = {
	/* path_match keeps the last {}: the handler reads the id itself */
	{ "GET", "/api/videos/{}/hls/{}", get_playlist, R_AUTH_OPTIONAL | R_IO, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
