/* oidc/jwks.c - the issuer's key set: fetch, keep, refresh (see jwks.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "oidc/jwks.h"

#define DISCOVERY_PATH "/.well-known/openid-configuration"
/* until the first fetch succeeds, the thread tries this often */
#define RETRY_FIRST_S 5

struct oidc_jwks {
	char *issuer;
	char *jwks_url;			/* configured; "" : discover */
	char *discovered;		/* jwks_uri found; under fetch */
	long timeout_ms;
	long refresh_s;
	pthread_mutex_t fetch;		/* one fetch at a time */
	/* written under fetch; read by oidc_jwks_kid_fetch_allowed too */
	atomic_long last_kid_fetch_ms;	/* 0: never */
	pthread_mutex_t lock;		/* guards what follows */
	pthread_cond_t wake;
	struct oidc_keyset *set;
	long long fetched_ok, fetched_failed;
	int stop;
	int running;
	pthread_t thread;
};

/* ---- key sets ---------------------------------------------------------- */

void oidc_keyset_free(struct oidc_keyset *s)
{
	int i;

	for (i = 0; s && i < s->n; i++)
		oidc_jwk_clear(&s->keys[i]);
	free(s);
}

enum sc_err oidc_keyset_parse(const char *json, size_t len,
			      struct oidc_keyset **out, int *skipped,
			      struct buf *errmsg)
{
	cJSON *doc = cJSON_ParseWithLength(json, len);
	const cJSON *keys = cJSON_GetObjectItemCaseSensitive(doc, "keys"), *k;
	struct oidc_keyset *s = NULL;
	enum sc_err rc = SC_ERR_INVALID;
	const char *why;
	int n;

	*out = NULL;
	*skipped = 0;
	if (!cJSON_IsArray(keys)) {
		buf_appends(errmsg, "not a JWK Set (no \"keys\" array)");
		goto out;
	}
	n = cJSON_GetArraySize(keys);
	if (!(s = calloc(1, sizeof(*s) + (size_t)n * sizeof(s->keys[0])))) {
		rc = SC_ERR_NOMEM;
		goto out;
	}
	cJSON_ArrayForEach(k, keys) {
		rc = oidc_jwk_from_json(k, &s->keys[s->n], &why);
		if (rc == SC_ERR_NOMEM)
			goto out;
		if (rc == SC_OK)
			s->n++;
		else
			(*skipped)++;
	}
	rc = SC_ERR_INVALID;
	if (!s->n) {
		buf_appends(errmsg, "no usable RS256 or ES256 signature key");
		goto out;
	}
	s->refs = 1;
	*out = s;
	s = NULL;
	rc = SC_OK;
out:
	oidc_keyset_free(s);
	cJSON_Delete(doc);
	return rc;
}

const struct oidc_jwk *oidc_keyset_find(const struct oidc_keyset *s,
					const char *kid)
{
	int i;

	if (!s)
		return NULL;
	if (!kid)
		return s->n == 1 ? &s->keys[0] : NULL;
	for (i = 0; i < s->n; i++)
		if (!strcmp(s->keys[i].kid, kid))
			return &s->keys[i];
	return NULL;
}

/* ---- fetching ---------------------------------------------------------- */

/* GET url into body within the deadline; errmsg says what failed. */
static enum sc_err http_get(const struct oidc_jwks *j, const char *url,
			    struct buf *body, struct buf *errmsg)
{
	char cerr[CURL_ERROR_SIZE] = "";
	CURL *curl = curl_easy_init();
	long status = 0;
	CURLcode rc;

	if (!curl)
		return SC_ERR_NOMEM;
	buf_reset(body);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, j->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, j->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, buf_curl_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK) {
		buf_appendf(errmsg, "%s: %s", url,
			    cerr[0] ? cerr : curl_easy_strerror(rc));
		return rc == CURLE_OPERATION_TIMEDOUT ? SC_ERR_TIMEOUT : SC_ERR_IO;
	}
	if (status != 200) {
		buf_appendf(errmsg, "%s answered HTTP %ld", url, status);
		return SC_ERR_IO;
	}
	return SC_OK;
}

/* The jwks_uri of the issuer's discovery document into j->discovered. */
static enum sc_err discover(struct oidc_jwks *j, struct buf *body,
			    struct buf *errmsg)
{
	struct buf url = BUF_INIT(4096);
	size_t n = strlen(j->issuer);
	const char *iss, *uri, *why;
	enum sc_err rc;
	cJSON *doc = NULL;

	/* Discovery section 4: the issuer, less a trailing slash, + the path */
	if (n && j->issuer[n - 1] == '/')
		n--;
	if ((rc = buf_append(&url, j->issuer, n)) ||
	    (rc = buf_appends(&url, DISCOVERY_PATH)) ||
	    (rc = http_get(j, url.data, body, errmsg)))
		goto out;
	rc = SC_ERR_INVALID;
	doc = cJSON_ParseWithLength(body->data, body->len);
	iss = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "issuer"));
	uri = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(doc, "jwks_uri"));
	if (!iss || strcmp(iss, j->issuer))
		buf_appendf(errmsg, "%s names another issuer", url.data);
	else if (!uri || !uri[0])
		buf_appendf(errmsg, "%s has no jwks_uri", url.data);
	/* held to the rule of a configured API_OIDC_JWKS_URL: an issuer on
	 * loopback for tests must not send the keys' fetch elsewhere */
	else if ((why = config_check_key_url(uri)))
		buf_appendf(errmsg, "%s: jwks_uri %.200s %s", url.data, uri, why);
	else if (!(j->discovered = strdup(uri)))
		rc = SC_ERR_NOMEM;
	else
		rc = SC_OK;
out:
	cJSON_Delete(doc);
	buf_release(&url);
	return rc;
}

/* One fetch of the set, swapped in on success; under j->fetch. */
static enum sc_err fetch_set(struct oidc_jwks *j)
{
	struct buf body = BUF_INIT(OIDC_JWKS_BODY_MAX), errmsg = BUF_INIT(1024);
	struct oidc_keyset *s = NULL, *old;
	const char *url;
	enum sc_err rc = SC_OK;
	int skipped = 0, n = 0;

	if (!j->jwks_url[0] && !j->discovered)
		rc = discover(j, &body, &errmsg);
	url = j->jwks_url[0] ? j->jwks_url : j->discovered;
	if (!rc && !(rc = http_get(j, url, &body, &errmsg)))
		rc = oidc_keyset_parse(body.data, body.len, &s, &skipped, &errmsg);
	if (!rc)
		n = s->n;
	pthread_mutex_lock(&j->lock);
	if (rc) {
		j->fetched_failed++;
	} else {
		j->fetched_ok++;
		old = j->set;
		j->set = s;
		s = old;
	}
	pthread_mutex_unlock(&j->lock);
	if (rc) {
		log_warn("cannot refresh the identity provider's keys (the keys "
			 "in use are kept): %s",
			 errmsg.len ? errmsg.data : sc_strerror(rc));
		/* the discovery document may have moved the set */
		free(j->discovered);
		j->discovered = NULL;
	} else {
		log_info("identity provider keys: %d from %s (%d skipped)", n,
			 url, skipped);
	}
	oidc_jwks_put(j, s);
	buf_release(&body);
	buf_release(&errmsg);
	return rc;
}

/* ---- the set in use ---------------------------------------------------- */

struct oidc_keyset *oidc_jwks_get(struct oidc_jwks *j)
{
	struct oidc_keyset *s;

	pthread_mutex_lock(&j->lock);
	if ((s = j->set))
		s->refs++;
	pthread_mutex_unlock(&j->lock);
	return s;
}

void oidc_jwks_put(struct oidc_jwks *j, struct oidc_keyset *s)
{
	int last;

	if (!s)
		return;
	pthread_mutex_lock(&j->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&j->lock);
	if (last)
		oidc_keyset_free(s);
}

static int has_kid(struct oidc_jwks *j, const char *kid)
{
	struct oidc_keyset *s = oidc_jwks_get(j);
	int found = oidc_keyset_find(s, kid) != NULL;

	oidc_jwks_put(j, s);
	return found;
}

int oidc_jwks_kid_fetch_allowed(struct oidc_jwks *j)
{
	long last = atomic_load(&j->last_kid_fetch_ms);

	return !last || clock_ms() - last >= OIDC_JWKS_UNKNOWN_KID_S * 1000L;
}

enum sc_err oidc_jwks_refresh_for(struct oidc_jwks *j, const char *kid)
{
	enum sc_err rc;

	pthread_mutex_lock(&j->fetch);
	if (has_kid(j, kid)) {
		rc = SC_OK;	/* another request's fetch brought it */
	} else if (!oidc_jwks_kid_fetch_allowed(j)) {
		rc = SC_ERR_CONFLICT;
	} else {
		atomic_store(&j->last_kid_fetch_ms, clock_ms());
		rc = fetch_set(j);
		if (!rc && !has_kid(j, kid))
			rc = SC_ERR_NOT_FOUND;
	}
	pthread_mutex_unlock(&j->fetch);
	return rc;
}

void oidc_jwks_counts(struct oidc_jwks *j, long long *ok, long long *failed)
{
	pthread_mutex_lock(&j->lock);
	*ok = j->fetched_ok;
	*failed = j->fetched_failed;
	pthread_mutex_unlock(&j->lock);
}

/* ---- life cycle -------------------------------------------------------- */

struct oidc_jwks *oidc_jwks_new(const char *issuer, const char *jwks_url,
				long timeout_ms, long refresh_s)
{
	struct oidc_jwks *j = calloc(1, sizeof(*j));
	pthread_condattr_t ca;

	if (!j)
		return NULL;
	j->issuer = strdup(issuer);
	j->jwks_url = strdup(jwks_url);
	j->timeout_ms = timeout_ms;
	j->refresh_s = refresh_s;
	pthread_mutex_init(&j->fetch, NULL);
	pthread_mutex_init(&j->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (!j->issuer || !j->jwks_url) {
		oidc_jwks_free(j);
		return NULL;
	}
	return j;
}

/* Fetch now, then every refresh_s (RETRY_FIRST_S while none worked). */
static void *refresher(void *arg)
{
	struct oidc_jwks *j = arg;
	struct timespec until;
	long wait_s;
	enum sc_err rc;

	pthread_mutex_lock(&j->lock);
	while (!j->stop) {
		pthread_mutex_unlock(&j->lock);
		pthread_mutex_lock(&j->fetch);
		rc = fetch_set(j);
		pthread_mutex_unlock(&j->fetch);
		pthread_mutex_lock(&j->lock);
		wait_s = rc && !j->set && j->refresh_s > RETRY_FIRST_S
				 ? RETRY_FIRST_S
				 : j->refresh_s;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += wait_s;
		while (!j->stop &&
		       pthread_cond_timedwait(&j->wake, &j->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

enum sc_err oidc_jwks_start(struct oidc_jwks *j)
{
	if (pthread_create(&j->thread, NULL, refresher, j))
		return SC_ERR_IO;
	j->running = 1;
	return SC_OK;
}

void oidc_jwks_free(struct oidc_jwks *j)
{
	if (!j)
		return;
	if (j->running) {
		pthread_mutex_lock(&j->lock);
		j->stop = 1;
		pthread_cond_signal(&j->wake);
		pthread_mutex_unlock(&j->lock);
		pthread_join(j->thread, NULL);
	}
	oidc_keyset_free(j->set);
	pthread_cond_destroy(&j->wake);
	pthread_mutex_destroy(&j->lock);
	pthread_mutex_destroy(&j->fetch);
	free(j->issuer);
	free(j->jwks_url);
	free(j->discovered);
	free(j);
}
