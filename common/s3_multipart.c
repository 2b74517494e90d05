/*
 * s3_multipart.c - the four requests of an S3 multipart upload, one at a
 * time, for callers that keep the upload's state themselves (see s3.h):
 * the streaming upload (s3_upload.c) and resumable uploads, whose state
 * lives in PostgreSQL between requests.
 *
 * AWS S3 API Reference: CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "s3_request.h"

enum sc_err s3_multipart_create(struct s3_client *s3, const char *key,
				const char *content_type, char **upload_id)
{
	struct s3_req r;
	struct buf id = BUF_INIT(4096);
	size_t pos = 0;
	enum sc_err err;

	*upload_id = NULL;
	s3req_init(&r, "POST", key);
	s3req_query(&r, "uploads", "");
	r.content_type = content_type ? content_type : "application/octet-stream";
	err = s3req_perform(s3, &r);
	if (!err && s3xml_text(r.resp.data ? r.resp.data : "", "UploadId", &pos,
			       &id))
		err = s3_fail(s3, SC_ERR_S3, "s3 gave no UploadId for %s", key);
	if (!err && !(*upload_id = buf_detach(&id, NULL)))
		err = s3_fail(s3, SC_ERR_NOMEM, "out of memory");
	buf_release(&id);
	s3req_release(&r);
	if (!err)
		log_debug("s3 multipart upload of %s started: %s", key, *upload_id);
	return err;
}

enum sc_err s3_multipart_put_part(struct s3_client *s3, const char *key,
				  const char *upload_id, int number,
				  const void *data, size_t len,
				  char etag[S3_ETAG_MAX])
{
	struct s3_req r;
	char num[12];
	enum sc_err err;

	if (number < 1 || number > 10000)
		return s3_fail(s3, SC_ERR_INVALID, "part number %d of %s is out "
			       "of S3's range 1..10000", number, key);
	snprintf(num, sizeof(num), "%d", number);
	s3req_init(&r, "PUT", key);
	s3req_query(&r, "partNumber", num);
	s3req_query(&r, "uploadId", upload_id);
	r.body = data;
	r.body_len = len;
	err = s3req_perform(s3, &r);
	if (!err && !r.info.etag[0])
		err = s3_fail(s3, SC_ERR_S3, "s3 sent no ETag for part %d of %s",
			      number, key);
	if (!err)
		snprintf(etag, S3_ETAG_MAX, "%s", r.info.etag);
	s3req_release(&r);
	return err;
}

enum sc_err s3_multipart_complete(struct s3_client *s3, const char *key,
				  const char *upload_id,
				  const char *const *etags, int n)
{
	struct buf xml = BUF_INIT(64 + (size_t)n * 128),
		   code = BUF_INIT(256), msg = BUF_INIT(1024);
	struct s3_req r;
	enum sc_err err;
	size_t pos = 0;
	int i;

	err = buf_appends(&xml, "<CompleteMultipartUpload>");
	for (i = 0; i < n && !err; i++)
		err = buf_appendf(&xml, "<Part><PartNumber>%d</PartNumber>"
				  "<ETag>%s</ETag></Part>", i + 1, etags[i]);
	if (!err)
		err = buf_appends(&xml, "</CompleteMultipartUpload>");
	if (err) {
		buf_release(&xml);
		return s3_fail(s3, err, "cannot build the part list");
	}
	s3req_init(&r, "POST", key);
	s3req_query(&r, "uploadId", upload_id);
	r.content_type = "application/xml";
	r.body = xml.data;
	r.body_len = xml.len;
	r.hash_body = 1;
	err = s3req_perform(s3, &r);
	/* S3 may answer 200 and still report an error in the body */
	if (!err && !s3xml_text(r.resp.data ? r.resp.data : "", "Code", &pos,
				&code)) {
		pos = 0;
		s3xml_text(r.resp.data, "Message", &pos, &msg);
		err = s3_fail(s3, SC_ERR_S3, "s3 could not complete %s: %s: %s",
			      key, code.data, msg.data ? msg.data : "");
	}
	s3req_release(&r);
	buf_release(&xml);
	buf_release(&code);
	buf_release(&msg);
	return err;
}

enum sc_err s3_multipart_abort(struct s3_client *s3, const char *key,
			       const char *upload_id)
{
	struct s3_req r;
	enum sc_err err;

	s3req_init(&r, "DELETE", key);
	s3req_query(&r, "uploadId", upload_id);
	err = s3req_perform(s3, &r);
	if (!err)
		log_info("aborted multipart upload %s of %s", upload_id, key);
	s3req_release(&r);
	return err;
}
