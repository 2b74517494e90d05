/*
 * routes/tus.c - resumable uploads, tus 1.0 at /api/uploads/.
 *
 * tus 1.0 (https://tus.io/protocols/resumable-upload): the core protocol
 * (HEAD, PATCH, OPTIONS) and the creation, creation-with-upload,
 * expiration, termination and checksum (sha1) extensions.  Every request but OPTIONS carries a
 * Bearer token and Tus-Resumable: 1.0.0 (412 otherwise); an upload is
 * its creator's alone (404 to anyone else).  The id in Location is the
 * future video's id.
 *
 * POST makes an upload of Upload-Length bytes (at most
 * API_MAX_UPLOAD_MB: 413 past it) with Upload-Metadata title (required),
 * is_public and filename (ignored, as the classic upload ignores it),
 * after the same rate limits and quotas as the classic upload
 * (upload_guard.h); it expires API_TUS_EXPIRY_S later (Upload-Expires).
 * A POST may carry the first bytes (creation-with-upload): it is then a
 * PATCH at offset 0 whose check makes the upload first, answered 201
 * with Location and Upload-Offset.
 * HEAD says how many bytes arrived.  PATCH appends bytes at
 * Upload-Offset: like the classic upload it counts in the player's
 * uploads in flight and takes an upload slot, and its bytes go to S3 on
 * a transfer's thread (tus_patch.h); the answer is 204 with the new
 * Upload-Offset, and the PATCH that brings the last byte leaves the
 * video as POST /api/videos/upload does.  DELETE ends an unfinished
 * upload and removes its bytes.  All the state is in PostgreSQL
 * (tus_store.h), so any instance takes any request.  A POST with
 * X-HTTP-Method-Override: PATCH, HEAD or DELETE is that method (http.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "input.h"
#include "log.h"
#include "tus_patch.h"
#include "upload_guard.h"
#include "videos.h"

#define TUS_VERSION "1.0.0"
#define TUS_EXTENSIONS \
	"creation,creation-with-upload,expiration,termination,checksum"
#define TITLE_MAX 200
#define METADATA_MAX 4096
#define OFFSET_CT "application/offset+octet-stream"

/* ---- headers ------------------------------------------------------- */

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* A non-negative decimal number without sign or spaces; -1 if not. */
static long long parse_size(const char *v)
{
	long long n = 0;

	if (!v || !*v || strlen(v) > 18)
		return -1;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return -1;
		n = n * 10 + (*v - '0');
	}
	return n;
}

/* An answer of tus: no body, the given header pairs (name, value, ...,
 * NULL); Tus-Resumable is added to every answer of these routes (R_TUS). */
static enum MHD_Result send_tus(struct request *req, struct MHD_Connection *conn,
				unsigned status, ...) __attribute__((sentinel));
static enum MHD_Result send_tus(struct request *req, struct MHD_Connection *conn,
				unsigned status, ...)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	const char *name, *value;
	va_list ap;

	if (!resp)
		return MHD_NO;
	va_start(ap, status);
	while ((name = va_arg(ap, const char *))) {
		value = va_arg(ap, const char *);
		MHD_add_response_header(resp, name, value);
	}
	va_end(ap);
	return http_send_response(req, conn, status, resp, NULL);
}

/* Tus-Resumable must name the version we speak (tus 1.0: 412). */
static int version_ok(struct request *req, struct MHD_Connection *conn)
{
	const char *v = header(conn, "Tus-Resumable");

	if (v && !strcmp(v, TUS_VERSION))
		return 1;
	http_set_error(req, MHD_HTTP_PRECONDITION_FAILED, "tus_version",
		       "send Tus-Resumable: " TUS_VERSION);
	return 0;
}

/* A refusal recorded in req (a 412 gets Tus-Version: R_TUS). */
static enum MHD_Result send_refusal(struct request *req,
				    struct MHD_Connection *conn)
{
	return http_send_recorded(req, conn);
}

/* ---- OPTIONS: what this server speaks ------------------------------ */

static enum MHD_Result tus_options(struct api *api, struct request *req,
				   struct MHD_Connection *conn)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	char max[24];

	if (!resp)
		return MHD_NO;
	snprintf(max, sizeof(max), "%lld", (long long)api->cfg.api_max_upload_mb << 20);
	MHD_add_response_header(resp, "Tus-Version", TUS_VERSION);
	MHD_add_response_header(resp, "Tus-Extension", TUS_EXTENSIONS);
	MHD_add_response_header(resp, "Tus-Max-Size", max);
	MHD_add_response_header(resp, "Tus-Checksum-Algorithm", "sha1");
	http_preflight_headers(req, resp);
	return http_send_response(req, conn, MHD_HTTP_NO_CONTENT, resp, NULL);
}

/* ---- POST: a new upload -------------------------------------------- */

struct metadata {
	char title[TITLE_MAX + 1];
	size_t title_len;
	int has_title;
	int is_public;
	int bad_public;
	int bad;		/* not tus's "key base64,key base64" */
	int title_not_base64;
	int repeated;		/* a key twice (tus 1.0: keys are unique) */
};

/* Whether the key of the pair at p (klen bytes) is also the key of a
 * pair before it in the header v. */
static int key_before(const char *v, const char *p, size_t klen)
{
	size_t n;

	for (; v < p; v += n + (v[n] == ',')) {
		while (*v == ' ')
			v++;
		n = strcspn(v, ",");
		if (v < p && strcspn(v, " ,") == klen && !memcmp(v, p, klen))
			return 1;
	}
	return 0;
}

/* One "key value" pair of Upload-Metadata (value base64, may be absent). */
static void metadata_pair(struct metadata *m, const char *p, size_t n)
{
	char key[64], val[TITLE_MAX + 16];
	size_t klen = 0, vlen = 0;
	const char *sp = memchr(p, ' ', n);

	klen = sp ? (size_t)(sp - p) : n;
	if (klen == 0 || klen >= sizeof(key)) {
		m->bad = 1;
		return;
	}
	memcpy(key, p, klen);
	key[klen] = '\0';
	if (sp && sodium_base642bin((unsigned char *)val, sizeof(val) - 1, sp + 1,
				    n - klen - 1, NULL, &vlen, NULL,
				    sodium_base64_VARIANT_ORIGINAL)) {
		if (!strcmp(key, "title")) {
			/* too long for val, or (when it would fit) not base64 */
			m->title_not_base64 =
				(n - klen - 1) / 4 * 3 <= sizeof(val) - 1;
			vlen = sizeof(val);
		} else if (strcmp(key, "filename"))
			m->bad = 1;
	}
	if (vlen < sizeof(val))
		val[vlen] = '\0';
	if (!strcmp(key, "title")) {
		m->has_title = 1;
		if (vlen > TITLE_MAX || !input_text_ok(val, vlen)) {
			m->title_len = TITLE_MAX + 1;
			return;
		}
		memcpy(m->title, val, vlen + 1);
		m->title_len = vlen;
	} else if (!strcmp(key, "is_public")) {
		m->bad_public = !input_text_ok(val, vlen) ||
				input_parse_bool(val, &m->is_public);
	}
}

static void parse_metadata(const char *v, struct metadata *m)
{
	const char *start = v;
	size_t n;

	memset(m, 0, sizeof(*m));
	if (!v)
		return;
	if (strlen(v) > METADATA_MAX) {
		m->bad = 1;
		return;
	}
	for (; *v; v += n + (v[n] == ',')) {
		while (*v == ' ')
			v++;
		n = strcspn(v, ",");
		if (n && key_before(start, v, strcspn(v, " ,")))
			m->repeated = 1;
		else if (n)
			metadata_pair(m, v, n);
	}
}

/*
 * A creation's headers into *c, without I/O: 0, or 1 refused (recorded
 * in req: 412, 400 with the fields, 413 past the upload limit).
 */
static int creation_parse(struct api *api, struct request *req,
			  struct MHD_Connection *conn, struct tus_creation *c)
{
	long long max = (long long)api->cfg.api_max_upload_mb << 20;
	struct input in = { 0 };
	struct metadata m;

	if (!version_ok(req, conn))
		return 1;
	if (header(conn, "Upload-Defer-Length")) {
		http_set_error(req, MHD_HTTP_BAD_REQUEST, "invalid_fields",
			       "send Upload-Length: the size must be known "
			       "(Upload-Defer-Length is not supported)");
		return 1;
	}
	if ((c->length = parse_size(header(conn, "Upload-Length"))) <= 0) {
		http_set_error(req, MHD_HTTP_BAD_REQUEST, "invalid_fields",
			       "Upload-Length must be the file's size in bytes");
		return 1;
	}
	if (c->length > max) {
		atomic_fetch_add(&api->m.uploads_refused, 1);
		http_set_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
			       "the file is larger than %d MB",
			       api->cfg.api_max_upload_mb);
		return 1;
	}
	parse_metadata(header(conn, "Upload-Metadata"), &m);
	if (m.bad)
		input_bad(&in, "Upload-Metadata",
			  "must be key base64 pairs separated by commas");
	if (m.repeated)
		input_bad(&in, "Upload-Metadata", "has a key twice");
	if (m.title_not_base64)
		input_bad(&in, "title", "must be base64 (RFC 4648, with padding)");
	else if (!m.has_title || m.title_len == 0)
		input_bad(&in, "title", "is required");
	else if (m.title_len > TITLE_MAX)
		input_bad(&in, "title", "must be UTF-8 text without control "
			  "characters, 200 bytes at most");
	if (m.bad_public)
		input_bad(&in, "is_public", "must be true or false");
	if (input_failed(&in)) {
		http_set_error(req, MHD_HTTP_BAD_REQUEST, "invalid_fields",
			       "some fields are missing or invalid");
		req->err_fields = in.fields;
		return 1;
	}
	snprintf(c->network, sizeof(c->network), "%s", req->client.network);
	snprintf(c->title, sizeof(c->title), "%s", m.title);
	c->is_public = m.is_public;
	c->part_size = (long long)api->cfg.api_upload_part_mb << 20;
	c->expiry_s = api->cfg.api_tus_expiry_s;
	return 0;
}

/* POST without a body, on the I/O pool: the upload alone. */
static enum MHD_Result tus_create(struct api *api, struct request *req,
				  struct MHD_Connection *conn)
{
	struct tus_creation c;
	char id[40], loc[80], expires[40];
	enum MHD_Result ret;
	struct deps *d;

	if (creation_parse(api, req, conn, &c))
		return send_refusal(req, conn);
	if (!(d = upload_guard_begin(api, req, conn, &ret)))
		return ret;
	upload_new_id(id);
	if (tus_store_create(d->db, id, req->user_id, c.length, c.part_size,
			     c.title, c.is_public, c.expiry_s, expires))
		return http_send_db_unavailable(api, req, conn, d);
	deps_put(api, d);
	log_info("tus upload %s created by user %lld: %lld bytes", id,
		 req->user_id, c.length);
	snprintf(loc, sizeof(loc), "/api/uploads/%s", id);
	return send_tus(req, conn, MHD_HTTP_CREATED, "Location", loc,
			"Upload-Expires", expires, NULL);
}

/* ---- HEAD and DELETE ------------------------------------------------ */

/* The version and the id checked, handles taken: d, or NULL answered. */
static struct deps *tus_begin(struct api *api, struct request *req,
			      struct MHD_Connection *conn, enum MHD_Result *ret)
{
	struct deps *d;

	if (!version_ok(req, conn))
		*ret = send_refusal(req, conn);
	else if (!upload_id_ok(req->param))
		*ret = http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found",
				       "no such upload");
	else if (!(d = deps_get(api)))
		*ret = http_send_unavailable(req, conn, "the server",
					     "out of memory");
	else
		return d;
	return NULL;
}

/* The caller's upload named in the path, into *row: 0, or the status
 * to answer (404 unknown or another player's, 410 expired, 503). */
static unsigned own_row(struct request *req, struct deps *d,
			struct tus_row *row)
{
	enum sc_err rc = tus_store_get(d->db, req->param, row);

	if (rc == SC_ERR_NOT_FOUND || (!rc && row->user != req->user_id))
		return MHD_HTTP_NOT_FOUND;
	if (rc)
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	if (row->expired && !row->completed)
		return MHD_HTTP_GONE;
	return 0;
}

/* own_row's refusal, d given back. */
static enum MHD_Result send_row_refusal(struct api *api, struct request *req,
					struct MHD_Connection *conn,
					struct deps *d, unsigned status)
{
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		return http_send_db_unavailable(api, req, conn, d);
	deps_put(api, d);
	if (status == MHD_HTTP_GONE)
		return http_send_error(req, conn, status, "expired",
				       "this upload expired; start again");
	return http_send_error(req, conn, status, "not_found", "no such upload");
}

static enum MHD_Result tus_head(struct api *api, struct request *req,
				struct MHD_Connection *conn)
{
	char off[24], len[24];
	struct tus_row row;
	enum MHD_Result ret;
	struct deps *d;
	unsigned st;

	if (!(d = tus_begin(api, req, conn, &ret)))
		return ret;
	if ((st = own_row(req, d, &row)))
		return send_row_refusal(api, req, conn, d, st);
	deps_put(api, d);
	snprintf(off, sizeof(off), "%lld", row.offset);
	snprintf(len, sizeof(len), "%lld", row.length);
	if (row.completed)
		return send_tus(req, conn, MHD_HTTP_OK, "Upload-Offset", off,
				"Upload-Length", len, NULL);
	return send_tus(req, conn, MHD_HTTP_OK, "Upload-Offset", off,
			"Upload-Length", len, "Upload-Expires", row.expires, NULL);
}

/* DELETE under the upload's lock: 0 done, or the status to answer. */
static unsigned terminate(struct request *req, struct deps *d)
{
	struct tus_row row;
	unsigned st;

	if ((st = own_row(req, d, &row)))
		return st;
	if (row.completed)
		return MHD_HTTP_BAD_REQUEST;
	if (tus_store_discard(d, req->param, &row))
		return MHD_HTTP_SERVICE_UNAVAILABLE;
	return 0;
}

static enum MHD_Result tus_delete(struct api *api, struct request *req,
				  struct MHD_Connection *conn)
{
	enum MHD_Result ret;
	struct deps *d;
	unsigned st;
	int got;

	if (!(d = tus_begin(api, req, conn, &ret)))
		return ret;
	if ((got = tus_store_lock(d->db, req->param)) < 0)
		return http_send_db_unavailable(api, req, conn, d);
	if (!got) {
		deps_put(api, d);
		req->retry_after = 1;
		return http_send_error(req, conn, 423, "upload_busy",
				       "a PATCH is writing to this upload; try "
				       "again in a moment");
	}
	st = terminate(req, d);
	tus_store_unlock(d->db, req->param);
	if (st == MHD_HTTP_BAD_REQUEST) {
		deps_put(api, d);
		return http_send_error(req, conn, st, "upload_complete",
				       "this upload is a video now: delete it "
				       "with DELETE /api/videos/{video_id}");
	}
	if (st)
		return send_row_refusal(api, req, conn, d, st);
	deps_put(api, d);
	log_info("tus upload %s terminated by its player", req->param);
	return send_tus(req, conn, MHD_HTTP_NO_CONTENT, NULL);
}

/* ---- PATCH: bytes at an offset -------------------------------------- */

struct tus_req {
	struct api *api;
	struct request *req;
	struct tus_job *job;		/* a reference of ours (tus_patch.h) */
	int job_given;			/* the other is the transfer's or pool's */
	struct s3_client *s3;		/* until the transfer takes it */
	struct transfer *x;		/* once the first byte came */
	struct transfer_result result;
	struct upload_seat seat;
	long long user;			/* counted in api->uploaders, or 0 */
};

static void tus_req_free(struct api *api, void *state)
{
	struct tus_req *t = state;

	if (!t)
		return;
	if (t->x) {
		/* the client went away: what came is kept (tus_patch.h) */
		transfer_abort(t->x);
		log_info("tus PATCH of %s ended early; the bytes that came are "
			 "kept", t->job->id);
	}
	if (t->job && !t->job_given)
		tus_job_unref(t->job);	/* the other reference, never given */
	tus_job_unref(t->job);
	s3_client_free(t->s3);
	upload_seat_release(api, &t->seat);
	upload_release(api, t->user);
	free(t);
}

/* "sha1 <base64>" into job; 0, or 1 refused (recorded in req). */
static int parse_checksum(struct request *req, const char *v,
			  struct tus_job *j)
{
	size_t n = 0;

	if (!v)
		return 0;
	if (strncmp(v, "sha1 ", 5)) {
		http_set_error(req, MHD_HTTP_BAD_REQUEST, "checksum_algorithm",
			       "Upload-Checksum: only sha1 is supported");
		return 1;
	}
	if (sodium_base642bin(j->sha1, sizeof(j->sha1), v + 5, strlen(v + 5),
			      NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) ||
	    n != TUS_SHA1_LEN) {
		http_set_error(req, MHD_HTTP_BAD_REQUEST, "invalid_fields",
			       "Upload-Checksum: sha1 and the base64 of 20 bytes");
		return 1;
	}
	j->has_checksum = 1;
	return 0;
}

/*
 * The request's state for a body at offset of upload id (made first
 * from *create when not NULL): the job, the admission, an S3 client.
 * 0, or -1 out of memory; a refusal is recorded in req.
 */
static int stream_begin(struct api *api, struct request *req,
			struct MHD_Connection *conn, const char *id,
			long long offset, const struct tus_creation *create)
{
	const char *cl = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);
	struct tus_req *t = NULL;
	struct tus_job *j;
	int rc = 0;

	if (!(j = tus_job_new(api, req->user_id, id)))
		return -1;
	j->client_offset = offset;
	j->content_length = cl ? parse_size(cl) : -1;
	if (parse_checksum(req, header(conn, "Upload-Checksum"), j) ||
	    (rc = upload_admit(api, req)) != 0 ||
	    !(t = calloc(1, sizeof(*t)))) {
		if (rc == 0 && !req->err_status)
			upload_release(api, req->user_id);	/* no memory */
		tus_job_unref(j);
		tus_job_unref(j);
		return req->err_status ? 0 : -1;
	}
	t->api = api;
	t->req = req;
	t->job = j;
	t->user = req->user_id;
	if (create) {
		j->create = *create;
		j->creating = 1;
	}
	req->state = t;
	req->state_free = tus_req_free;
	if (!(t->s3 = api_s3_client(api)))
		return -1;
	return 0;
}

/* Headers: what can be refused without a query, before the body. */
static int patch_begin(struct api *api, struct request *req,
		       struct MHD_Connection *conn)
{
	const char *ct = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);
	long long offset = parse_size(header(conn, "Upload-Offset"));

	if (!version_ok(req, conn))
		return 0;
	if (!upload_id_ok(req->param)) {
		http_set_error(req, MHD_HTTP_NOT_FOUND, "not_found", "no such upload");
		return 0;
	}
	if (!ct || strcmp(ct, OFFSET_CT)) {
		http_set_error(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			       "unsupported_media",
			       "a PATCH's Content-Type is " OFFSET_CT);
		return 0;
	}
	if (offset < 0) {
		http_set_error(req, MHD_HTTP_BAD_REQUEST, "invalid_fields",
			       "Upload-Offset must be a number of bytes");
		return 0;
	}
	return stream_begin(api, req, conn, req->param, offset, NULL);
}

/* The transfer failed while the body came: its refusal, or S3's. */
static int patch_failed(struct tus_req *t)
{
	struct tus_job *j = t->job;

	if (atomic_load(&j->refused))
		refusal_record(t->req, &j->refusal);
	else
		http_set_error(t->req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
			       "storage is unavailable; try again shortly");
	transfer_abort(t->x);
	t->x = NULL;
	return 0;
}

/* The first byte: the transfer takes the job, the S3 client, the slot. */
static int patch_start(struct tus_req *t)
{
	struct api *api = t->api;
	struct transfer_check check = { tus_job_check, t->job, tus_job_done,
					tus_job_send };
	char key[VIDEO_KEY_MAX];
	enum sc_err rc;

	videos_key(VIDEO_ORIGINAL, t->job->id, 0, key);
	t->job_given = 1;	/* the transfer's, whatever happens */
	rc = transfer_start(api->transfers, t->s3, key, "video/mp4",
			    (size_t)api->cfg.api_upload_part_mb << 20, &check,
			    &t->x);
	t->s3 = NULL;
	if (rc) {
		http_set_error(t->req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
			       rc == SC_ERR_CANCELLED
				       ? "the server is shutting down; try again"
				       : "out of memory");
		return 0;
	}
	t->seat.passed = 1;
	return 1;
}

/* A piece of a PATCH's (or a creation's) body. */
static int body_piece(struct api *api, struct request *req,
		      struct MHD_Connection *conn, const char *data, size_t len)
{
	struct tus_req *t = req->state;
	int room;

	(void)data;
	if (!t || req->err_status || len == 0)
		return 0;
	if (t->seat.waiting && upload_seat_resumed(api, req, &t->seat))
		return 0;
	if (!t->seat.has_slot) {
		int r = upload_seat_take(api, req, &t->seat, conn);

		if (r)
			return r > 0 ? 1 : 0;
	}
	if (!t->x && !patch_start(t))
		return 0;
	if ((room = transfer_room(t->x, len, conn)) == 0)
		return 1;	/* paused until the transfer catches up */
	if (room < 0 || transfer_write(t->x, data, len))
		return patch_failed(t);
	return 0;
}

static int patch_stream(struct api *api, struct request *req,
			struct MHD_Connection *conn, const char *data, size_t len)
{
	if (!data)
		return patch_begin(api, req, conn);
	return body_piece(api, req, conn, data, len);
}

/*
 * POST's headers (creation-with-upload): with a body, the upload is made
 * by the transfer's check before the body's bytes go on (tus_patch.h);
 * without one, by tus_create() on the I/O pool.
 */
static int create_stream(struct api *api, struct request *req,
			 struct MHD_Connection *conn, const char *data,
			 size_t len)
{
	const char *ct = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);
	struct tus_creation c;
	char id[40];

	if (data)
		return body_piece(api, req, conn, data, len);
	if (!req->in_body || creation_parse(api, req, conn, &c))
		return 0;
	if (!ct || strcmp(ct, OFFSET_CT)) {
		http_set_error(req, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			       "unsupported_media",
			       "a creation's body has Content-Type " OFFSET_CT);
		return 0;
	}
	upload_new_id(id);
	return stream_begin(api, req, conn, id, 0, &c);
}

/* A job's outcome: its refusal, or the new offset (204; 201 with
 * Location for a creation). */
static enum MHD_Result job_answer(struct request *req,
				  struct MHD_Connection *conn, struct tus_job *j)
{
	char off[24], loc[80];

	if (atomic_load(&j->refused)) {
		refusal_record(req, &j->refusal);
		return send_refusal(req, conn);
	}
	snprintf(off, sizeof(off), "%lld", j->offset);
	if (j->completed)
		log_info("tus upload %s complete: video recorded", j->id);
	if (!j->creating)
		return send_tus(req, conn, MHD_HTTP_NO_CONTENT, "Upload-Offset",
				off, NULL);
	snprintf(loc, sizeof(loc), "/api/uploads/%s", j->id);
	return send_tus(req, conn, MHD_HTTP_CREATED, "Location", loc,
			"Upload-Offset", off, "Upload-Expires", j->row.expires,
			NULL);
}

/* The transfer's answer. */
static enum MHD_Result patch_answer(struct api *api, struct request *req,
				    struct MHD_Connection *conn)
{
	struct tus_req *t = req->state;

	(void)api;
	if (t->result.err && !atomic_load(&t->job->refused)) {
		log_error("tus upload failed: %s", t->result.errstr);
		return http_send_error(req, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				       "unavailable",
				       "storage is unavailable; try again shortly");
	}
	return job_answer(req, conn, t->job);
}

/* A PATCH without a body: the checks alone, on the I/O pool. */
static enum MHD_Result patch_empty(struct api *api, struct request *req,
				   struct MHD_Connection *conn)
{
	struct tus_req *t = req->state;
	struct tus_job *j = t->job;
	enum MHD_Result ret;

	(void)api;
	tus_job_check(j);	/* a refusal is in j */
	ret = job_answer(req, conn, j);
	t->job_given = 1;
	tus_job_done(j);	/* unlocks; the request's reference stays */
	return ret;
}

static enum MHD_Result tus_patch(struct api *api, struct request *req,
				 struct MHD_Connection *conn)
{
	struct tus_req *t = req->state;
	struct transfer *x = t->x;

	if (!x && !t->job_given)
		return http_defer(api, req, conn, HTTP_POOL_IO, patch_empty);
	t->x = NULL;	/* the transfer's now, until it has answered */
	if (!x) {
		t->result.err = SC_ERR_S3;
		snprintf(t->result.errstr, sizeof(t->result.errstr), "no transfer");
	} else if (!transfer_finish(x, req, conn, patch_answer, &t->result)) {
		return MHD_YES;
	}
	/* it had failed already: answered here, without I/O */
	return patch_answer(api, req, conn);
}

/* POST: without a body the upload alone, on the I/O pool; with one, as
 * a PATCH at offset 0 whose check makes the upload. */
static enum MHD_Result tus_post(struct api *api, struct request *req,
				struct MHD_Connection *conn)
{
	if (!req->state)
		return http_defer(api, req, conn, HTTP_POOL_IO, tus_create);
	return tus_patch(api, req, conn);
}

const struct route route_tus[] = {
	{ "OPTIONS", "/api/uploads/", tus_options, R_TUS, NULL },
	{ "OPTIONS", "/api/uploads", tus_options, R_TUS, NULL },
	{ "POST", "/api/uploads/", tus_post, R_AUTH | R_STREAM | R_TUS,
	  create_stream },
	{ "POST", "/api/uploads", tus_post, R_AUTH | R_STREAM | R_TUS,
	  create_stream },
	{ "HEAD", "/api/uploads/{}", tus_head, R_AUTH | R_IO | R_TUS, NULL },
	{ "PATCH", "/api/uploads/{}", tus_patch, R_AUTH | R_STREAM | R_TUS,
	  patch_stream },
	{ "DELETE", "/api/uploads/{}", tus_delete, R_AUTH | R_IO | R_TUS, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
