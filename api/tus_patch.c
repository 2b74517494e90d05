/* tus_patch.c - one tus PATCH's bytes into S3 (see tus_patch.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "tus_patch.h"
#include "upload_guard.h"
#include "videos.h"

#define FTYP_AT 4
#define HEAD_LEN 12		/* bytes that decide the type */
#define HTTP_LOCKED 423
#define TUS_CHECKSUM_MISMATCH 460	/* tus 1.0, checksum extension */

struct tus_job *tus_job_new(struct api *api, long long user, const char *id)
{
	struct tus_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->api = api;
	j->user = user;
	j->content_length = -1;
	atomic_init(&j->refs, 2);
	snprintf(j->id, sizeof(j->id), "%s", id);
	return j;
}

void tus_job_unref(struct tus_job *j)
{
	if (j && atomic_fetch_sub(&j->refs, 1) == 1)
		free(j);
}

void tus_job_done(void *job)
{
	struct tus_job *j = job;

	if (!j)
		return;
	if (j->locked)
		tus_store_unlock(j->d->db, j->id);
	j->locked = 0;
	if (j->d)
		deps_put(j->api, j->d);
	j->d = NULL;
	tus_job_unref(j);
}

/* Refuse with status and code; fmt says why.  Returns 1. */
static int job_refuse(struct tus_job *j, unsigned status, const char *code,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int job_refuse(struct tus_job *j, unsigned status, const char *code,
		      const char *fmt, ...)
{
	va_list ap;

	j->refusal = (struct refusal){ status, 0, NULL, "", "" };
	snprintf(j->refusal.code, sizeof(j->refusal.code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(j->refusal.message, sizeof(j->refusal.message), fmt, ap);
	va_end(ap);
	if (status == HTTP_LOCKED)
		j->refusal.retry_after = 1;
	atomic_store(&j->refused, 1);
	log_info("tus upload %s: %u %s", j->id, status, code);
	return 1;
}

static int unavailable(struct tus_job *j, const char *what)
{
	log_error("tus upload %s: %s", j->id,
		  j->d ? db_errstr(j->d->db) : "out of memory");
	return job_refuse(j, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
			  "%s is unavailable; try again shortly", what);
}

/* creation-with-upload: the controls of a new upload, then its row. */
static int create(struct tus_job *j)
{
	const struct tus_creation *c = &j->create;
	char expires[40];

	if (upload_guard_check(j->api, j->d, j->user, c->network, &j->refusal)) {
		atomic_fetch_add(&j->api->m.uploads_refused, 1);
		upload_remember(j->api, j->user, &j->refusal);
		atomic_store(&j->refused, 1);
		return 1;
	}
	if (tus_store_create(j->d->db, j->id, j->user, c->length, c->part_size,
			     c->title, c->is_public, c->expiry_s, expires))
		return unavailable(j, "the database");
	log_info("tus upload %s created by user %lld with its first bytes: "
		 "%lld bytes", j->id, j->user, c->length);
	return 0;
}

int tus_job_check(void *job)
{
	struct tus_job *j = job;
	enum sc_err rc;
	int got;

	if (!(j->d = deps_get(j->api)))
		return unavailable(j, "the server");
	if (j->creating && create(j))
		return 1;
	if ((got = tus_store_lock(j->d->db, j->id)) < 0)
		return unavailable(j, "the database");
	if (!got)
		return job_refuse(j, HTTP_LOCKED, "upload_busy",
				  "another request is writing to this upload; "
				  "try again in a moment");
	j->locked = 1;
	rc = tus_store_get(j->d->db, j->id, &j->row);
	if (rc == SC_ERR_NOT_FOUND || (!rc && j->row.user != j->user))
		return job_refuse(j, MHD_HTTP_NOT_FOUND, "not_found",
				  "no such upload");
	if (rc)
		return unavailable(j, "the database");
	if (j->row.expired && !j->row.completed)
		return job_refuse(j, MHD_HTTP_GONE, "expired",
				  "this upload expired on %s; start again",
				  j->row.expires);
	j->offset = j->row.offset;
	if (j->client_offset != j->row.offset)
		return job_refuse(j, MHD_HTTP_CONFLICT, "offset_mismatch",
				  "Upload-Offset is %lld but the upload has %lld "
				  "bytes; send from there", j->client_offset,
				  j->row.offset);
	if (j->content_length >= 0 &&
	    j->content_length > j->row.length - j->row.offset)
		return job_refuse(j, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				  "the body goes past Upload-Length (%lld bytes)",
				  j->row.length);
	return 0;
}

/* ---- the send: parts, tail, completion -------------------------------- */

/* One PATCH's progress through the upload's part buffer. */
struct sending {
	struct tus_job *j;
	struct s3_client *s3;
	char key[VIDEO_KEY_MAX];	/* the video's original */
	char *buf;			/* part_size bytes */
	size_t fill;			/* of buf */
	long long base;			/* the file's offset of buf[0] */
	long long committed;		/* the offset in PostgreSQL */
	int next_part;
	/* parts sent and not committed yet (with Upload-Checksum) */
	char (*pending)[S3_ETAG_MAX];
	int npending, cap;
	EVP_MD_CTX *sha1;
};

/* s3_get_object's writer: the tail object into the part buffer. */
static enum sc_err into_buf(void *arg, const void *data, size_t len)
{
	struct sending *s = arg;

	if (len > (size_t)s->j->row.part_size - s->fill)
		return SC_ERR_TOO_LARGE;
	memcpy(s->buf + s->fill, data, len);
	s->fill += len;
	return SC_OK;
}

/* A different tail object than the committed offset's goes. */
static void drop_tail(struct sending *s, long long offset)
{
	char key[VIDEO_KEY_MAX];

	if (offset % s->j->row.part_size == 0)
		return;
	tus_tail_key(s->j->id, offset, key);
	if (s3_delete_object(s->s3, key))
		log_warn("cannot delete %s: %s", key, s3_errstr(s->s3));
}

/* Move the committed offset to `to`, with the pending parts. */
static enum sc_err commit(struct sending *s, long long to)
{
	struct tus_job *j = s->j;
	long long from = s->committed;
	enum sc_err rc;

	rc = tus_store_commit(j->d->db, j->id, from, to,
			      s->next_part - s->npending, s->pending,
			      s->npending);
	if (rc)
		return rc;
	s->npending = 0;
	s->committed = to;
	drop_tail(s, from);
	return SC_OK;
}

/* The buffer, full, as the next part. */
static enum sc_err send_part(struct sending *s, int final)
{
	struct tus_job *j = s->j;
	char *id = NULL;
	enum sc_err rc;

	if (!j->row.s3_upload_id[0]) {
		if ((rc = s3_multipart_create(s->s3, s->key, "video/mp4", &id)))
			return rc;
		snprintf(j->row.s3_upload_id, sizeof(j->row.s3_upload_id), "%s", id);
		free(id);
		if ((rc = tus_store_set_s3_upload(j->d->db, j->id,
						  j->row.s3_upload_id)))
			return rc;
	}
	if (s->npending == s->cap) {
		int cap = s->cap ? s->cap * 2 : 8;
		char (*p)[S3_ETAG_MAX] = realloc(s->pending, (size_t)cap * sizeof(*p));

		if (!p)
			return SC_ERR_NOMEM;
		s->pending = p;
		s->cap = cap;
	}
	if ((rc = s3_multipart_put_part(s->s3, s->key, j->row.s3_upload_id,
					s->next_part, s->buf, s->fill,
					s->pending[s->npending])))
		return rc;
	s->npending++;
	s->next_part++;
	s->base += (long long)s->fill;
	s->fill = 0;
	/* without a checksum, every part counts at once */
	if (!j->has_checksum && !final)
		return commit(s, s->base);
	return SC_OK;
}

/* The first bytes of the file decide its type. */
static int type_ok(const struct sending *s)
{
	return !memcmp(s->buf + FTYP_AT, "ftyp", 4);
}

/* The body stopped before its end (or ended): what came stays. */
static enum sc_err keep(struct sending *s)
{
	char key[VIDEO_KEY_MAX];
	long long end = s->base + (long long)s->fill;
	enum sc_err rc;

	if (end == s->committed)
		return SC_OK;
	if (s->fill) {
		tus_tail_key(s->j->id, end, key);
		if ((rc = s3_put_object(s->s3, key, s->buf, s->fill,
					"application/octet-stream")))
			return rc;
	}
	return commit(s, end);
}

/* The last byte is in: the object, then the video. */
static enum sc_err complete(struct sending *s, long long *size)
{
	struct tus_job *j = s->j;
	int nparts = s->next_part - 1 + (s->fill > 0);
	long long from = s->committed;
	char (*etags)[S3_ETAG_MAX] = NULL;
	const char **list = NULL;
	enum sc_err rc;
	int committed_parts, i;

	if (j->row.length < HEAD_LEN) {
		tus_store_discard(j->d, j->id, &j->row);
		job_refuse(j, MHD_HTTP_BAD_REQUEST, "unsupported_media",
			   "the file is not an MP4 or MOV video");
		return SC_ERR_CONFLICT;
	}
	if (s->next_part == 1) {
		/* smaller than a part: one PUT */
		if ((rc = s3_put_object(s->s3, s->key, s->buf, s->fill,
					"video/mp4")))
			return rc;
		if (j->row.s3_upload_id[0] &&
		    s3_multipart_abort(s->s3, s->key, j->row.s3_upload_id))
			log_warn("cannot abort multipart upload %s: %s",
				 j->row.s3_upload_id, s3_errstr(s->s3));
	} else {
		if (s->fill && (rc = send_part(s, 1)))
			return rc;
		committed_parts = nparts - s->npending;
		if (!(etags = calloc((size_t)nparts, sizeof(*etags))))
			return SC_ERR_NOMEM;
		if (committed_parts &&
		    (rc = tus_store_etags(j->d->db, j->id, committed_parts, etags)))
			goto out_free;
		for (i = 0; i < s->npending; i++)
			memcpy(etags[committed_parts + i], s->pending[i], S3_ETAG_MAX);
		if (!(list = calloc((size_t)nparts, sizeof(*list)))) {
			rc = SC_ERR_NOMEM;
			goto out_free;
		}
		for (i = 0; i < nparts; i++)
			list[i] = etags[i];
		rc = s3_multipart_complete(s->s3, s->key, j->row.s3_upload_id,
					   list, nparts);
		if (rc)
			goto out_free;
	}
	switch (upload_guard_record(j->api, j->d, j->user, j->id, j->row.title,
				    j->row.is_public, s->key, j->row.length,
				    &j->refusal)) {
	case -1:
		rc = SC_ERR_DB;
		goto out_free;
	case 1:
		atomic_store(&j->refused, 1);
		tus_store_delete(j->d->db, j->id);
		drop_tail(s, from);
		rc = SC_ERR_CONFLICT;
		goto out_free;
	}
	if ((rc = tus_store_complete(j->d->db, j->id, j->row.length)))
		log_warn("video %s recorded, but its upload not marked complete: %s",
			 j->id, db_errstr(j->d->db));
	drop_tail(s, from);
	j->completed = 1;
	j->offset = j->row.length;
	*size = j->row.length;
	rc = SC_OK;
out_free:
	free(list);
	free(etags);
	return rc;
}

/* The whole body came: does it match Upload-Checksum? */
static int checksum_ok(struct sending *s)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	return EVP_DigestFinal_ex(s->sha1, md, &n) == 1 &&
	       n == TUS_SHA1_LEN && !memcmp(md, s->j->sha1, TUS_SHA1_LEN);
}

/* Read the body through the part buffer.  1 when it stopped short. */
static enum sc_err take_body(struct sending *s, struct transfer *t, int *cut)
{
	struct tus_job *j = s->j;
	long long part = j->row.part_size;
	enum sc_err rc;
	ssize_t n;

	*cut = 0;
	for (;;) {
		n = transfer_read(t, s->buf + s->fill, (size_t)part - s->fill);
		if (n <= 0) {
			*cut = n < 0;
			return SC_OK;
		}
		if (s->base + (long long)s->fill + n > j->row.length) {
			job_refuse(j, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
				   "the body goes past Upload-Length (%lld bytes)",
				   j->row.length);
			return SC_ERR_CONFLICT;
		}
		if (s->sha1 &&
		    EVP_DigestUpdate(s->sha1, s->buf + s->fill, (size_t)n) != 1)
			return SC_ERR_NOMEM;
		s->fill += (size_t)n;
		if (s->base == 0 && s->fill >= HEAD_LEN &&
		    s->fill - (size_t)n < HEAD_LEN && !type_ok(s)) {
			tus_store_discard(j->d, j->id, &j->row);
			job_refuse(j, MHD_HTTP_BAD_REQUEST, "unsupported_media",
				   "the file is not an MP4 or MOV video (it does "
				   "not start with an ftyp box)");
			return SC_ERR_CONFLICT;
		}
		if (s->fill == (size_t)part &&
		    s->base + part < j->row.length && (rc = send_part(s, 0)))
			return rc;
	}
}

enum sc_err tus_job_send(void *job, struct s3_client *s3, struct transfer *t,
			 long long *size)
{
	struct tus_job *j = job;
	struct sending s = { .j = j, .s3 = s3 };
	char tail[VIDEO_KEY_MAX];
	enum sc_err rc;
	int cut = 0;

	*size = 0;
	videos_key(VIDEO_ORIGINAL, j->id, 0, s.key);
	s.base = j->row.offset - j->row.offset % j->row.part_size;
	s.committed = j->row.offset;
	s.next_part = (int)(j->row.offset / j->row.part_size) + 1;
	if (!(s.buf = malloc((size_t)j->row.part_size)))
		return SC_ERR_NOMEM;
	if (j->has_checksum &&
	    (!(s.sha1 = EVP_MD_CTX_new()) ||
	     EVP_DigestInit_ex(s.sha1, EVP_sha1(), NULL) != 1)) {
		rc = SC_ERR_NOMEM;
		goto out;
	}
	if (j->row.offset > s.base) {
		tus_tail_key(j->id, j->row.offset, tail);
		if ((rc = s3_get_object(s3, tail, -1, -1, into_buf, &s, NULL)))
			goto out;
		if ((long long)s.fill != j->row.offset - s.base) {
			rc = SC_ERR_S3;
			log_error("tus upload %s: the tail object %s has %zu "
				  "bytes, not %lld", j->id, tail, s.fill,
				  j->row.offset - s.base);
			goto out;
		}
	}
	if ((rc = take_body(&s, t, &cut)))
		goto out;
	*size = s.base + (long long)s.fill - j->row.offset;
	if (j->has_checksum && cut) {
		log_info("tus upload %s: a body with a checksum stopped short; "
			 "dropped", j->id);
		goto out;
	}
	if (j->has_checksum && !checksum_ok(&s)) {
		job_refuse(j, TUS_CHECKSUM_MISMATCH, "checksum_mismatch",
			   "the body does not match Upload-Checksum; it was "
			   "dropped, send it again");
		rc = SC_ERR_CONFLICT;
		goto out;
	}
	if (s.base + (long long)s.fill == j->row.length)
		rc = complete(&s, size);
	else
		rc = keep(&s);
	if (!rc && !j->completed)
		j->offset = s.committed;
out:
	if (rc && rc != SC_ERR_CONFLICT)
		log_error("tus upload %s: %s", j->id, s3_errstr(s3));
	EVP_MD_CTX_free(s.sha1);
	free(s.pending);
	free(s.buf);
	return rc;
}
