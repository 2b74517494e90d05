/*
 * s3.h - the S3 client.
 *
 * Invariants: objects are addressed as ENDPOINT/BUCKET/KEY (path style) or
 * BUCKET.ENDPOINT/KEY (virtual-hosted), over HTTP or HTTPS, as configured
 * or, with S3_FORCE_PATH_STYLE empty, as the endpoint needs (s3_path_style);
 * every request is signed with AWS Signature Version 4 (sigv4.h) using
 * keys from an awscreds provider.  Requests that fail with 5xx, 429, a
 * timeout, a stall or a connection error are retried up to
 * S3_MAX_ATTEMPTS times with exponential backoff and jitter; S3's own
 * error code and message end up in s3_errstr().  One struct s3_client is
 * used by one thread at a time; the credentials provider may be shared.
 *
 * Errors: SC_ERR_AUTH when S3 refuses the credentials or signature,
 * SC_ERR_NOT_FOUND for a missing key, bucket or upload, SC_ERR_INVALID
 * for a bad key or range, SC_ERR_S3 for anything else S3 or the network
 * did, SC_ERR_IO when a caller's reader or writer failed.
 *
 * Life cycle: s3_client_new() from the configuration; operations;
 * s3_client_free().  An upload: s3_upload_begin(); s3_upload_write()
 * any number of times; s3_upload_finish() or s3_upload_abort().
 */
#ifndef SC_S3_H
#define SC_S3_H

#include <stddef.h>
#include <sys/types.h>

#include "awscreds.h"
#include "config.h"
#include "error.h"

struct s3_client;
struct s3_upload;

struct s3_object_info {
	long long size;			/* Content-Length of the object */
	char etag[128];
	char content_type[128];
	char last_modified[64];
};

/* Receives an object's bytes; anything but SC_OK stops the download. */
typedef enum sc_err (*s3_writer)(void *arg, const void *data, size_t len);
/* Fills buf; returns bytes read, 0 at the end, -1 on error. */
typedef ssize_t (*s3_reader)(void *arg, void *buf, size_t len);

/*
 * The addressing style for an endpoint ("" is AWS's), a bucket and
 * S3_FORCE_PATH_STYLE (force: 1, 0, or -1 for automatic): 1 for path
 * style, 0 for virtual-hosted.  Automatic picks path style when the
 * endpoint's host is an IP address or localhost (BUCKET.127.0.0.1 does
 * not resolve) and for a bucket whose name has a dot over https (the
 * *.s3 certificate does not cover it).  -1 when virtual-hosted is forced
 * on an IP address, which cannot work; why (cap bytes, may be NULL)
 * then says so.
 */
int s3_path_style(const char *endpoint, const char *bucket, int force,
		  char *why, size_t cap);

/*
 * creds may be shared by many clients and must outlive them; NULL makes
 * the client create and own one.  NULL when out of memory.
 */
struct s3_client *s3_client_new(const struct config *c, struct awscreds *creds);
void s3_client_free(struct s3_client *s3);

/*
 * A predicate the client polls while its requests run, at least once a
 * second (and between retries); when it returns non-zero every request
 * in flight is stopped and the operation fails with SC_ERR_CANCELLED.
 * The worker uses it to drop a transfer the moment its job's lease is
 * lost.  fn may be NULL (never cancelled); it runs on the client's thread.
 */
typedef int (*s3_cancel_fn)(void *arg);
void s3_set_cancel(struct s3_client *s3, s3_cancel_fn fn, void *arg);

/* The message of the last failure (S3's code and message when it sent one). */
const char *s3_errstr(const struct s3_client *s3);

/*
 * The origin (RFC 6454: scheme, host and port, no path) that requests and
 * presigned URLs go to, e.g. "http://127.0.0.1:9000" or
 * "https://bucket.s3.eu-west-1.amazonaws.com"; owned by the client.
 */
const char *s3_origin(const struct s3_client *s3);

/* HEAD the bucket: proves the endpoint answers and accepts the signature. */
enum sc_err s3_head_bucket(struct s3_client *s3);

/* PUT a body held in memory; its SHA-256 is signed. */
enum sc_err s3_put_object(struct s3_client *s3, const char *key,
			  const void *data, size_t len, const char *content_type);

/*
 * GET key, or the bytes first..last of it (last -1: to the end; first -1:
 * the whole object), into w.  A retried transfer resumes where the
 * writer stopped, so w sees each byte once.  info may be NULL.
 */
enum sc_err s3_get_object(struct s3_client *s3, const char *key,
			  long long first, long long last, s3_writer w,
			  void *arg, struct s3_object_info *info);

/* The same into a file descriptor. */
enum sc_err s3_get_to_fd(struct s3_client *s3, const char *key,
			 long long first, long long last, int fd,
			 struct s3_object_info *info);

enum sc_err s3_head_object(struct s3_client *s3, const char *key,
			   struct s3_object_info *info);

/* Deleting a key that does not exist succeeds, as in S3. */
enum sc_err s3_delete_object(struct s3_client *s3, const char *key);

/* Delete every key that starts with prefix (non-empty); *deleted counts. */
enum sc_err s3_delete_prefix(struct s3_client *s3, const char *prefix,
			     long *deleted);

/* The longest lifetime of a presigned URL: one week, S3's limit on
 * X-Amz-Expires (AWS SigV4 query-string authentication). */
#define S3_PRESIGN_MAX_S 604800

/*
 * A presigned URL for method ("GET" or "PUT") on key, valid for ttl_s
 * seconds (1 to S3_PRESIGN_MAX_S).  On SC_OK *url is the caller's, to free().
 */
enum sc_err s3_presign(struct s3_client *s3, const char *method,
		       const char *key, long ttl_s, char **url);

/*
 * A presigned GET on key valid for at least ttl_s seconds, the same URL
 * for every call within a window of ttl_s / 10 (at most 60 s): it is
 * signed at the window's start and valid a window longer (when that
 * stays within S3_PRESIGN_MAX_S; else signed at each call for ttl_s).
 * Made once per window and key, it costs a lookup after that (signing is
 * the bulk of a listing's work), and clients may cache what it points to.
 */
enum sc_err s3_presign_get_cached(struct s3_client *s3, const char *key,
				  long ttl_s, char **url);

/*
 * Streaming upload.  Bytes are cut into parts of S3_PART_SIZE_MB and sent
 * as a multipart upload, S3_PARTS_IN_FLIGHT at a time, so memory stays
 * within part size x parts in flight whatever the object's size; an
 * object smaller than one part is sent with one PUT.  write blocks only
 * while every part buffer is in flight.  Any failure aborts the upload on
 * S3 (AbortMultipartUpload; if S3 refuses that too, a warning is logged
 * and the bucket's lifecycle rule is left to clean up) and every later
 * call returns the first error.
 *
 * begin: NULL on SC_ERR_NOMEM.  finish and abort free the upload.
 */
struct s3_upload *s3_upload_begin(struct s3_client *s3, const char *key,
				  const char *content_type);
enum sc_err s3_upload_write(struct s3_upload *up, const void *data, size_t len);
enum sc_err s3_upload_finish(struct s3_upload *up, long long *size);
void s3_upload_abort(struct s3_upload *up);

/*
 * Upload the file open on fd from its start.  A regular file of at most
 * S3_SINGLE_PUT_MAX_MB goes in one streamed PUT, read straight from the
 * file (no part buffers, one request); anything else is a streaming
 * multipart upload as above.  *size gets the bytes sent.
 */
enum sc_err s3_put_file(struct s3_client *s3, const char *key, int fd,
			const char *content_type, long long *size);

/* Upload everything rd yields (s3_upload_* in a loop). */
enum sc_err s3_upload_from(struct s3_client *s3, const char *key,
			   const char *content_type, s3_reader rd, void *arg,
			   long long *size);

/*
 * A multipart upload driven one request at a time, for a caller that
 * keeps its state (the upload id, each part's ETag) between requests,
 * even between processes: resumable uploads keep it in PostgreSQL.
 * (AWS S3 API Reference: CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload.)  Every part but the
 * last must be at least 5 MiB; parts are numbered 1..10000, and sending
 * a number again replaces that part.
 *
 * create: on SC_OK *upload_id is the caller's, to free(); else NULL.
 * put_part: len bytes of data (not taken) as part number; on SC_OK etag
 * holds S3's ETag, quotes included, as complete wants it.  complete:
 * etags[i] is part i + 1's, n parts; S3's error in a 200 answer is an
 * SC_ERR_S3.  abort: the parts are dropped; SC_ERR_NOT_FOUND when S3 no
 * longer knows the upload.  Errors otherwise as the client's (above).
 */
#define S3_ETAG_MAX 128
enum sc_err s3_multipart_create(struct s3_client *s3, const char *key,
				const char *content_type, char **upload_id);
enum sc_err s3_multipart_put_part(struct s3_client *s3, const char *key,
				  const char *upload_id, int number,
				  const void *data, size_t len,
				  char etag[S3_ETAG_MAX]);
enum sc_err s3_multipart_complete(struct s3_client *s3, const char *key,
				  const char *upload_id,
				  const char *const *etags, int n);
enum sc_err s3_multipart_abort(struct s3_client *s3, const char *key,
			       const char *upload_id);

/*
 * A browser-based POST upload of one object, presigned (AWS S3 API
 * Reference, "Browser-Based Uploads Using POST (AWS Signature Version
 * 4)"): a form sent as multipart/form-data to url with fields, in order,
 * then the file as the last field, "file".  The policy allows exactly
 * key, a Content-Type starting with type_prefix (content_type is the
 * field's value and must start with it), 1..max_bytes bytes, for ttl_s
 * seconds (1..604800), signed with the client's current keys
 * (sigv4_sign_string).  On SC_OK *out is the caller's until
 * s3_post_release(); on failure it is empty.  SC_ERR_INVALID,
 * SC_ERR_AUTH (no keys), SC_ERR_NOMEM.
 */
#define S3_POST_FIELDS 10
struct s3_post {
	char *url;
	struct {
		char name[32];
		char *value;
	} fields[S3_POST_FIELDS];
	int nfields;
};
enum sc_err s3_presign_post(struct s3_client *s3, const char *key,
			    const char *type_prefix, const char *content_type,
			    long long max_bytes, long ttl_s, struct s3_post *out);
void s3_post_release(struct s3_post *p);

#endif
