/*
 * sigv4_sign - sign requests described as JSON lines on stdin with the
 * project's signer (common/sigv4.c); print one line each: the
 * Authorization header (mode "header"), the presigned URL (mode
 * "query") or the signature of a browser-based POST's policy (mode
 * "post": fields policy, the base64 string to sign, region, when,
 * secret_key).  Used to compare the signer with an independent one.
 *
 * Input fields: mode, method, scheme, host, path (decoded), query
 * [[name, value], ...], headers [[name, value], ...] (header mode: every
 * header to sign but host), body_hex (its SHA-256 is the payload hash) or
 * payload_hash, region, when (epoch seconds), access_key, secret_key,
 * token, expires.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sigv4.h"

#define MAXPAIRS 32

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static size_t pairs(const cJSON *arr, struct sigv4_pair *out, size_t max)
{
	const cJSON *p;
	size_t n = 0;

	cJSON_ArrayForEach(p, arr) {
		if (n == max)
			break;
		out[n].name = cJSON_GetArrayItem(p, 0)->valuestring;
		out[n].value = cJSON_GetArrayItem(p, 1)->valuestring;
		n++;
	}
	return n;
}

static unsigned char *unhex(const char *h, size_t *len)
{
	size_t n = strlen(h) / 2, i;
	unsigned char *b = malloc(n + 1);
	unsigned int x;

	for (i = 0; b && i < n; i++) {
		sscanf(h + 2 * i, "%2x", &x);
		b[i] = (unsigned char)x;
	}
	*len = n;
	return b;
}

static int sign_line(const char *line)
{
	struct sigv4_pair q[MAXPAIRS], h[MAXPAIRS + 1];
	struct sigv4_out out = SIGV4_OUT_INIT;
	struct sigv4_request rq;
	struct sigv4_creds cr;
	struct buf url = BUF_INIT(1 << 20);
	cJSON *j = cJSON_Parse(line);
	char hash[65];
	int rc = 1;

	if (!j)
		return 1;
	memset(&rq, 0, sizeof(rq));
	rq.method = str(j, "method");
	rq.path = str(j, "path");
	rq.query = q;
	rq.nquery = pairs(cJSON_GetObjectItem(j, "query"), q, MAXPAIRS);
	h[0].name = "host";
	h[0].value = str(j, "host");
	rq.headers = h;
	rq.nheaders = 1 + pairs(cJSON_GetObjectItem(j, "headers"), h + 1, MAXPAIRS);
	if (cJSON_GetObjectItem(j, "body_hex")) {
		size_t n;
		unsigned char *body = unhex(str(j, "body_hex"), &n);

		sigv4_sha256_hex(body, n, hash);
		free(body);
		rq.payload_hash = hash;
	} else {
		rq.payload_hash = str(j, "payload_hash");
	}
	rq.region = str(j, "region");
	rq.service = "s3";
	rq.when = (time_t)cJSON_GetObjectItem(j, "when")->valuedouble;
	cr.access_key = str(j, "access_key");
	cr.secret_key = str(j, "secret_key");
	cr.token = str(j, "token");
	if (!strcmp(str(j, "mode"), "post")) {
		const char *policy = str(j, "policy");
		char sig[65];

		if (!sigv4_sign_string(&cr, rq.when, rq.region, "s3", policy,
				       strlen(policy), sig)) {
			printf("%s\n", sig);
			rc = 0;
		}
	} else if (!strcmp(str(j, "mode"), "header")) {
		if (!sigv4_sign(&rq, &cr, &out)) {
			printf("%s\n", out.authorization.data);
			rc = 0;
		}
	} else if (!sigv4_presign(&rq, &cr,
				  (long)cJSON_GetObjectItem(j, "expires")->valuedouble,
				  &out) &&
		   !buf_appendf(&url, "%s://%s", str(j, "scheme"), str(j, "host")) &&
		   !sigv4_uri_encode(&url, rq.path, strlen(rq.path), 1) &&
		   !buf_appendf(&url, "?%s", out.query.data)) {
		printf("%s\n", url.data);
		rc = 0;
	}
	sigv4_out_release(&out);
	buf_release(&url);
	cJSON_Delete(j);
	return rc;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int bad = 0;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (sign_line(line)) {
			printf("ERROR\n");
			bad++;
		}
	}
	free(line);
	return bad ? 1 : 0;
}
