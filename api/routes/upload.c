/*
 * routes/upload.c - POST /api/videos/upload: a video into S3, a row, a job.
 *
 * The multipart/form-data body is parsed as it arrives (libmicrohttpd's
 * post processor) and the bytes of video_file go straight into an S3
 * multipart upload to originals/<video_id>/source.mp4, sent by a thread
 * of the upload's own (transfer.h): the event loop never waits on S3, and
 * the API holds a part buffer and a ring per upload (transfer.h), whatever
 * the file's size.  The file's type is
 * decided by its first bytes (an ISO BMFF ftyp box: MP4, MOV), never by
 * the client's Content-Type or file name; the file name is not used at
 * all.  The size limit is enforced twice: at once from Content-Length,
 * and while streaming for bodies sent without one (video_file's bytes,
 * and the whole form within FORM_OVERHEAD_MAX more).  A player has at
 * most API_UPLOADS_PER_USER uploads in flight (429 past it), and an
 * upload waits at most API_UPLOAD_WAIT_S for a slot (503 then).  Before
 * anything goes to S3, the transfer's thread holds the upload to the rate
 * limits per client address and per player (rate_guard.h, failing open)
 * and to the player's quotas, API_VIDEOS_PER_DAY (429 with Retry-After)
 * and API_VIDEOS_MAX (400); the body meanwhile fills the transfer's ring
 * and then waits, as it does for S3.  The row is inserted only if the
 * quotas still allow it then, with the player locked (quota.h), so
 * uploads started together cannot pass them together.  Any refusal aborts
 * the S3 upload, so no object and no row remain.  Once the object is
 * complete the row is inserted ('uploaded') and the job enqueued after
 * the commit, on the transfer's thread; if Redis is down at that moment
 * the upload still succeeds and the workers' reconciler queues the video
 * later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include "input.h"
#include "log.h"
#include "quota.h"
#include "rate_guard.h"
#include "transfer.h"
#include "upload_guard.h"
#include "videos.h"

#define TITLE_MAX 200
#define IS_PUBLIC_MAX 15		/* "false" with room to spare */
#define OTHER_FIELDS_MAX (64 * 1024)	/* bytes of fields we ignore */
#define FORM_OVERHEAD_MAX (64 * 1024)	/* boundaries, headers, fields */
#define FTYP_AT 4

/* What the transfer's thread checks before S3 (transfer.h), and its
 * verdict, read by the upload once the transfer has failed. */
struct upload_check {
	struct api *api;
	long long user;
	char network[64];
	struct refusal refusal;		/* written before refused is set */
	atomic_int refused;		/* the loop may look while it runs */
};

struct upload {
	struct api *api;
	struct request *req;
	struct MHD_PostProcessor *pp;
	struct s3_client *s3;		/* until the transfer takes it */
	struct transfer *x;		/* the S3 side, once the type is known */
	struct transfer_result result;
	char video_id[40];
	char key[VIDEO_KEY_MAX];
	long long max_bytes;
	long long bytes;		/* of video_file so far */
	unsigned char head[12];		/* its first bytes, for the type */
	size_t headlen;
	long long other;		/* bytes of fields we ignore */
	struct buf title;		/* bounded: TITLE_MAX + 1 */
	struct buf is_public;		/* bounded: IS_PUBLIC_MAX */
	int title_long, is_public_long;	/* more than their bound came */
	int pub;			/* is_public, checked */
	int counted;			/* in uploads_in_flight */
	long long user;			/* counted in api->uploaders, or 0 */
	long long body;			/* bytes of the whole form so far */
	struct upload_seat seat;	/* a slot, taken before the first byte */
	/* the rate limits and quotas, checked by the transfer's thread
	 * before S3 (the transfer's, freed with it; read while u->x is) */
	struct upload_check *check;
};

static void upload_free(struct api *api, void *state)
{
	struct upload *u = state;

	if (!u)
		return;
	if (u->x) {
		transfer_abort(u->x);
		log_info("upload of %s abandoned; the S3 upload was aborted",
			 u->video_id);
	}
	if (u->pp)
		MHD_destroy_post_processor(u->pp);
	s3_client_free(u->s3);
	buf_release(&u->title);
	buf_release(&u->is_public);
	upload_seat_release(api, &u->seat);
	if (u->counted)
		atomic_fetch_sub(&api->m.uploads_in_flight, 1);
	upload_release(api, u->user);
	free(u);
}

/* Refuse the upload: record the error, drop what went to S3. */
static int refuse(struct upload *u, unsigned status, const char *code,
		  const char *msg)
{
	http_set_error(u->req, status, code, "%s", msg);
	if (u->x) {
		transfer_abort(u->x);	/* on the transfer's thread */
		u->x = NULL;
		log_info("upload refused after %lld bytes (%s); the S3 upload "
			 "was aborted", u->bytes, code);
	} else {
		log_info("upload refused after %lld bytes (%s)", u->bytes, code);
	}
	atomic_fetch_add(&u->api->m.uploads_refused, 1);
	return -1;
}

/* S3 failed under the upload, or the check refused it before S3. */
static int storage_failed(struct upload *u)
{
	if (u->check && atomic_load(&u->check->refused)) {
		upload_remember(u->api, u->user, &u->check->refusal);
		refusal_record(u->req, &u->check->refusal);
		return refuse(u, u->check->refusal.status, u->check->refusal.code,
			      u->check->refusal.message);
	}
	log_error("S3 upload of %s failed: %s", u->key, transfer_errstr(u->x));
	return refuse(u, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		      "storage is unavailable; try again shortly");
}

/* The API is stopping: slots are no longer handed out. */
static int shutting_down(struct upload *u)
{
	return refuse(u, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		      "the server is shutting down; try again");
}

/* A piece of a small text field; past its bound only the fact is kept. */
static void keep_text(struct buf *b, int *too_long, const char *data,
		      size_t size)
{
	if (!*too_long && buf_append(b, data, size))
		*too_long = 1;	/* too long, or no memory for it: refused */
}

/* On the transfer's thread: the rate limits, then the quotas. */
static int upload_checked(void *ctx)
{
	struct upload_check *c = ctx;
	struct deps *d;
	int refused;

	if (!(d = deps_get(c->api))) {
		c->refusal = (struct refusal){ MHD_HTTP_SERVICE_UNAVAILABLE, 0,
					       NULL, "unavailable", "out of memory" };
		atomic_store(&c->refused, 1);
		return 1;
	}
	refused = upload_guard_check(c->api, d, c->user, c->network, &c->refusal);
	deps_put(c->api, d);
	atomic_store(&c->refused, refused);
	return refused;
}

/* The bytes of video_file, in order. */
static int file_bytes(struct upload *u, const char *data, size_t len)
{
	struct transfer_check check;
	struct upload_check *c;
	enum sc_err rc;
	size_t take;

	if (u->bytes + (long long)len > u->max_bytes) {
		char msg[128];

		snprintf(msg, sizeof(msg), "video_file is larger than %d MB",
			 u->api->cfg.api_max_upload_mb);
		return refuse(u, MHD_HTTP_BAD_REQUEST, "too_large", msg);
	}
	u->bytes += (long long)len;
	if (u->headlen < sizeof(u->head)) {
		/* hold the first bytes back until the type is known */
		take = sizeof(u->head) - u->headlen < len ? sizeof(u->head) - u->headlen
							  : len;
		memcpy(u->head + u->headlen, data, take);
		u->headlen += take;
		data += take;
		len -= take;
		if (u->headlen < sizeof(u->head))
			return 0;
		if (memcmp(u->head + FTYP_AT, "ftyp", 4))
			return refuse(u, MHD_HTTP_BAD_REQUEST, "unsupported_media",
				      "video_file is not an MP4 or MOV video "
				      "(it does not start with an ftyp box)");
		/* the S3 client and the slot go to the transfer */
		if (!(c = calloc(1, sizeof(*c))))
			return refuse(u, MHD_HTTP_SERVICE_UNAVAILABLE,
				      "unavailable", "out of memory");
		c->api = u->api;
		c->user = u->user;
		snprintf(c->network, sizeof(c->network), "%s",
			 u->req->client.network);
		check = (struct transfer_check){ upload_checked, c, free, NULL };
		rc = transfer_start(u->api->transfers, u->s3, u->key, "video/mp4",
				    (size_t)u->api->cfg.api_upload_part_mb << 20,
				    &check, &u->x);
		u->s3 = NULL;
		u->check = rc ? NULL : c;	/* freed with the transfer */
		if (rc == SC_ERR_CANCELLED)
			return shutting_down(u);
		if (rc)
			return refuse(u, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
				      "out of memory");
		u->seat.passed = 1;
		if (transfer_write(u->x, u->head, u->headlen))
			return storage_failed(u);
	}
	if (len && transfer_write(u->x, data, len))
		return storage_failed(u);
	return 0;
}

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind,
				const char *key, const char *filename,
				const char *content_type,
				const char *transfer_encoding, const char *data,
				uint64_t off, size_t size)
{
	struct upload *u = cls;

	(void)kind;
	(void)filename;		/* never used: names are the client's fiction */
	(void)content_type;	/* likewise: the bytes decide */
	(void)transfer_encoding;
	if (u->req->err_status)
		return MHD_NO;
	if (!strcmp(key, "video_file")) {
		if (off == 0 && size > 0 && u->bytes > 0) {
			refuse(u, MHD_HTTP_BAD_REQUEST, "invalid_fields",
			       "send one video_file per upload");
			return MHD_NO;
		}
		return size && file_bytes(u, data, size) ? MHD_NO : MHD_YES;
	}
	if (!strcmp(key, "title")) {
		keep_text(&u->title, &u->title_long, data, size);
		return MHD_YES;
	}
	if (!strcmp(key, "is_public")) {
		keep_text(&u->is_public, &u->is_public_long, data, size);
		return MHD_YES;
	}
	u->other += (long long)size;
	if (u->other > OTHER_FIELDS_MAX) {
		refuse(u, MHD_HTTP_BAD_REQUEST, "too_large",
		       "too many bytes in fields other than video_file, title "
		       "and is_public");
		return MHD_NO;
	}
	return MHD_YES;
}

/* Headers: refuse what can be refused before a byte is read. */
static int upload_begin(struct api *api, struct request *req,
			struct MHD_Connection *conn)
{
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	long long max = (long long)api->cfg.api_max_upload_mb << 20;
	struct upload *u;

	if (!ct || strncasecmp(ct, "multipart/form-data", 19)) {
		http_set_error(req, MHD_HTTP_BAD_REQUEST, "invalid_fields",
			       "send the video as multipart/form-data with a "
			       "video_file field");
		return 0;
	}
	if (cl && strtoll(cl, NULL, 10) > max + FORM_OVERHEAD_MAX) {
		atomic_fetch_add(&api->m.uploads_refused, 1);
		http_set_error(req, MHD_HTTP_BAD_REQUEST, "too_large",
			       "video_file is larger than %d MB",
			       api->cfg.api_max_upload_mb);
		return 0;
	}
	switch (upload_admit(api, req)) {
	case 1:
		return 0;	/* refused: recorded in req */
	case -1:
		return -1;
	}
	u = calloc(1, sizeof(*u));
	if (!u) {
		upload_release(api, req->user_id);
		return -1;
	}
	req->state = u;
	req->state_free = upload_free;
	u->user = req->user_id;
	u->api = api;
	u->req = req;
	u->max_bytes = max;
	buf_init(&u->title, TITLE_MAX);
	buf_init(&u->is_public, IS_PUBLIC_MAX);
	upload_new_id(u->video_id);
	videos_key(VIDEO_ORIGINAL, u->video_id, 0, u->key);
	u->s3 = api_s3_client(api);
	u->pp = MHD_create_post_processor(conn, 16 * 1024, on_field, u);
	if (!u->s3 || !u->pp) {
		http_set_error(req, MHD_HTTP_BAD_REQUEST, "invalid_fields",
			       "the multipart/form-data body has no boundary");
		return 0;
	}
	atomic_fetch_add(&api->m.uploads_in_flight, 1);
	u->counted = 1;
	return 0;
}

/* The whole body is in: check the fields (the handler completes the
 * object). */
static int upload_end(struct upload *u)
{
	struct input in = { 0 };
	int pub = 0;

	if (u->headlen == 0)
		input_bad(&in, "video_file", "is required");
	else if (u->headlen < sizeof(u->head))
		input_bad(&in, "video_file", "is not an MP4 or MOV video");
	if (u->title_long)
		input_bad(&in, "title", "is too long (200 bytes at most)");
	else if (u->title.len == 0)
		input_bad(&in, "title", "is required");
	else if (!input_text_ok(u->title.data, u->title.len))
		input_bad(&in, "title", "must be UTF-8 text without control characters");
	/* bufs keep a NUL after their bytes: data is a C string */
	if (u->is_public_long ||
	    (u->is_public.len &&
	     (!input_text_ok(u->is_public.data, u->is_public.len) ||
	      input_parse_bool(u->is_public.data, &pub))))
		input_bad(&in, "is_public", "must be true or false");
	if (input_failed(&in)) {
		refuse(u, MHD_HTTP_BAD_REQUEST, "invalid_fields",
		       "some fields are missing or invalid");
		u->req->err_fields = in.fields;
		return -1;
	}
	u->pub = pub;
	return 0;
}

static int upload_stream(struct api *api, struct request *req,
			 struct MHD_Connection *conn, const char *data, size_t len)
{
	struct upload *u = req->state;

	if (!data)
		return upload_begin(api, req, conn);
	if (!u || req->err_status)
		return 0;
	if (u->seat.waiting && upload_seat_resumed(api, req, &u->seat))
		return 0;
	if (!u->seat.has_slot && len > 0) {
		int r = upload_seat_take(api, req, &u->seat, conn);

		if (r)
			return r > 0 ? 1 : 0;
	}
	if (len == 0) {
		upload_end(u);	/* a refusal is in req->err_status */
		return 0;
	}
	/* room in the transfer's buffer for what this piece may yield */
	if (u->x) {
		int room = transfer_room(u->x, len, conn);

		if (room == 0)
			return 1;	/* paused until the transfer catches up */
		if (room < 0) {
			storage_failed(u);
			return 0;
		}
	}
	/* the whole form counts: boundaries and part headers too */
	u->body += (long long)len;
	if (u->body > u->max_bytes + FORM_OVERHEAD_MAX) {
		char msg[128];

		snprintf(msg, sizeof(msg), "the upload is larger than %d MB "
			 "with its form", api->cfg.api_max_upload_mb);
		refuse(u, MHD_HTTP_BAD_REQUEST, "too_large", msg);
		return 0;
	}
	if (MHD_post_process(u->pp, data, len) == MHD_NO && !req->err_status)
		refuse(u, MHD_HTTP_BAD_REQUEST, "invalid_fields",
		       "the multipart/form-data body is malformed");
	return 0;
}

/*
 * On the transfer's thread once the object is complete (or failed): the
 * row, the job, the answer.
 */
static enum MHD_Result upload_record(struct api *api, struct request *req,
				     struct MHD_Connection *conn)
{
	struct upload *u = req->state;
	struct deps *d;

	if (u->check && atomic_load(&u->check->refused)) {	/* before S3 */
		atomic_fetch_add(&api->m.uploads_refused, 1);
		upload_remember(api, req->user_id, &u->check->refusal);
		refusal_record(req, &u->check->refusal);
		return http_send_recorded(req, conn);
	}
	if (u->result.err) {
		log_error("S3 upload of %s failed: %s", u->key, u->result.errstr);
		atomic_fetch_add(&api->m.uploads_refused, 1);
		return http_send_error(req, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				       "unavailable",
				       "storage is unavailable; try again shortly");
	}
	if (!(d = deps_get(api)))
		return http_send_unavailable(req, conn, "the server", "out of memory");
	return upload_guard_answer(api, req, conn, d, u->video_id, u->title.data,
				   u->pub, u->key, u->bytes);
}

/* The body is in and valid: the transfer completes the object and then
 * answers (upload_record); the connection waits, suspended. */
static enum MHD_Result post_upload(struct api *api, struct request *req,
				   struct MHD_Connection *conn)
{
	struct upload *u = req->state;
	struct transfer *x = u->x;

	u->x = NULL;	/* the transfer's now, until it has answered */
	if (!x) {
		u->result.err = SC_ERR_S3;
		snprintf(u->result.errstr, sizeof(u->result.errstr),
			 "no transfer");
	} else if (!transfer_finish(x, req, conn, upload_record, &u->result)) {
		return MHD_YES;
	}
	/* it had failed already: answered here, without I/O */
	return upload_record(api, req, conn);
}

const struct route route_upload[] = {
	{ "POST", "/api/videos/upload", post_upload, R_AUTH | R_STREAM,
	  upload_stream },
	{ NULL, NULL, NULL, 0, NULL },
};
