/*
 * sigv4.c - AWS Signature Version 4 (see sigv4.h).
 *
 * The steps are the ones AWS documents: canonical request, string to
 * sign, signing key derived from the secret through the date, region and
 * service, and the HMAC of the string to sign.  SHA-256 and HMAC-SHA-256
 * come from libsodium.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sigv4.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

/* A canonical name=value or name:value pair, owned. */
struct entry {
	char *name;
	char *value;
};

void sigv4_out_release(struct sigv4_out *out)
{
	buf_release(&out->canonical);
	buf_release(&out->string_to_sign);
	buf_release(&out->signed_headers);
	buf_release(&out->authorization);
	buf_release(&out->query);
	out->signature[0] = '\0';
}

void sigv4_amz_date(time_t t, char out[17])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

enum sc_err sigv4_uri_encode(struct buf *b, const char *s, size_t n,
			     int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	enum sc_err err = SC_OK;
	size_t i, run = 0;
	char esc[3] = { '%', 0, 0 };

	/* copy runs of unreserved bytes in one append */
	for (i = 0; i < n && !err; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c) || (keep_slash && c == '/')) {
			run++;
			continue;
		}
		err = buf_append(b, s + i - run, run);
		run = 0;
		esc[1] = hex[c >> 4];
		esc[2] = hex[c & 15];
		if (!err)
			err = buf_append(b, esc, 3);
	}
	if (!err)
		err = buf_append(b, s + n - run, run);
	return err;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	to_hex(h, sizeof(h), out);
}

static void hmac(unsigned char out[32], const unsigned char *key,
		 size_t keylen, const char *msg, size_t len)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, len);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

/* Names compare alone: equal header names keep their given order. */
static int header_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x < y ? -1 : x > y);
}

static void entries_free(struct entry *e, size_t n)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].value);
	}
	free(e);
}

static char *encoded(const char *s)
{
	struct buf b = BUF_INIT(SIGV4_MAX);

	if (!s)
		s = "";
	if (sigv4_uri_encode(&b, s, strlen(s), 0))
		return buf_release(&b), NULL;
	return buf_detach(&b, NULL);
}

/* Lower-cased name; value trimmed with inner whitespace runs collapsed. */
static int header_entry(struct entry *e, const struct sigv4_pair *h)
{
	const char *v = h->value ? h->value : "";
	size_t i, n = strlen(h->name), o = 0;
	int space = 0;

	e->name = malloc(n + 1);
	e->value = malloc(strlen(v) + 1);
	if (!e->name || !e->value)
		return -1;
	for (i = 0; i < n; i++) {
		char c = h->name[i];
		e->name[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	e->name[n] = '\0';
	for (; *v; v++) {
		if (strchr(" \t\r\n\v\f", *v)) {
			space = o > 0;
			continue;
		}
		if (space)
			e->value[o++] = ' ';
		space = 0;
		e->value[o++] = *v;
	}
	e->value[o] = '\0';
	return 0;
}

/*
 * The canonical request into out->canonical, the signed header list into
 * out->signed_headers.  `extra` are more query parameters (presigning).
 */
static enum sc_err canonical_request(const struct sigv4_request *rq,
				     const struct sigv4_pair *extra,
				     size_t nextra, struct sigv4_out *out)
{
	size_t nq = rq->nquery + nextra, i;
	struct entry *q = calloc(nq ? nq : 1, sizeof(*q));
	struct entry *h = calloc(rq->nheaders ? rq->nheaders : 1, sizeof(*h));
	struct buf *c = &out->canonical;
	enum sc_err err = SC_ERR_NOMEM;

	if (!q || !h)
		goto out;
	for (i = 0; i < nq; i++) {
		const struct sigv4_pair *p = i < rq->nquery
			? &rq->query[i] : &extra[i - rq->nquery];

		q[i].name = encoded(p->name);
		q[i].value = encoded(p->value);
		if (!q[i].name || !q[i].value)
			goto out;
	}
	qsort(q, nq, sizeof(*q), entry_cmp);
	for (i = 0; i < rq->nheaders; i++)
		if (header_entry(&h[i], &rq->headers[i]))
			goto out;
	qsort(h, rq->nheaders, sizeof(*h), header_cmp);

	buf_reset(c);
	buf_reset(&out->signed_headers);
	if ((err = buf_appends(c, rq->method)) ||
	    (err = buf_appendc(c, '\n')) ||
	    (err = sigv4_uri_encode(c, rq->path, strlen(rq->path), 1)) ||
	    (err = buf_appendc(c, '\n')))
		goto out;
	for (i = 0; i < nq; i++)
		if ((err = buf_appendf(c, "%s%s=%s", i ? "&" : "", q[i].name,
				       q[i].value)))
			goto out;
	if ((err = buf_appendc(c, '\n')))
		goto out;
	for (i = 0; i < rq->nheaders; i++) {
		int repeat = i > 0 && !strcmp(h[i].name, h[i - 1].name);
		int last = i + 1 == rq->nheaders ||
			   strcmp(h[i].name, h[i + 1].name);

		if (!repeat) {
			err = buf_appendf(c, "%s:", h[i].name);
			if (!err && out->signed_headers.len)
				err = buf_appendc(&out->signed_headers, ';');
			if (!err)
				err = buf_appends(&out->signed_headers, h[i].name);
		} else {
			err = buf_appendc(c, ',');
		}
		if (!err)
			err = buf_appends(c, h[i].value);
		if (!err && last)
			err = buf_appendc(c, '\n');
		if (err)
			goto out;
	}
	err = buf_appendf(c, "\n%s\n%s", out->signed_headers.data
			  ? out->signed_headers.data : "", rq->payload_hash);
out:
	entries_free(q, nq);
	entries_free(h, rq->nheaders);
	return err;
}

/* "20150830/us-east-1/s3/aws4_request" */
static enum sc_err scope(struct buf *b, const struct sigv4_request *rq,
			 const char *amzdate)
{
	return buf_appendf(b, "%.8s/%s/%s/aws4_request", amzdate, rq->region,
			   rq->service);
}

enum sc_err sigv4_sign_string(const struct sigv4_creds *cr, time_t when,
			      const char *region, const char *service,
			      const char *string, size_t len, char signature[65])
{
	unsigned char k[32], sig[32];
	char amzdate[17];
	struct buf secret = BUF_INIT(4096);
	enum sc_err err;

	sigv4_amz_date(when, amzdate);
	if ((err = buf_appendf(&secret, "AWS4%s", cr->secret_key)))
		goto out;
	hmac(k, (unsigned char *)secret.data, secret.len, amzdate, 8);
	hmac(k, k, sizeof(k), region, strlen(region));
	hmac(k, k, sizeof(k), service, strlen(service));
	hmac(k, k, sizeof(k), "aws4_request", 12);
	hmac(sig, k, sizeof(k), string, len);
	to_hex(sig, sizeof(sig), signature);
	sodium_memzero(k, sizeof(k));
out:
	if (secret.data)
		sodium_memzero(secret.data, secret.len);
	buf_release(&secret);
	return err;
}

/* String to sign and signature from the canonical request in out. */
static enum sc_err sign_canonical(const struct sigv4_request *rq,
				  const struct sigv4_creds *cr,
				  struct sigv4_out *out)
{
	char amzdate[17], hash[65];
	struct buf *s = &out->string_to_sign;
	enum sc_err err;

	sigv4_amz_date(rq->when, amzdate);
	sigv4_sha256_hex(out->canonical.data, out->canonical.len, hash);
	buf_reset(s);
	if ((err = buf_appendf(s, ALGORITHM "\n%s\n", amzdate)) ||
	    (err = scope(s, rq, amzdate)) ||
	    (err = buf_appendf(s, "\n%s", hash)))
		return err;
	return sigv4_sign_string(cr, rq->when, rq->region, rq->service, s->data,
				 s->len, out->signature);
}

enum sc_err sigv4_sign(const struct sigv4_request *rq,
		       const struct sigv4_creds *cr, struct sigv4_out *out)
{
	char amzdate[17];
	enum sc_err err;

	if ((err = canonical_request(rq, NULL, 0, out)) ||
	    (err = sign_canonical(rq, cr, out)))
		return err;
	sigv4_amz_date(rq->when, amzdate);
	buf_reset(&out->authorization);
	if ((err = buf_appendf(&out->authorization, ALGORITHM " Credential=%s/",
			       cr->access_key)) ||
	    (err = scope(&out->authorization, rq, amzdate)))
		return err;
	return buf_appendf(&out->authorization,
			   ", SignedHeaders=%s, Signature=%s",
			   out->signed_headers.data, out->signature);
}

enum sc_err sigv4_query_add(struct buf *b, const char *name,
			    const char *value)
{
	enum sc_err err;

	if ((err = b->len ? buf_appendc(b, '&') : SC_OK) ||
	    (err = sigv4_uri_encode(b, name, strlen(name), 0)) ||
	    (err = buf_appendc(b, '=')))
		return err;
	return sigv4_uri_encode(b, value ? value : "", value ? strlen(value) : 0, 0);
}

enum sc_err sigv4_presign(const struct sigv4_request *rq,
			  const struct sigv4_creds *cr, long expires,
			  struct sigv4_out *out)
{
	struct buf cred = BUF_INIT(4096), hdrs = BUF_INIT(SIGV4_MAX);
	struct sigv4_out probe = SIGV4_OUT_INIT;
	char amzdate[17], exp[24];
	struct sigv4_pair auth[6];
	size_t nauth = 0, i;
	enum sc_err err;

	sigv4_amz_date(rq->when, amzdate);
	snprintf(exp, sizeof(exp), "%ld", expires);
	/* the signed header list is a parameter of what it signs */
	if ((err = canonical_request(rq, NULL, 0, &probe)) ||
	    (err = buf_appends(&hdrs, probe.signed_headers.data)) ||
	    (err = buf_appendf(&cred, "%s/", cr->access_key)) ||
	    (err = scope(&cred, rq, amzdate)))
		goto out;

	/* botocore's and AWS's documented order, kept for the URL */
	auth[nauth++] = (struct sigv4_pair){ "X-Amz-Algorithm", ALGORITHM };
	auth[nauth++] = (struct sigv4_pair){ "X-Amz-Credential", cred.data };
	auth[nauth++] = (struct sigv4_pair){ "X-Amz-Date", amzdate };
	auth[nauth++] = (struct sigv4_pair){ "X-Amz-Expires", exp };
	auth[nauth++] = (struct sigv4_pair){ "X-Amz-SignedHeaders", hdrs.data };
	if (cr->token && cr->token[0])
		auth[nauth++] = (struct sigv4_pair){ "X-Amz-Security-Token",
						     cr->token };
	if ((err = canonical_request(rq, auth, nauth, out)) ||
	    (err = sign_canonical(rq, cr, out)))
		goto out;

	/* the URL: the caller's parameters as given, then ours */
	buf_reset(&out->query);
	for (i = 0; i < rq->nquery && !err; i++)
		err = sigv4_query_add(&out->query, rq->query[i].name,
				      rq->query[i].value);
	for (i = 0; i < nauth && !err; i++)
		err = sigv4_query_add(&out->query, auth[i].name, auth[i].value);
	if (!err)
		err = sigv4_query_add(&out->query, "X-Amz-Signature", out->signature);
out:
	sigv4_out_release(&probe);
	buf_release(&cred);
	buf_release(&hdrs);
	return err;
}
