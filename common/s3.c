/*
 * s3.c - the S3 client over libcurl (see s3.h).
 *
 * Header signing uses libcurl's built-in SigV4 (CURLOPT_AWS_SIGV4), which
 * suffices for plain requests; it adds no x-amz-content-sha256 header, so
 * the payload hash is supplied here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "s3.h"

/* SHA-256 of the empty string: the payload hash of a body-less request. */
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_client {
	CURL *curl;
	char *bucket_url;	/* endpoint and bucket, no trailing slash */
	char *sigv4;		/* "aws:amz:REGION:s3" */
	char *userpwd;		/* "KEY:SECRET" */
	char *token_header;	/* "x-amz-security-token: ..." or NULL */
	long timeout_ms;
	char errstr[512];
};

static char *dup_printf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static char *dup_printf(const char *fmt, ...)
{
	struct buf b = BUF_INIT(4096);
	va_list ap;
	enum sc_err err;

	va_start(ap, fmt);
	err = buf_vappendf(&b, fmt, ap);
	va_end(ap);
	if (err) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* The URL of the bucket for the configured endpoint and addressing style. */
static char *bucket_url(const struct config *c)
{
	const char *ep = c->s3_endpoint, *host;
	size_t schemelen;

	if (!ep[0])
		return c->s3_force_path_style
			? dup_printf("https://s3.%s.amazonaws.com/%s",
				     c->s3_region, c->s3_bucket)
			: dup_printf("https://%s.s3.%s.amazonaws.com",
				     c->s3_bucket, c->s3_region);
	host = strstr(ep, "://");
	schemelen = host ? (size_t)(host - ep) + 3 : 0;
	host = ep + schemelen;
	if (c->s3_force_path_style)
		return dup_printf("%s%s%s", ep,
				  ep[strlen(ep) - 1] == '/' ? "" : "/",
				  c->s3_bucket);
	return dup_printf("%.*s%s.%s", (int)schemelen, ep, c->s3_bucket, host);
}

struct s3_client *s3_client_new(const struct config *c)
{
	struct s3_client *s3 = calloc(1, sizeof(*s3));

	if (!s3)
		return NULL;
	s3->timeout_ms = c->connect_timeout_ms;
	s3->curl = curl_easy_init();
	s3->bucket_url = bucket_url(c);
	s3->sigv4 = dup_printf("aws:amz:%s:s3", c->s3_region);
	s3->userpwd = dup_printf("%s:%s", c->aws_access_key_id,
				 c->aws_secret_access_key);
	if (c->aws_session_token[0])
		s3->token_header = dup_printf("x-amz-security-token: %s",
					      c->aws_session_token);
	if (!s3->curl || !s3->bucket_url || !s3->sigv4 || !s3->userpwd ||
	    (c->aws_session_token[0] && !s3->token_header)) {
		s3_client_free(s3);
		return NULL;
	}
	return s3;
}

void s3_client_free(struct s3_client *s3)
{
	if (!s3)
		return;
	if (s3->curl)
		curl_easy_cleanup(s3->curl);
	free(s3->bucket_url);
	free(s3->sigv4);
	free(s3->userpwd);
	free(s3->token_header);
	free(s3);
}

const char *s3_errstr(const struct s3_client *s3)
{
	return s3->errstr;
}

enum sc_err s3_head_bucket(struct s3_client *s3)
{
	struct curl_slist *hdrs = NULL, *h;
	char errbuf[CURL_ERROR_SIZE] = "";
	enum sc_err err = SC_ERR_NOMEM;
	CURLcode rc;
	long status = 0;

	h = curl_slist_append(hdrs, "x-amz-content-sha256: " EMPTY_SHA256);
	if (!h)
		goto out;
	hdrs = h;
	if (s3->token_header) {
		h = curl_slist_append(hdrs, s3->token_header);
		if (!h)
			goto out;
		hdrs = h;
	}
	curl_easy_reset(s3->curl);
	curl_easy_setopt(s3->curl, CURLOPT_URL, s3->bucket_url);
	curl_easy_setopt(s3->curl, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(s3->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(s3->curl, CURLOPT_AWS_SIGV4, s3->sigv4);
	curl_easy_setopt(s3->curl, CURLOPT_USERPWD, s3->userpwd);
	curl_easy_setopt(s3->curl, CURLOPT_CONNECTTIMEOUT_MS, s3->timeout_ms);
	curl_easy_setopt(s3->curl, CURLOPT_TIMEOUT_MS, s3->timeout_ms);
	curl_easy_setopt(s3->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s3->curl, CURLOPT_ERRORBUFFER, errbuf);
	rc = curl_easy_perform(s3->curl);
	if (rc != CURLE_OK) {
		snprintf(s3->errstr, sizeof(s3->errstr), "cannot reach %s: %s",
			 s3->bucket_url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
		err = SC_ERR_S3;
		goto out;
	}
	curl_easy_getinfo(s3->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		s3->errstr[0] = '\0';
		err = SC_OK;
	} else if (status == 403 || status == 401) {
		snprintf(s3->errstr, sizeof(s3->errstr),
			 "s3 refused the credentials for %s (HTTP %ld)",
			 s3->bucket_url, status);
		err = SC_ERR_AUTH;
	} else if (status == 404) {
		snprintf(s3->errstr, sizeof(s3->errstr), "no such bucket: %s",
			 s3->bucket_url);
		err = SC_ERR_NOT_FOUND;
	} else {
		snprintf(s3->errstr, sizeof(s3->errstr), "s3 answered HTTP %ld for %s",
			 status, s3->bucket_url);
		err = SC_ERR_S3;
	}
out:
	if (err == SC_ERR_NOMEM)
		snprintf(s3->errstr, sizeof(s3->errstr), "out of memory");
	curl_slist_free_all(hdrs);
	return err;
}
