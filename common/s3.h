/*
 * s3.h - the S3 client.
 *
 * Invariants: objects are addressed as ENDPOINT/BUCKET/KEY (path style) or
 * BUCKET.ENDPOINT/KEY (virtual-hosted), as configured; every request is
 * signed with AWS Signature Version 4.  One struct s3_client is used by
 * one thread at a time.
 *
 * Life cycle: s3_client_new() from the configuration; operations;
 * s3_client_free().
 *
 * Operations so far: s3_head_bucket(), the readiness probe, which proves
 * that the endpoint answers and accepts the credentials' signature.
 */
#ifndef SC_S3_H
#define SC_S3_H

#include "config.h"
#include "error.h"

struct s3_client;

/* NULL only when out of memory.  The strings of c are copied. */
struct s3_client *s3_client_new(const struct config *c);
void s3_client_free(struct s3_client *s3);

/*
 * HEAD the bucket.  SC_OK if it exists and the signature is accepted;
 * SC_ERR_AUTH if the credentials are refused, SC_ERR_NOT_FOUND if there is
 * no such bucket, SC_ERR_S3 if the endpoint cannot be reached or fails.
 * s3_errstr() has the detail.
 */
enum sc_err s3_head_bucket(struct s3_client *s3);

const char *s3_errstr(const struct s3_client *s3);

#endif
