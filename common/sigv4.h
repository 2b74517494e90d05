/*
 * sigv4.h - AWS Signature Version 4, as S3 wants it.
 *
 * A pure function of its inputs: no clock, no network, no allocation that
 * outlives a call except the caller's struct sigv4_out.  The S3 client
 * decides which headers exist (host, x-amz-date, x-amz-content-sha256,
 * x-amz-security-token, range, ...) and the signer signs exactly those.
 *
 * Canonicalisation follows S3's rules: the path is URI-encoded once, each
 * byte outside A-Z a-z 0-9 - . _ ~ as %XX, '/' kept; it is not normalised
 * (S3 keys may contain "//" and "."), unlike other AWS services.  Query
 * names and values are encoded the same way ('/' too) and sorted by name
 * then value.  Header names are lower-cased, values trimmed, inner runs of
 * blanks collapsed, and repeated headers joined with ','.
 *
 * Life cycle: struct sigv4_out out = SIGV4_OUT_INIT; sigv4_sign() or
 * sigv4_presign(); read out; sigv4_out_release().
 */
#ifndef SC_SIGV4_H
#define SC_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "error.h"

/* The payload hash of a body that is not hashed (S3 accepts it). */
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
/* SHA-256 of the empty string. */
#define SIGV4_EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_pair {
	const char *name;
	const char *value;	/* decoded; NULL or "" both sign as "name=" */
};

struct sigv4_creds {
	const char *access_key;
	const char *secret_key;
	const char *token;	/* NULL or "" when the keys are not temporary */
};

struct sigv4_request {
	const char *method;
	const char *path;	/* decoded, starting with '/' */
	const struct sigv4_pair *query;
	size_t nquery;
	const struct sigv4_pair *headers;	/* every header to sign */
	size_t nheaders;
	const char *payload_hash;	/* hex SHA-256 or UNSIGNED-PAYLOAD */
	const char *region;
	const char *service;
	time_t when;		/* the x-amz-date of the request */
};

struct sigv4_out {
	struct buf canonical;		/* the canonical request */
	struct buf string_to_sign;
	struct buf signed_headers;	/* "host;x-amz-date" */
	struct buf authorization;	/* sigv4_sign: Authorization's value */
	struct buf query;		/* sigv4_presign: the URL's query */
	char signature[65];
};

#define SIGV4_MAX (64 * 1024)
#define SIGV4_OUT_INIT { BUF_INIT(SIGV4_MAX), BUF_INIT(SIGV4_MAX), \
	BUF_INIT(SIGV4_MAX), BUF_INIT(SIGV4_MAX), BUF_INIT(SIGV4_MAX), "" }

void sigv4_out_release(struct sigv4_out *out);

/* "20150830T123600Z" for t, into a buffer of at least 17 bytes. */
void sigv4_amz_date(time_t t, char out[17]);

/* Append s[0..n) URI-encoded; '/' is kept when keep_slash. */
enum sc_err sigv4_uri_encode(struct buf *b, const char *s, size_t n,
			     int keep_slash);

/*
 * Append "name=value" to a URL's query, both URI-encoded, preceded by '&'
 * unless b is empty; a NULL value is "".
 */
enum sc_err sigv4_query_add(struct buf *b, const char *name, const char *value);

/* Lower-case hex SHA-256 of data, into 65 bytes. */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/*
 * Header signing: fills canonical, string_to_sign, signed_headers,
 * signature and authorization ("AWS4-HMAC-SHA256 Credential=...,
 * SignedHeaders=..., Signature=...").  The session token, if any, must
 * already be one of rq->headers (x-amz-security-token).
 */
enum sc_err sigv4_sign(const struct sigv4_request *rq,
		       const struct sigv4_creds *cr, struct sigv4_out *out);

/*
 * Query signing (a presigned URL valid for `expires` seconds): the
 * X-Amz-* parameters, the token included, are added to rq->query; fills
 * out->query with the whole query string, sorted, X-Amz-Signature last.
 * rq->payload_hash is normally UNSIGNED-PAYLOAD.
 */
enum sc_err sigv4_presign(const struct sigv4_request *rq,
			  const struct sigv4_creds *cr, long expires,
			  struct sigv4_out *out);

/*
 * The signature of any string to sign with the signing key of cr's
 * secret for when's date, region and service (AWS SigV4: "Calculating
 * a signature"): what a browser-based POST's policy is signed with, the
 * base64 of the policy being the string (AWS S3 API Reference,
 * "Browser-Based Uploads Using POST (AWS Signature Version 4)").
 * signature gets 64 hex digits and a NUL.  SC_ERR_NOMEM.
 */
enum sc_err sigv4_sign_string(const struct sigv4_creds *cr, time_t when,
			      const char *region, const char *service,
			      const char *string, size_t len, char signature[65]);

#endif
