/*
 * s3_request.h - one signed S3 request and the engine that runs them
 * (internal to the S3 client: s3.c and s3_upload.c).
 *
 * Invariants: every attempt of a request is signed afresh (new date, the
 * current credentials); a failed attempt is retried after a backoff only
 * if it is worth it (connection error, timeout, stall, 5xx, 429) and
 * attempts remain; a request is "finished" once it succeeded or gave up,
 * and then r->err, r->errstr, r->status, r->resp and r->info hold the
 * outcome.  Several requests may be in flight at once on one client's
 * curl multi handle, which also keeps the connections alive between them.
 *
 * Life cycle: s3req_init(); set the inputs; s3req_start(); s3req_next()
 * until it returns this request (or s3req_perform() for one request
 * alone); s3req_release().
 */
#ifndef SC_S3_REQUEST_H
#define SC_S3_REQUEST_H

#include <curl/curl.h>

#include "awscreds.h"
#include "buf.h"
#include "s3.h"
#include "sigv4.h"

#define S3REQ_MAX_ACTIVE 40
#define S3REQ_MAX_QUERY 6

struct s3_req;

/* A presigned GET kept for reuse (s3_presign_get_cached). */
#define S3_URL_CACHE 512
#define S3_URL_WAYS 4
struct s3_url_slot {
	char *key;
	char *url;
	time_t start;		/* the signing window */
	long ttl;
};

struct s3_client {
	char *origin;		/* "http://127.0.0.1:9000" */
	char *host;		/* the Host header and signed host */
	char *path_prefix;	/* "/bucket" (path style) or "" */
	char *bucket;
	char *region;
	struct awscreds *creds;
	int own_creds;
	CURLM *multi;
	CURL *pool[S3REQ_MAX_ACTIVE];	/* idle easy handles */
	int npool;
	struct s3_req *active[S3REQ_MAX_ACTIVE];	/* started, not collected */
	int nactive;
	long connect_timeout_ms;
	long stall_timeout_ms;
	int max_attempts;
	size_t part_size;
	int parts_in_flight;
	long long single_put_max;	/* bytes: bigger files go multipart */
	struct s3_url_slot urls[S3_URL_CACHE];
	s3_cancel_fn cancel;		/* polled while requests run */
	void *cancel_arg;
	char errstr[1024];
};

struct s3_req {
	/* inputs */
	const char *method;
	const char *key;		/* NULL: the bucket itself */
	struct sigv4_pair query[S3REQ_MAX_QUERY];
	size_t nquery;
	const char *content_type;
	const void *body;		/* PUT or POST body, in memory */
	int body_fd;			/* or read from this file (-1: none) */
	size_t body_len;
	int hash_body;			/* sign the body's SHA-256, else UNSIGNED */
	long long range_first;		/* -1: no Range */
	long long range_last;		/* -1: to the end */
	s3_writer sink;			/* 2xx body; NULL: kept in resp */
	void *sink_arg;
	void *user;			/* the caller's tag */
	int once;			/* no retries (probes report the present) */

	/* outcome */
	long status;
	struct buf resp;		/* body of an error or of a small answer */
	struct s3_object_info info;
	enum sc_err err;
	char errstr[900];

	/* derived once, by s3req_start() */
	struct buf path;		/* decoded, as signed */
	struct buf url;
	char payload_hash[65];

	/* engine state */
	CURL *easy;
	struct curl_slist *hdrs;
	char curl_err[CURL_ERROR_SIZE];
	size_t body_off;
	long long delivered;		/* bytes handed to sink */
	enum sc_err sink_err;
	int attempts;
	long long retry_at_ms;
	int in_multi;
	int finished;
};

void s3req_init(struct s3_req *r, const char *method, const char *key);
void s3req_release(struct s3_req *r);

/* Add a query parameter (name and value are not copied). */
void s3req_query(struct s3_req *r, const char *name, const char *value);

/* Begin the first attempt.  SC_ERR_TOO_LARGE if too many are in flight. */
enum sc_err s3req_start(struct s3_client *s3, struct s3_req *r);

/*
 * Drive the transfers; return a finished request (removed from the
 * client) or NULL.  block: wait until one finishes (NULL only when none
 * is in flight); else only move bytes that are ready.
 */
struct s3_req *s3req_next(struct s3_client *s3, int block);

/* Stop r wherever it is; it is removed from the client, unfinished. */
void s3req_cancel(struct s3_client *s3, struct s3_req *r);

/* Start r and wait for it; copies r->errstr to s3->errstr on failure. */
enum sc_err s3req_perform(struct s3_client *s3, struct s3_req *r);

/*
 * The decoded path of key (NULL: the bucket) as signed, "/bucket/key" or
 * "/key", into path; its URL, origin and encoded path, into url.
 */
enum sc_err s3_target(struct s3_client *s3, const char *key, struct buf *path,
		      struct buf *url);

/*
 * The current signing keys, in memory of their own (a session token is
 * up to 4 KiB); NULL when there are none, with the reason in errstr.
 * Release with s3_keys_free(), which wipes them.
 */
struct awscreds_keys *s3_keys(struct s3_client *s3, char *errstr, size_t n);
void s3_keys_free(struct awscreds_keys *k);

/* A failure not from S3 (memory, a reader): record and return err. */
enum sc_err s3_fail(struct s3_client *s3, enum sc_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * The text of the first <tag>...</tag> at or after *pos in xml, entities
 * decoded, into out (reset first); *pos moves past it.  SC_ERR_NOT_FOUND
 * when there is none.
 */
enum sc_err s3xml_text(const char *xml, const char *tag, size_t *pos,
		       struct buf *out);

#endif
