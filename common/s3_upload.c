/*
 * s3_upload.c - streaming multipart upload with bounded memory (see s3.h).
 *
 * The writer fills one part buffer at a time.  A full buffer becomes an
 * UploadPart request and the writer moves to a free buffer; when none is
 * free it waits for a part to finish.  So at most parts_in_flight buffers
 * of part_size bytes exist, whatever the object's size.  The multipart
 * upload is created only when the first buffer fills: a smaller object is
 * one plain PUT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "s3_request.h"

struct part {
	char *data;		/* part_size bytes, allocated on first use */
	size_t len;
	int busy;		/* its UploadPart is in flight */
	char number[12];
	struct s3_req req;
};

struct s3_upload {
	struct s3_client *s3;
	char *key;
	char *content_type;
	char *upload_id;	/* NULL until the multipart upload exists */
	struct part *parts;
	int nparts;
	struct part *fill;	/* the buffer being filled */
	int next_number;
	char **etags;		/* by part number - 1 */
	int netags;
	long long total;
	enum sc_err err;	/* the first failure; sticky */
};

struct s3_upload *s3_upload_begin(struct s3_client *s3, const char *key,
				  const char *content_type)
{
	struct s3_upload *up = calloc(1, sizeof(*up));

	if (!up)
		return NULL;
	up->s3 = s3;
	up->nparts = s3->parts_in_flight;
	up->next_number = 1;
	up->key = strdup(key);
	up->content_type = strdup(content_type ? content_type
				  : "application/octet-stream");
	up->parts = calloc((size_t)up->nparts, sizeof(*up->parts));
	if (!up->key || !up->content_type || !up->parts) {
		free(up->key);
		free(up->content_type);
		free(up->parts);
		free(up);
		return NULL;
	}
	return up;
}

static enum sc_err fail(struct s3_upload *up, enum sc_err err)
{
	if (!up->err)
		up->err = err;
	return up->err;
}

/* A finished UploadPart: keep its ETag or the failure. */
static void part_done(struct s3_upload *up, struct s3_req *r)
{
	struct part *p = r->user;
	int n = atoi(p->number);

	if (r->err) {
		if (!up->err)
			snprintf(up->s3->errstr, sizeof(up->s3->errstr),
				 "upload of part %d: %s", n, r->errstr);
		fail(up, r->err);
	} else if (!r->info.etag[0]) {
		if (!up->err)
			s3_fail(up->s3, SC_ERR_S3, "s3 sent no ETag for part %d of %s",
				n, up->key);
		fail(up, SC_ERR_S3);
	} else if (!(up->etags[n - 1] = strdup(r->info.etag))) {
		fail(up, s3_fail(up->s3, SC_ERR_NOMEM, "out of memory"));
	}
	s3req_release(r);
	p->busy = 0;
	p->len = 0;
}

/* Collect finished parts; block until at least one finishes if asked. */
static void reap(struct s3_upload *up, int block)
{
	struct s3_req *r;

	while ((r = s3req_next(up->s3, block))) {
		part_done(up, r);
		block = 0;
	}
}

static enum sc_err create(struct s3_upload *up)
{
	return s3_multipart_create(up->s3, up->key, up->content_type,
				   &up->upload_id);
}

/* Send the full (or last) buffer as the next part. */
static enum sc_err submit(struct s3_upload *up)
{
	struct part *p = up->fill;
	int n = up->next_number;
	enum sc_err err;

	if (!up->upload_id && (err = create(up)))
		return fail(up, err);
	if (n > 10000)
		return fail(up, s3_fail(up->s3, SC_ERR_TOO_LARGE,
					"%s needs more than 10000 parts", up->key));
	if (n > up->netags) {
		int cap = up->netags ? up->netags * 2 : 64;
		char **e = realloc(up->etags, (size_t)cap * sizeof(*e));

		if (!e)
			return fail(up, s3_fail(up->s3, SC_ERR_NOMEM, "out of memory"));
		memset(e + up->netags, 0, (size_t)(cap - up->netags) * sizeof(*e));
		up->etags = e;
		up->netags = cap;
	}
	snprintf(p->number, sizeof(p->number), "%d", n);
	s3req_init(&p->req, "PUT", up->key);
	s3req_query(&p->req, "partNumber", p->number);
	s3req_query(&p->req, "uploadId", up->upload_id);
	p->req.body = p->data;
	p->req.body_len = p->len;
	p->req.user = p;
	if ((err = s3req_start(up->s3, &p->req))) {
		s3req_release(&p->req);
		return fail(up, err);
	}
	p->busy = 1;
	up->next_number++;
	up->fill = NULL;
	return SC_OK;
}

/* Space to write into: the current buffer, or the next free one. */
static enum sc_err space(struct s3_upload *up, char **at, size_t *avail)
{
	size_t size = up->s3->part_size;
	int i;

	while (!up->fill && !up->err) {
		for (i = 0; i < up->nparts && !up->fill; i++)
			if (!up->parts[i].busy)
				up->fill = &up->parts[i];
		if (!up->fill)
			reap(up, 1);
	}
	if (up->err)
		return up->err;
	if (!up->fill->data && !(up->fill->data = malloc(size)))
		return fail(up, s3_fail(up->s3, SC_ERR_NOMEM,
					"out of memory for a %zu-byte part", size));
	*at = up->fill->data + up->fill->len;
	*avail = size - up->fill->len;
	return SC_OK;
}

/* n bytes were written at the space given; send the buffer when full. */
static enum sc_err commit(struct s3_upload *up, size_t n)
{
	up->fill->len += n;
	up->total += (long long)n;
	if (up->fill->len == up->s3->part_size && submit(up))
		return up->err;
	reap(up, 0);	/* keep the parts in flight moving */
	return up->err;
}

enum sc_err s3_upload_write(struct s3_upload *up, const void *data, size_t len)
{
	const char *p = data;

	while (len && !up->err) {
		size_t avail, k;
		char *at;

		if (space(up, &at, &avail))
			break;
		k = len < avail ? len : avail;
		memcpy(at, p, k);
		p += k;
		len -= k;
		commit(up, k);
	}
	return up->err;
}

/* Stop the parts in flight. */
static void cancel_parts(struct s3_upload *up)
{
	int i;

	for (i = 0; i < up->nparts; i++)
		if (up->parts[i].busy) {
			s3req_cancel(up->s3, &up->parts[i].req);
			s3req_release(&up->parts[i].req);
			up->parts[i].busy = 0;
		}
}

static void upload_free(struct s3_upload *up)
{
	int i;

	cancel_parts(up);
	for (i = 0; i < up->nparts; i++)
		free(up->parts[i].data);
	for (i = 0; i < up->netags; i++)
		free(up->etags[i]);
	free(up->etags);
	free(up->parts);
	free(up->upload_id);
	free(up->key);
	free(up->content_type);
	free(up);
}

void s3_upload_abort(struct s3_upload *up)
{
	char saved[sizeof(up->s3->errstr)];

	if (!up)
		return;
	cancel_parts(up);	/* before the abort, so no part lands after it */
	if (up->upload_id) {
		/* keep the failure that led here as the client's message */
		memcpy(saved, up->s3->errstr, sizeof(saved));
		if (s3_multipart_abort(up->s3, up->key, up->upload_id))
			log_warn("cannot abort multipart upload %s of %s, the bucket's "
				 "lifecycle rule will remove its parts: %s",
				 up->upload_id, up->key, up->s3->errstr);
		memcpy(up->s3->errstr, saved, sizeof(saved));
	}
	upload_free(up);
}

static enum sc_err complete(struct s3_upload *up)
{
	return s3_multipart_complete(up->s3, up->key, up->upload_id,
				     (const char *const *)up->etags,
				     up->next_number - 1);
}

enum sc_err s3_upload_finish(struct s3_upload *up, long long *size)
{
	enum sc_err err;
	int i, busy;

	if (!up->err && !up->upload_id) {
		/* smaller than one part: one PUT, its body hashed */
		struct part *p = up->fill;

		err = s3_put_object(up->s3, up->key, p && p->data ? p->data : "",
				    p ? p->len : 0, up->content_type);
		if (err)
			fail(up, err);
	} else if (!up->err) {
		if (up->fill && up->fill->len)
			submit(up);
		do {
			for (busy = 0, i = 0; i < up->nparts; i++)
				busy |= up->parts[i].busy;
			if (busy)
				reap(up, 1);
		} while (busy && !up->err);
		if (!up->err && (err = complete(up)))
			fail(up, err);
	}
	if (up->err) {
		err = up->err;
		s3_upload_abort(up);
		return err;
	}
	if (size)
		*size = up->total;
	log_debug("s3 upload of %s done: %lld bytes in %d parts", up->key,
		  up->total, up->next_number - 1);
	upload_free(up);
	return SC_OK;
}

enum sc_err s3_upload_from(struct s3_client *s3, const char *key,
			   const char *content_type, s3_reader rd, void *arg,
			   long long *size)
{
	struct s3_upload *up = s3_upload_begin(s3, key, content_type);
	enum sc_err err = SC_OK;

	if (!up)
		return s3_fail(s3, SC_ERR_NOMEM, "out of memory");
	for (;;) {
		size_t avail;
		ssize_t n;
		char *at;

		if ((err = space(up, &at, &avail)))
			break;
		n = rd(arg, at, avail);
		if (n < 0) {
			err = fail(up, s3_fail(s3, SC_ERR_IO,
					       "cannot read the data for %s", key));
			break;
		}
		if (n == 0)
			break;
		if ((err = commit(up, (size_t)n)))
			break;
	}
	if (err) {
		s3_upload_abort(up);
		return err;
	}
	return s3_upload_finish(up, size);
}
