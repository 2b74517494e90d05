/* aws_query.c - signed headers for AWS query APIs (see aws_query.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aws_query.h"
#include "sigv4.h"

#define CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"

/* Append "name: value" to *list; 0, or -1 out of memory. */
static int add(struct curl_slist **list, struct buf *line, const char *name,
	       const char *value)
{
	struct curl_slist *l;

	buf_reset(line);
	if (buf_appendf(line, "%s: %s", name, value) ||
	    !(l = curl_slist_append(*list, line->data)))
		return -1;
	*list = l;
	return 0;
}

enum sc_err aws_query_headers(struct awscreds *creds, const char *url,
			      const char *region, const char *service,
			      const char *body, size_t len,
			      struct curl_slist **out, struct buf *err)
{
	struct sigv4_out sig = SIGV4_OUT_INIT;
	struct sigv4_request rq = { 0 };
	struct buf line = BUF_INIT(16384);
	struct curl_slist *list = NULL, *l;
	struct sigv4_creds cr;
	struct sigv4_pair h[4];
	struct awscreds_keys k;
	char amzdate[17], hash[65], host[512];
	const char *p = strstr(url, "://");
	enum sc_err rc;
	size_t nh = 0, i;

	*out = NULL;
	if (!p || !p[3])
		return SC_ERR_INVALID;
	snprintf(host, sizeof(host), "%.*s", (int)strcspn(p + 3, "/"), p + 3);
	if ((rc = awscreds_get(creds, &k, err)))
		return rc;
	rq.when = time(NULL);
	sigv4_amz_date(rq.when, amzdate);
	sigv4_sha256_hex(body, len, hash);
	h[nh++] = (struct sigv4_pair){ "content-type", CONTENT_TYPE };
	h[nh++] = (struct sigv4_pair){ "host", host };
	h[nh++] = (struct sigv4_pair){ "x-amz-date", amzdate };
	if (k.token[0])
		h[nh++] = (struct sigv4_pair){ "x-amz-security-token", k.token };
	rq.method = "POST";
	rq.path = "/";
	rq.headers = h;
	rq.nheaders = nh;
	rq.payload_hash = hash;
	rq.region = region;
	rq.service = service;
	cr.access_key = k.access_key;
	cr.secret_key = k.secret_key;
	cr.token = k.token;
	if ((rc = sigv4_sign(&rq, &cr, &sig)))
		goto out;
	rc = SC_ERR_NOMEM;
	for (i = 0; i < nh; i++)
		if (add(&list, &line, h[i].name, h[i].value))
			goto out;
	if (add(&list, &line, "Authorization", sig.authorization.data) ||
	    !(l = curl_slist_append(list, "Expect:")))
		goto out;
	list = l;
	*out = list;
	list = NULL;
	rc = SC_OK;
out:
	curl_slist_free_all(list);
	sigv4_out_release(&sig);
	buf_release(&line);
	return rc;
}
