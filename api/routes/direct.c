/*
 * routes/direct.c - direct uploads to S3: the client sends the file to
 * S3 itself with a presigned POST, then tells the API it is there.
 *
 * POST /api/videos/upload-url {title, is_public}: after the same rate
 * limits and quotas as the classic upload (upload_guard.h), a new
 * video_id and a presigned POST form for originals/<video_id>/source.mp4
 * (s3_presign_post: exactly that key, a video/ Content-Type, 1 byte to
 * API_MAX_UPLOAD_MB, valid API_DIRECT_URL_TTL_S), signed with the
 * project's SigV4 code.  POST /api/videos/{video_id}/complete: the API
 * checks the object itself, its size by HEAD and its type by a ranged GET
 * of its first bytes (an ISO BMFF ftyp box, as the classic upload), and
 * only then records the video and its job exactly as the classic upload
 * does (201).  A missing object answers 400 and may be completed later;
 * a wrong one is removed and answers 400; neither makes a job.  A form
 * never completed is removed by the sweeper (upload_sweeper.h) after
 * twice API_DIRECT_URL_TTL_S, with its object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "direct_store.h"
#include "input.h"
#include "log.h"
#include "upload_guard.h"
#include "videos.h"

#define TITLE_MAX 200
#define HEAD_LEN 12		/* the bytes that decide the type */
#define FTYP_AT 4

static enum MHD_Result post_upload_url(struct api *api, struct request *req,
				       struct MHD_Connection *conn)
{
	long long max = (long long)api->cfg.api_max_upload_mb << 20;
	int ttl = api->cfg.api_direct_url_ttl_s;
	struct input in = { 0 };
	struct s3_post post;
	enum MHD_Result ret;
	const char *title;
	char id[40], key[VIDEO_KEY_MAX], ttl_text[16], max_text[24];
	cJSON *body, *fields;
	struct deps *d;
	int pub, i, n;

	title = input_string(&in, req->json, "title", 1, TITLE_MAX);
	if (title && !input_text_ok(title, strlen(title)))
		input_bad(&in, "title", "must be UTF-8 text without control characters");
	pub = input_bool(&in, req->json, "is_public", 0);
	if (input_failed(&in))
		return input_reply(&in, req, conn);
	if (!(d = upload_guard_begin(api, req, conn, &ret)))
		return ret;
	upload_new_id(id);
	videos_key(VIDEO_ORIGINAL, id, 0, key);
	if (s3_presign_post(d->s3, key, "video/", "video/mp4", max, ttl, &post)) {
		log_error("cannot presign a POST: %s", s3_errstr(d->s3));
		deps_put(api, d);
		return http_send_unavailable(req, conn, "storage", "no signing keys");
	}
	if (direct_store_create(d->db, id, req->user_id, title, pub, 2 * ttl)) {
		s3_post_release(&post);
		return http_send_db_unavailable(api, req, conn, d);
	}
	deps_put(api, d);
	snprintf(ttl_text, sizeof(ttl_text), "%d", ttl);
	snprintf(max_text, sizeof(max_text), "%lld", max);
	body = http_strings("video_id", id, "method", "POST", "url", post.url,
			    "file_field", "file", NULL);
	fields = cJSON_CreateObject();
	for (i = 0, n = post.nfields; fields && i < n; i++)
		if (!cJSON_AddStringToObject(fields, post.fields[i].name,
					     post.fields[i].value))
			break;
	s3_post_release(&post);
	if (!body || !fields || i < n ||
	    !cJSON_AddItemToObject(body, "fields", fields)) {
		cJSON_Delete(fields);	/* not in body: still ours */
		cJSON_Delete(body);
		return http_send_json(req, conn, MHD_HTTP_CREATED, NULL);
	}
	if (!cJSON_AddNumberToObject(body, "expires_in", ttl) ||
	    !cJSON_AddNumberToObject(body, "max_bytes", (double)max)) {
		cJSON_Delete(body);
		return http_send_json(req, conn, MHD_HTTP_CREATED, NULL);
	}
	log_info("direct upload %s offered to user %lld (valid %s s, at most %s "
		 "bytes)", id, req->user_id, ttl_text, max_text);
	return http_send_json(req, conn, MHD_HTTP_CREATED, body);
}

/* s3_get_object's writer: the first bytes. */
struct head_bytes {
	unsigned char b[HEAD_LEN];
	size_t n;
};

static enum sc_err head_bytes(void *arg, const void *data, size_t len)
{
	struct head_bytes *h = arg;
	size_t take = len < HEAD_LEN - h->n ? len : HEAD_LEN - h->n;

	memcpy(h->b + h->n, data, take);
	h->n += take;
	return SC_OK;
}

/* The object is bad: removed, with its row; 400 with why. */
static enum MHD_Result refuse_object(struct api *api, struct request *req,
				     struct MHD_Connection *conn, struct deps *d,
				     const char *key, const char *code,
				     const char *msg)
{
	if (s3_delete_object(d->s3, key))
		log_warn("cannot delete %s: %s", key, s3_errstr(d->s3));
	if (direct_store_take(d->db, req->param) == SC_ERR_DB)
		log_warn("direct upload %s: row not removed: %s", req->param,
			 db_errstr(d->db));
	deps_put(api, d);
	atomic_fetch_add(&api->m.uploads_refused, 1);
	log_info("direct upload %s refused: %s", req->param, code);
	return http_send_error(req, conn, MHD_HTTP_BAD_REQUEST, code, msg);
}

static enum MHD_Result post_complete(struct api *api, struct request *req,
				     struct MHD_Connection *conn)
{
	long long max = (long long)api->cfg.api_max_upload_mb << 20;
	char key[VIDEO_KEY_MAX];
	struct s3_object_info info;
	struct head_bytes head = { .n = 0 };
	struct direct_row row;
	struct deps *d;
	enum sc_err rc;

	if (!upload_id_ok(req->param))
		return http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found",
				       "no such upload");
	if (!(d = deps_get(api)))
		return http_send_unavailable(req, conn, "the server", "out of memory");
	rc = direct_store_get(d->db, req->param, &row);
	if (rc == SC_ERR_NOT_FOUND || (!rc && row.user != req->user_id)) {
		deps_put(api, d);
		return http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found",
				       "no such upload (or it expired)");
	}
	if (rc)
		return http_send_db_unavailable(api, req, conn, d);
	videos_key(VIDEO_ORIGINAL, req->param, 0, key);
	rc = s3_head_object(d->s3, key, &info);
	if (rc == SC_ERR_NOT_FOUND) {
		deps_put(api, d);
		return http_send_error(req, conn, MHD_HTTP_BAD_REQUEST,
				       "object_missing",
				       "the file is not in storage: send it with "
				       "the form from upload-url first");
	}
	if (!rc && info.size > max)
		return refuse_object(api, req, conn, d, key, "too_large",
				     "the file is larger than the upload limit");
	if (!rc)
		rc = s3_get_object(d->s3, key, 0, HEAD_LEN - 1, head_bytes, &head,
				   NULL);
	if (rc) {
		log_error("direct upload %s: %s", req->param, s3_errstr(d->s3));
		deps_put(api, d);
		return http_send_unavailable(req, conn, "storage", "s3 failed");
	}
	if (head.n < HEAD_LEN || memcmp(head.b + FTYP_AT, "ftyp", 4))
		return refuse_object(api, req, conn, d, key, "unsupported_media",
				     "the file is not an MP4 or MOV video (it "
				     "does not start with an ftyp box)");
	if ((rc = direct_store_take(d->db, req->param))) {
		if (rc != SC_ERR_NOT_FOUND)
			return http_send_db_unavailable(api, req, conn, d);
		deps_put(api, d);
		return http_send_error(req, conn, MHD_HTTP_CONFLICT, "conflict",
				       "this upload was completed or removed "
				       "meanwhile");
	}
	return upload_guard_answer(api, req, conn, d, req->param, row.title,
				   row.is_public, key, info.size);
}

const struct route route_direct[] = {
	{ "POST", "/api/videos/upload-url", post_upload_url,
	  R_AUTH | R_JSON | R_IO, NULL },
	{ "POST", "/api/videos/{}/complete", post_complete, R_AUTH | R_IO, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
