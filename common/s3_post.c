/*
 * s3_post.c - a presigned browser-based POST upload (see s3.h).
 *
 * AWS S3 API Reference, "Browser-Based Uploads Using POST (AWS Signature
 * Version 4)", "Creating a POST Policy" and "Authenticating Requests:
 * Browser-Based Uploads Using POST": the policy is a JSON document of an
 * expiration and conditions; its base64 is the string to sign, with the
 * same signing key as any SigV4 request (sigv4_sign_string).  The form
 * carries the policy, its signature and every field a condition names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "s3_request.h"

#define POST_ALGORITHM "AWS4-HMAC-SHA256"

/* Append s as a JSON string: the values are keys and credentials we
 * made, but a quote or a control character must not break out. */
static enum sc_err json_str(struct buf *b, const char *s)
{
	enum sc_err err = buf_appendc(b, '"');

	for (; !err && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			err = buf_appendf(b, "\\%c", c);
		else if (c < 0x20)
			err = buf_appendf(b, "\\u%04x", c);
		else
			err = buf_appendc(b, (char)c);
	}
	return err ? err : buf_appendc(b, '"');
}

static enum sc_err field(struct s3_post *p, const char *name, const char *value)
{
	if (p->nfields == S3_POST_FIELDS)
		return SC_ERR_TOO_LARGE;
	snprintf(p->fields[p->nfields].name, sizeof(p->fields[0].name), "%s", name);
	if (!(p->fields[p->nfields].value = strdup(value)))
		return SC_ERR_NOMEM;
	p->nfields++;
	return SC_OK;
}

void s3_post_release(struct s3_post *p)
{
	int i;

	free(p->url);
	for (i = 0; i < p->nfields; i++)
		free(p->fields[i].value);
	memset(p, 0, sizeof(*p));
}

/* The policy document (JSON) for the form. */
static enum sc_err policy(struct s3_client *s3, struct buf *b, const char *key,
			  const char *type_prefix, long long max_bytes,
			  time_t expires, const char *credential,
			  const char *amzdate, const char *token)
{
	struct tm tm;
	char exp[32];
	enum sc_err err;

	gmtime_r(&expires, &tm);
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((err = buf_appendf(b, "{\"expiration\":\"%s\",\"conditions\":["
			       "{\"bucket\":", exp)) ||
	    (err = json_str(b, s3->bucket)) ||
	    (err = buf_appends(b, "},{\"key\":")) ||
	    (err = json_str(b, key)) ||
	    (err = buf_appends(b, "},[\"starts-with\",\"$Content-Type\",")) ||
	    (err = json_str(b, type_prefix)) ||
	    (err = buf_appendf(b, "],[\"content-length-range\",1,%lld],"
			       "{\"x-amz-algorithm\":\"" POST_ALGORITHM "\"},"
			       "{\"x-amz-credential\":", max_bytes)) ||
	    (err = json_str(b, credential)) ||
	    (err = buf_appendf(b, "},{\"x-amz-date\":\"%s\"}", amzdate)))
		return err;
	if (token[0] && ((err = buf_appends(b, ",{\"x-amz-security-token\":")) ||
			 (err = json_str(b, token)) || (err = buf_appendc(b, '}'))))
		return err;
	return buf_appends(b, "]}");
}

enum sc_err s3_presign_post(struct s3_client *s3, const char *key,
			    const char *type_prefix, const char *content_type,
			    long long max_bytes, long ttl_s, struct s3_post *out)
{
	struct buf doc = BUF_INIT(16 * 1024), path = BUF_INIT(8192),
		   url = BUF_INIT(8192);
	char amzdate[17], credential[256], sig[65], *b64 = NULL;
	time_t now = time(NULL);
	struct awscreds_keys *k;
	struct sigv4_creds cr;
	enum sc_err err;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (ttl_s < 1 || ttl_s > 604800 || max_bytes < 1 || !key[0] ||
	    strncmp(content_type, type_prefix, strlen(type_prefix)))
		return s3_fail(s3, SC_ERR_INVALID, "cannot presign a POST of %s: "
			       "bad lifetime, size or content type", key);
	if (!(k = s3_keys(s3, s3->errstr, sizeof(s3->errstr))))
		return SC_ERR_AUTH;
	sigv4_amz_date(now, amzdate);
	snprintf(credential, sizeof(credential), "%s/%.8s/%s/s3/aws4_request",
		 k->access_key, amzdate, s3->region);
	cr = (struct sigv4_creds){ k->access_key, k->secret_key, k->token };
	if ((err = policy(s3, &doc, key, type_prefix, max_bytes, now + ttl_s,
			  credential, amzdate, k->token)))
		goto out;
	n = sodium_base64_ENCODED_LEN(doc.len, sodium_base64_VARIANT_ORIGINAL);
	if (!(b64 = malloc(n))) {
		err = SC_ERR_NOMEM;
		goto out;
	}
	sodium_bin2base64(b64, n, (const unsigned char *)doc.data, doc.len,
			  sodium_base64_VARIANT_ORIGINAL);
	if ((err = sigv4_sign_string(&cr, now, s3->region, "s3", b64, strlen(b64),
				     sig)) ||
	    (err = s3_target(s3, NULL, &path, &url)) ||
	    (err = field(out, "key", key)) ||
	    (err = field(out, "Content-Type", content_type)) ||
	    (err = field(out, "policy", b64)) ||
	    (err = field(out, "x-amz-algorithm", POST_ALGORITHM)) ||
	    (err = field(out, "x-amz-credential", credential)) ||
	    (err = field(out, "x-amz-date", amzdate)) ||
	    (err = field(out, "x-amz-signature", sig)) ||
	    (k->token[0] && (err = field(out, "x-amz-security-token", k->token))))
		goto out;
	if (!(out->url = buf_detach(&url, NULL)))
		err = SC_ERR_NOMEM;
out:
	if (err) {
		s3_post_release(out);
		s3_fail(s3, err, "cannot presign a POST of %s: %s", key,
			sc_strerror(err));
	}
	free(b64);
	s3_keys_free(k);
	buf_release(&doc);
	buf_release(&path);
	buf_release(&url);
	return err;
}
