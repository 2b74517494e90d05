/*
 * s3_request.c - signing, running and retrying S3 requests (see s3_request.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "log.h"
#include "s3_request.h"

#define RESP_MAX (4 * 1024 * 1024)
#define BACKOFF_BASE_MS 200
#define BACKOFF_CAP_MS 5000

void s3req_init(struct s3_req *r, const char *method, const char *key)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->key = key;
	r->range_first = -1;
	r->range_last = -1;
	r->body_fd = -1;
	buf_init(&r->resp, RESP_MAX);
	buf_init(&r->path, 8192);
	buf_init(&r->url, 16 * 1024);
}

void s3req_release(struct s3_req *r)
{
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
	buf_release(&r->resp);
	buf_release(&r->path);
	buf_release(&r->url);
}

void s3req_query(struct s3_req *r, const char *name, const char *value)
{
	if (r->nquery < S3REQ_MAX_QUERY)
		r->query[r->nquery++] = (struct sigv4_pair){ name, value };
}

enum sc_err s3_fail(struct s3_client *s3, enum sc_err err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s3->errstr, sizeof(s3->errstr), fmt, ap);
	va_end(ap);
	return err;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct s3_req *r = arg;
	size_t len = size * n;
	long status = 0;
	enum sc_err err;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300 && r->sink) {
		err = r->sink(r->sink_arg, data, len);
		if (err) {
			r->sink_err = err;
			return 0;
		}
		r->delivered += (long long)len;
		return len;
	}
	if (buf_append(&r->resp, data, len)) {
		r->sink_err = SC_ERR_TOO_LARGE;
		return 0;
	}
	return len;
}

/* Copy a header's value (trimmed) into dst. */
static void header_value(char *dst, size_t n, const char *v, size_t len)
{
	while (len && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len && strchr(" \t\r\n", v[len - 1]))
		len--;
	if (len >= n)
		len = n - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static int named(const char *data, size_t nlen, const char *name)
{
	return nlen == strlen(name) && !strncasecmp(data, name, nlen);
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct s3_req *r = arg;
	size_t total = size * n, len = total;
	const char *colon = memchr(data, ':', len);
	char num[32];
	size_t nlen;

	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		memset(&r->info, 0, sizeof(r->info));	/* a new response */
		return total;
	}
	if (!colon)
		return total;
	nlen = (size_t)(colon - data);
	colon++;
	len -= nlen + 1;
	if (named(data, nlen, "etag")) {
		header_value(r->info.etag, sizeof(r->info.etag), colon, len);
	} else if (named(data, nlen, "content-type")) {
		header_value(r->info.content_type, sizeof(r->info.content_type),
			     colon, len);
	} else if (named(data, nlen, "last-modified")) {
		header_value(r->info.last_modified, sizeof(r->info.last_modified),
			     colon, len);
	} else if (named(data, nlen, "content-length")) {
		header_value(num, sizeof(num), colon, len);
		if (!r->info.size)
			r->info.size = atoll(num);
	} else if (named(data, nlen, "content-range")) {
		/* "bytes 0-99/12345": the object's size is after the slash */
		const char *slash = memchr(colon, '/', len);

		if (slash) {
			header_value(num, sizeof(num), slash + 1,
				     len - (size_t)(slash + 1 - colon));
			r->info.size = atoll(num);
		}
	}
	return total;
}

static size_t on_read(char *dst, size_t size, size_t n, void *arg)
{
	struct s3_req *r = arg;
	size_t left = r->body_len - r->body_off, k = size * n;

	if (k > left)
		k = left;
	if (r->body_fd >= 0) {
		ssize_t got = pread(r->body_fd, dst, k, (off_t)r->body_off);

		if (got <= 0 && k) {
			r->sink_err = SC_ERR_IO;
			return CURL_READFUNC_ABORT;
		}
		k = (size_t)got;
	} else {
		memcpy(dst, (const char *)r->body + r->body_off, k);
	}
	r->body_off += k;
	return k;
}

/* curl rewinds the body when it resends on a connection that died. */
static int on_seek(void *arg, curl_off_t off, int origin)
{
	struct s3_req *r = arg;

	if (origin != SEEK_SET || off < 0 || (size_t)off > r->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	r->body_off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static enum sc_err add_header(struct s3_req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum sc_err add_header(struct s3_req *r, const char *fmt, ...)
{
	struct buf b = BUF_INIT(16 * 1024);
	struct curl_slist *h;
	enum sc_err err;
	va_list ap;

	va_start(ap, fmt);
	err = buf_vappendf(&b, fmt, ap);
	va_end(ap);
	h = err ? NULL : curl_slist_append(r->hdrs, b.data);
	buf_release(&b);
	if (!h)
		return err ? err : SC_ERR_NOMEM;
	r->hdrs = h;
	return SC_OK;
}

enum sc_err s3_target(struct s3_client *s3, const char *key, struct buf *path,
		      struct buf *url)
{
	enum sc_err err = buf_appends(path, s3->path_prefix);

	if (!err && key)
		err = buf_appendf(path, "/%s", key);
	if (!err && !path->len)
		err = buf_appendc(path, '/');
	if (!err)
		err = buf_appends(url, s3->origin);
	if (!err)
		err = sigv4_uri_encode(url, path->data, path->len, 1);
	return err;
}

struct awscreds_keys *s3_keys(struct s3_client *s3, char *errstr, size_t n)
{
	struct awscreds_keys *k = malloc(sizeof(*k));
	struct buf why = BUF_INIT(1024);

	if (!k) {
		snprintf(errstr, n, "out of memory");
	} else if (awscreds_get(s3->creds, k, &why)) {
		snprintf(errstr, n, "no s3 credentials: %s", why.data ? why.data : "");
		s3_keys_free(k);
		k = NULL;
	}
	buf_release(&why);
	return k;
}

void s3_keys_free(struct awscreds_keys *k)
{
	if (!k)
		return;
	sodium_memzero(k, sizeof(*k));
	free(k);
}

static enum sc_err build_failed(struct s3_client *s3, struct s3_req *r,
				enum sc_err err)
{
	snprintf(r->errstr, sizeof(r->errstr), "cannot build s3 request for %s: %s",
		 r->key ? r->key : s3->bucket, sc_strerror(err));
	return err;
}

/* Path, URL and payload hash: the same for every attempt. */
static enum sc_err derive(struct s3_client *s3, struct s3_req *r)
{
	struct buf q = BUF_INIT(16 * 1024);
	enum sc_err err;
	size_t i;

	buf_reset(&r->path);
	buf_reset(&r->url);
	err = s3_target(s3, r->key, &r->path, &r->url);
	for (i = 0; i < r->nquery && !err; i++)
		err = sigv4_query_add(&q, r->query[i].name, r->query[i].value);
	if (!err && q.len)
		err = buf_appendf(&r->url, "?%s", q.data);
	buf_release(&q);
	if (r->hash_body)
		sigv4_sha256_hex(r->body ? r->body : "", r->body_len,
				 r->payload_hash);
	else
		snprintf(r->payload_hash, sizeof(r->payload_hash), "%s",
			 r->body_len ? SIGV4_UNSIGNED_PAYLOAD : SIGV4_EMPTY_SHA256);
	return err ? build_failed(s3, r, err) : SC_OK;
}

/* Sign this attempt (the date and the keys are the present ones). */
static enum sc_err prepare(struct s3_client *s3, struct s3_req *r)
{
	struct sigv4_pair h[6];
	struct sigv4_request rq;
	struct sigv4_out out = SIGV4_OUT_INIT;
	struct awscreds_keys *k;
	struct buf range = BUF_INIT(64);
	struct sigv4_creds cr;
	char amzdate[17];
	enum sc_err err;
	size_t nh = 0, i;

	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
	buf_reset(&r->resp);
	memset(&r->info, 0, sizeof(r->info));
	r->body_off = 0;
	r->status = 0;
	r->curl_err[0] = '\0';

	k = s3_keys(s3, r->errstr, sizeof(r->errstr));
	if (!k)
		return SC_ERR_AUTH;
	rq.when = time(NULL);
	sigv4_amz_date(rq.when, amzdate);
	h[nh++] = (struct sigv4_pair){ "host", s3->host };
	h[nh++] = (struct sigv4_pair){ "x-amz-date", amzdate };
	h[nh++] = (struct sigv4_pair){ "x-amz-content-sha256", r->payload_hash };
	if (k->token[0])
		h[nh++] = (struct sigv4_pair){ "x-amz-security-token", k->token };
	if (r->content_type)
		h[nh++] = (struct sigv4_pair){ "content-type", r->content_type };
	if (r->range_first >= 0 || r->delivered) {
		long long first = (r->range_first > 0 ? r->range_first : 0) +
				  r->delivered;

		if (r->range_last >= 0)
			err = buf_appendf(&range, "bytes=%lld-%lld", first,
					  r->range_last);
		else
			err = buf_appendf(&range, "bytes=%lld-", first);
		if (err)
			goto out_nomem;
		h[nh++] = (struct sigv4_pair){ "range", range.data };
	}
	rq.method = r->method;
	rq.path = r->path.data;
	rq.query = r->query;
	rq.nquery = r->nquery;
	rq.headers = h;
	rq.nheaders = nh;
	rq.payload_hash = r->payload_hash;
	rq.region = s3->region;
	rq.service = "s3";
	cr.access_key = k->access_key;
	cr.secret_key = k->secret_key;
	cr.token = k->token;
	if ((err = sigv4_sign(&rq, &cr, &out)))
		goto out_nomem;
	for (i = 0; i < nh && !err; i++)
		err = add_header(r, "%s: %s", h[i].name, h[i].value);
	if (!err)
		err = add_header(r, "Authorization: %s", out.authorization.data);
	if (!err)
		err = add_header(r, "Expect:");	/* no 100-continue round trip */
	if (!err && !r->content_type)
		err = add_header(r, "Content-Type:");
	if (err)
		goto out_nomem;

	curl_easy_setopt(r->easy, CURLOPT_URL, r->url.data);
	/* S3 keys may hold "/./" and "/../": send them as signed */
	curl_easy_setopt(r->easy, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->curl_err);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT_MS, s3->connect_timeout_ms);
	curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(r->easy, CURLOPT_LOW_SPEED_TIME,
			 (s3->stall_timeout_ms + 999) / 1000);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(r->easy, CURLOPT_READDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_SEEKFUNCTION, on_seek);
	curl_easy_setopt(r->easy, CURLOPT_SEEKDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
	curl_easy_setopt(r->easy, CURLOPT_BUFFERSIZE, 512L * 1024);
	if (!strcmp(r->method, "HEAD")) {
		curl_easy_setopt(r->easy, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(r->method, "PUT")) {
		curl_easy_setopt(r->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(r->easy, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)r->body_len);
	} else if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(r->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, r->method);
	}
	goto out;
out_nomem:
	build_failed(s3, r, err);
out:
	s3_keys_free(k);
	sigv4_out_release(&out);
	buf_release(&range);
	return err;
}

static CURL *easy_get(struct s3_client *s3)
{
	return s3->npool ? s3->pool[--s3->npool] : curl_easy_init();
}

static void easy_put(struct s3_client *s3, CURL *e)
{
	if (!e)
		return;
	if (s3->npool < S3REQ_MAX_ACTIVE) {
		curl_easy_reset(e);
		s3->pool[s3->npool++] = e;
	} else {
		curl_easy_cleanup(e);
	}
}

static void detach(struct s3_client *s3, struct s3_req *r)
{
	if (r->in_multi) {
		curl_multi_remove_handle(s3->multi, r->easy);
		r->in_multi = 0;
	}
	easy_put(s3, r->easy);
	r->easy = NULL;
}

/* One attempt: sign and hand the handle to the multi. */
static void attempt(struct s3_client *s3, struct s3_req *r)
{
	enum sc_err err;

	r->attempts++;
	r->easy = easy_get(s3);
	if (!r->easy) {
		r->err = SC_ERR_NOMEM;
		snprintf(r->errstr, sizeof(r->errstr), "out of memory");
		r->finished = 1;
		return;
	}
	err = prepare(s3, r);
	if (!err && curl_multi_add_handle(s3->multi, r->easy) != CURLM_OK)
		err = SC_ERR_NOMEM;
	if (err) {
		r->err = err;
		r->finished = 1;
		detach(s3, r);
		return;
	}
	r->in_multi = 1;
}

enum sc_err s3req_start(struct s3_client *s3, struct s3_req *r)
{
	if (s3->nactive == S3REQ_MAX_ACTIVE)
		return SC_ERR_TOO_LARGE;
	r->attempts = 0;
	r->finished = 0;
	r->err = SC_OK;
	r->errstr[0] = '\0';
	s3->active[s3->nactive++] = r;
	r->err = derive(s3, r);
	if (r->err)
		r->finished = 1;
	else
		attempt(s3, r);
	return SC_OK;
}

static void remove_active(struct s3_client *s3, struct s3_req *r)
{
	int i;

	for (i = 0; i < s3->nactive; i++)
		if (s3->active[i] == r) {
			s3->active[i] = s3->active[--s3->nactive];
			return;
		}
}

void s3req_cancel(struct s3_client *s3, struct s3_req *r)
{
	detach(s3, r);
	remove_active(s3, r);
}

/* The project's error for an HTTP status and S3 error code. */
static enum sc_err map_status(long status, const char *code)
{
	if (status == 403 || status == 401 ||
	    !strcmp(code, "SignatureDoesNotMatch") ||
	    !strcmp(code, "InvalidAccessKeyId") || !strcmp(code, "ExpiredToken"))
		return SC_ERR_AUTH;
	if (status == 404)
		return SC_ERR_NOT_FOUND;
	if (status == 416 || !strcmp(code, "InvalidArgument") ||
	    !strcmp(code, "KeyTooLongError"))
		return SC_ERR_INVALID;
	return SC_ERR_S3;
}

/* Milliseconds before attempt n+1: exponential, capped, half jittered. */
static long backoff_ms(int n)
{
	long b = BACKOFF_BASE_MS << (n > 5 ? 5 : n - 1);

	if (b > BACKOFF_CAP_MS)
		b = BACKOFF_CAP_MS;
	return b / 2 + (long)randombytes_uniform((uint32_t)(b / 2 + 1));
}

/* Judge a completed attempt: finish r, or schedule the next attempt. */
static void judge(struct s3_client *s3, struct s3_req *r, CURLcode rc)
{
	struct buf code = BUF_INIT(256), msg = BUF_INIT(1024);
	const char *what = r->key ? r->key : s3->bucket;
	int retry = 0;	/* worth another attempt, if any remain */
	size_t pos = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	detach(s3, r);
	if ((rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK ||
	     rc == CURLE_READ_ERROR) && r->sink_err) {
		r->err = r->sink_err == SC_ERR_TOO_LARGE ? SC_ERR_S3 : r->sink_err;
		snprintf(r->errstr, sizeof(r->errstr), "s3 %s %s: %s", r->method,
			 what, r->sink_err == SC_ERR_TOO_LARGE ? "answer too large"
			 : r->sink_err == SC_ERR_IO ? "cannot read or write the local data"
			 : "the receiver of the data failed");
	} else if (rc != CURLE_OK) {
		retry = 1;
		r->err = rc == CURLE_OPERATION_TIMEDOUT ? SC_ERR_TIMEOUT : SC_ERR_S3;
		snprintf(r->errstr, sizeof(r->errstr), "s3 %s %s: cannot reach %s: %s",
			 r->method, what, s3->origin,
			 r->curl_err[0] ? r->curl_err : curl_easy_strerror(rc));
	} else if (r->status >= 200 && r->status < 300) {
		r->err = SC_OK;
		r->errstr[0] = '\0';
	} else {
		s3xml_text(r->resp.data ? r->resp.data : "", "Code", &pos, &code);
		pos = 0;
		s3xml_text(r->resp.data ? r->resp.data : "", "Message", &pos, &msg);
		retry = r->status >= 500 || r->status == 429;
		r->err = map_status(r->status, code.data ? code.data : "");
		/* HEAD answers carry no body: name the status instead */
		snprintf(r->errstr, sizeof(r->errstr), "s3 %s %s: %s%s%s (HTTP %ld)",
			 r->method, what, code.len ? code.data
			 : r->status == 403 ? "AccessDenied: the credentials or "
			   "signature were refused"
			 : r->status == 404 ? "NotFound" : "error",
			 msg.len ? ": " : "", msg.len ? msg.data : "", r->status);
	}
	buf_release(&code);
	buf_release(&msg);
	retry = retry && !r->once;
	if (retry && r->attempts < s3->max_attempts) {
		long delay = backoff_ms(r->attempts);

		log_warn("%s; attempt %d of %d, retrying in %ld ms", r->errstr,
			 r->attempts, s3->max_attempts, delay);
		r->retry_at_ms = clock_ms() + delay;
		return;
	}
	if (retry && s3->max_attempts > 1) {
		size_t n = strlen(r->errstr);

		snprintf(r->errstr + n, sizeof(r->errstr) - n,
			 " (gave up after %d attempts)", r->attempts);
	}
	r->finished = 1;
}

/* Read curl's completion messages and judge each finished attempt. */
static void collect(struct s3_client *s3)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(s3->multi, &left))) {
		struct s3_req *r = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		if (r)
			judge(s3, r, m->data.result);
	}
}

/* Start the retries that are due; milliseconds until the next one. */
static long due_retries(struct s3_client *s3)
{
	long now = clock_ms(), wait_ms = 1000;
	int i;

	for (i = 0; i < s3->nactive; i++) {
		struct s3_req *r = s3->active[i];

		if (r->finished || r->in_multi)
			continue;
		if (r->retry_at_ms <= now)
			attempt(s3, r);
		else if (r->retry_at_ms - now < wait_ms)
			wait_ms = r->retry_at_ms - now;
	}
	return wait_ms;
}

static struct s3_req *take_finished(struct s3_client *s3)
{
	int i;

	for (i = 0; i < s3->nactive; i++) {
		struct s3_req *r = s3->active[i];

		if (r->finished) {
			remove_active(s3, r);
			return r;
		}
	}
	return NULL;
}

/* The caller gave up: stop every request in flight, each cancelled. */
static void cancel_all(struct s3_client *s3)
{
	int i;

	for (i = 0; i < s3->nactive; i++) {
		struct s3_req *r = s3->active[i];

		if (r->finished)
			continue;
		if (r->easy)
			detach(s3, r);
		r->err = SC_ERR_CANCELLED;
		snprintf(r->errstr, sizeof(r->errstr), "s3 %s %s: cancelled",
			 r->method, r->key ? r->key : s3->bucket);
		r->finished = 1;
	}
}

struct s3_req *s3req_next(struct s3_client *s3, int block)
{
	struct s3_req *r;
	long wait_ms;
	int running;

	for (;;) {
		if (s3->cancel && s3->cancel(s3->cancel_arg))
			cancel_all(s3);
		due_retries(s3);
		if ((r = take_finished(s3)) || !s3->nactive)
			return r;
		curl_multi_perform(s3->multi, &running);
		collect(s3);
		wait_ms = due_retries(s3);
		if ((r = take_finished(s3)) || !block)
			return r;
		curl_multi_poll(s3->multi, NULL, 0, (int)(wait_ms > 0 ? wait_ms : 1),
				NULL);
	}
}

enum sc_err s3req_perform(struct s3_client *s3, struct s3_req *r)
{
	struct s3_req *done;
	enum sc_err err = s3req_start(s3, r);

	if (err)
		return s3_fail(s3, err, "too many s3 requests in flight");
	do
		done = s3req_next(s3, 1);
	while (done && done != r);
	if (r->err)
		snprintf(s3->errstr, sizeof(s3->errstr), "%s", r->errstr);
	else
		s3->errstr[0] = '\0';
	return r->err;
}

static void xml_decode(struct buf *out, const char *s, size_t n)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' }, { "&#34;", '"' },
		{ "&#39;", '\'' }, { "&#13;", '\r' }, { "&#10;", '\n' },
	};
	size_t i, e, len;

	for (i = 0; i < n; i++) {
		int matched = 0;

		for (e = 0; s[i] == '&' && !matched &&
			    e < sizeof(ents) / sizeof(ents[0]); e++) {
			len = strlen(ents[e].ent);
			if (i + len <= n && !memcmp(s + i, ents[e].ent, len)) {
				buf_appendc(out, ents[e].c);
				i += len - 1;
				matched = 1;
			}
		}
		if (!matched)
			buf_appendc(out, s[i]);
	}
}

enum sc_err s3xml_text(const char *xml, const char *tag, size_t *pos,
		       struct buf *out)
{
	struct buf open = BUF_INIT(128), close = BUF_INIT(128);
	const char *a, *b;
	enum sc_err err = SC_ERR_NOT_FOUND;

	buf_reset(out);
	if (buf_appendf(&open, "<%s>", tag) || buf_appendf(&close, "</%s>", tag)) {
		err = SC_ERR_NOMEM;
		goto out;
	}
	a = strstr(xml + *pos, open.data);
	if (!a)
		goto out;
	a += open.len;
	b = strstr(a, close.data);
	if (!b)
		goto out;
	xml_decode(out, a, (size_t)(b - a));
	buf_appends(out, "");
	*pos = (size_t)(b - xml) + close.len;
	err = SC_OK;
out:
	buf_release(&open);
	buf_release(&close);
	return err;
}
