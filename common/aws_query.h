/*
 * aws_query.h - the signed headers of a POST to an AWS query API
 * (CloudWatch PutMetricData, SNS Publish): a form-encoded body,
 * "application/x-www-form-urlencoded; charset=utf-8", signed with
 * Signature Version 4 (AWS General Reference, "Signing AWS API
 * requests"; sigv4.h) with the credentials of awscreds.h.
 *
 * The request is POST to url's path "/" (url: "https://host[:port]/");
 * the signed headers are content-type, host, x-amz-date and, with
 * temporary credentials, x-amz-security-token.
 */
#ifndef SC_AWS_QUERY_H
#define SC_AWS_QUERY_H

#include <stddef.h>

#include <curl/curl.h>

#include "awscreds.h"
#include "buf.h"
#include "error.h"

/*
 * Every header of the request, Authorization included, and "Expect:"
 * (no 100-continue round trip), as a curl list in *out that the caller
 * frees (curl_slist_free_all).  SC_OK; SC_ERR_AUTH and the reason in err
 * when there are no credentials; SC_ERR_NOMEM; SC_ERR_INVALID when url
 * has no "scheme://host".  *out is NULL on failure.
 */
enum sc_err aws_query_headers(struct awscreds *creds, const char *url,
			      const char *region, const char *service,
			      const char *body, size_t len,
			      struct curl_slist **out, struct buf *err);

#endif
