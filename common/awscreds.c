/*
 * awscreds.c - static keys or instance-role keys through IMDSv2 (see awscreds.h).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "awscreds.h"
#include "clock.h"
#include "log.h"

#define IMDS_TOKEN_TTL "21600"
#define IMDS_MAX_BODY (64 * 1024)
#define REFRESH_MAX_AHEAD 300	/* seconds */
#define RETRY_EVERY_MS 1000

struct awscreds {
	pthread_mutex_t lock;
	int from_role;
	char *imds;			/* endpoint, no trailing slash */
	long timeout_ms;
	struct awscreds_keys keys;	/* guarded by lock */
	time_t refresh_at;		/* role: when to fetch again */
	long long last_try_ms;		/* role: last failed fetch */
};

static void copy(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

struct awscreds *awscreds_new(const struct config *c)
{
	struct awscreds *p = calloc(1, sizeof(*p));
	size_t n;

	if (!p || !(p->imds = strdup(c->aws_imds_endpoint))) {
		free(p);
		return NULL;
	}
	n = strlen(p->imds);
	while (n && p->imds[n - 1] == '/')
		p->imds[--n] = '\0';
	pthread_mutex_init(&p->lock, NULL);
	p->timeout_ms = c->connect_timeout_ms;
	p->from_role = !c->aws_access_key_id[0];
	if (!p->from_role) {
		copy(p->keys.access_key, sizeof(p->keys.access_key),
		     c->aws_access_key_id);
		copy(p->keys.secret_key, sizeof(p->keys.secret_key),
		     c->aws_secret_access_key);
		copy(p->keys.token, sizeof(p->keys.token), c->aws_session_token);
	}
	return p;
}

void awscreds_free(struct awscreds *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p->imds);
	explicit_bzero(&p->keys, sizeof(p->keys));
	free(p);
}

const char *awscreds_source(const struct awscreds *p)
{
	return p->from_role ? "instance-role" : "environment";
}

/* One IMDS request; the body goes to *body.  `token` NULL asks for one. */
static enum sc_err imds_call(struct awscreds *p, const char *path,
			     const char *token, struct buf *body,
			     struct buf *errmsg)
{
	struct curl_slist *hdrs = NULL, *h;
	struct buf url = BUF_INIT(4096), hdr = BUF_INIT(8192);
	char cerr[CURL_ERROR_SIZE] = "";
	enum sc_err err = SC_ERR_NOMEM;
	CURL *curl = curl_easy_init();
	long status = 0;
	CURLcode rc;

	if (!curl || buf_appendf(&url, "%s%s", p->imds, path) ||
	    (token ? buf_appendf(&hdr, "X-aws-ec2-metadata-token: %s", token)
		   : buf_appends(&hdr, "X-aws-ec2-metadata-token-ttl-seconds: "
				 IMDS_TOKEN_TTL)) ||
	    !(h = curl_slist_append(hdrs, hdr.data)))
		goto out;
	hdrs = h;
	buf_reset(body);
	curl_easy_setopt(curl, CURLOPT_URL, url.data);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	if (!token)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, p->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, p->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, buf_curl_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		buf_appendf(errmsg, "instance metadata service %s: %s", url.data,
			    cerr[0] ? cerr : curl_easy_strerror(rc));
		err = SC_ERR_AUTH;
	} else if (status != 200) {
		buf_appendf(errmsg, "instance metadata service %s answered HTTP %ld",
			    url.data, status);
		err = SC_ERR_AUTH;
	} else {
		err = buf_appends(body, "");
	}
out:
	curl_slist_free_all(hdrs);
	if (curl)
		curl_easy_cleanup(curl);
	buf_release(&url);
	buf_release(&hdr);
	return err;
}

/* "2026-11-22T10:00:00Z" as a time_t; 0 if it is not one. */
static time_t parse_expiration(const char *s)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return 0;
	return timegm(&tm);
}

static const char *json_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Fetch role credentials into *k (IMDSv2: token, role name, keys). */
static enum sc_err fetch_role(struct awscreds *p, struct awscreds_keys *k,
			      struct buf *errmsg)
{
	struct buf token = BUF_INIT(IMDS_MAX_BODY), role = BUF_INIT(IMDS_MAX_BODY),
		   path = BUF_INIT(4096), body = BUF_INIT(IMDS_MAX_BODY);
	const char *akid, *secret, *tok, *exp, *code;
	cJSON *doc = NULL;
	enum sc_err err;
	char *nl;

	if ((err = imds_call(p, "/latest/api/token", NULL, &token, errmsg)) ||
	    (err = imds_call(p, "/latest/meta-data/iam/security-credentials/",
			     token.data, &role, errmsg)))
		goto out;
	if ((nl = strchr(role.data, '\n')))
		*nl = '\0';
	if (!role.data[0]) {
		buf_appends(errmsg, "the instance has no IAM role attached");
		err = SC_ERR_AUTH;
		goto out;
	}
	if ((err = buf_appendf(&path, "/latest/meta-data/iam/security-credentials/%s",
			       role.data)) ||
	    (err = imds_call(p, path.data, token.data, &body, errmsg)))
		goto out;
	doc = cJSON_Parse(body.data);
	code = json_str(doc, "Code");
	akid = json_str(doc, "AccessKeyId");
	secret = json_str(doc, "SecretAccessKey");
	tok = json_str(doc, "Token");
	exp = json_str(doc, "Expiration");
	if (!doc || (code && strcmp(code, "Success")) || !akid || !secret ||
	    !exp || !parse_expiration(exp)) {
		buf_appendf(errmsg, "instance metadata service gave no usable "
			    "credentials for role %s (Code %s)", role.data,
			    code ? code : "missing");
		err = SC_ERR_AUTH;
		goto out;
	}
	copy(k->access_key, sizeof(k->access_key), akid);
	copy(k->secret_key, sizeof(k->secret_key), secret);
	copy(k->token, sizeof(k->token), tok ? tok : "");
	k->expires = parse_expiration(exp);
	log_info("s3 credentials from instance role %s: key %s, expires %s",
		 role.data, k->access_key, exp);
out:
	cJSON_Delete(doc);
	if (body.data)
		explicit_bzero(body.data, body.len);
	buf_release(&token);
	buf_release(&role);
	buf_release(&path);
	buf_release(&body);
	return err;
}

/*
 * When to fetch again: a fifth of the lifetime early, at least a second
 * (expirations are whole seconds) and at most five minutes.
 */
static time_t refresh_time(time_t now, time_t expires)
{
	time_t ahead = (expires - now) / 5;

	if (ahead > REFRESH_MAX_AHEAD)
		ahead = REFRESH_MAX_AHEAD;
	if (ahead < 1)
		ahead = 1;
	return expires - ahead;
}

enum sc_err awscreds_get(struct awscreds *p, struct awscreds_keys *out,
			 struct buf *errmsg)
{
	struct awscreds_keys fresh;
	enum sc_err err = SC_OK;
	time_t now = time(NULL);

	pthread_mutex_lock(&p->lock);
	if (p->from_role && now >= p->refresh_at &&
	    clock_ms() - p->last_try_ms >= RETRY_EVERY_MS) {
		struct buf why = BUF_INIT(1024);

		memset(&fresh, 0, sizeof(fresh));
		err = fetch_role(p, &fresh, &why);
		if (!err) {
			p->keys = fresh;
			p->refresh_at = refresh_time(now, fresh.expires);
			p->last_try_ms = 0;
		} else {
			p->last_try_ms = clock_ms();
			if (p->keys.expires > now)
				log_warn("cannot refresh s3 credentials, using the "
					 "current ones until %ld: %s",
					 (long)p->keys.expires, why.data);
			buf_appends(errmsg, why.data ? why.data : "");
		}
		explicit_bzero(&fresh, sizeof(fresh));
		buf_release(&why);
	}
	if (p->from_role && p->keys.expires <= now) {
		if (!err)
			buf_appends(errmsg, "instance role credentials have "
				    "expired and could not be refreshed");
		err = SC_ERR_AUTH;
	} else {
		*out = p->keys;
		err = SC_OK;
	}
	pthread_mutex_unlock(&p->lock);
	return err;
}
