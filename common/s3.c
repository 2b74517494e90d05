/*
 * s3.c - the S3 client: addressing and the single-request operations
 * (see s3.h; requests run in s3_request.c, uploads in s3_upload.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "s3_request.h"

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

int s3_path_style(const char *endpoint, const char *bucket, int force,
		  char *why, size_t cap)
{
	const char *h = endpoint, *p;
	int https = 1, ip;
	unsigned char addr[16];
	char host[256];
	size_t n;

	if ((p = strstr(h, "://"))) {
		https = strncmp(h, "http://", 7) != 0;
		h = p + 3;
	}
	n = strcspn(h, "/");
	if ((p = memchr(h, '@', n))) {	/* user info: not the host */
		n -= (size_t)(p + 1 - h);
		h = p + 1;
	}
	if (h[0] == '[') {
		p = memchr(h, ']', n);
		n = p ? (size_t)(p - h - 1) : 0;
		h++;
	} else {
		n = strcspn(h, ":/");
	}
	if (n >= sizeof(host))
		n = sizeof(host) - 1;
	memcpy(host, h, n);
	host[n] = '\0';
	ip = inet_pton(AF_INET, host, addr) == 1 ||
	     inet_pton(AF_INET6, host, addr) == 1;
	if (force > 0)
		return 1;
	if (force == 0) {
		if (!ip)
			return 0;
		if (why)
			snprintf(why, cap, "virtual-hosted addressing "
				 "(S3_FORCE_PATH_STYLE=0) puts the bucket in the "
				 "host name, and %s is an IP address: set "
				 "S3_FORCE_PATH_STYLE=1 or leave it empty", host);
		return -1;
	}
	n = strlen(host);
	if (ip || !strcasecmp(host, "localhost") ||
	    (n > 10 && !strcasecmp(host + n - 10, ".localhost")))
		return 1;
	/* a dotted name breaks the *.s3 certificate of virtual-hosted https */
	return https && strchr(bucket, '.') != NULL;
}

/*
 * Origin, Host and path prefix for the endpoint and addressing style.
 * An empty endpoint is AWS's regional one.  The Host header leaves out
 * the scheme's default port, as HTTP clients send it.
 */
static enum sc_err addressing(struct s3_client *s3, const struct config *c)
{
	const char *ep = c->s3_endpoint, *hoststart, *end;
	const char *scheme = "https://";
	char *authority;
	size_t n;

	if (!ep[0]) {
		authority = dup_printf("s3.%s.amazonaws.com", c->s3_region);
	} else {
		hoststart = strstr(ep, "://");
		if (hoststart) {
			scheme = strncmp(ep, "http://", 7) ? "https://" : "http://";
			hoststart += 3;
		} else {
			hoststart = ep;
		}
		end = strchr(hoststart, '/');
		n = end ? (size_t)(end - hoststart) : strlen(hoststart);
		authority = dup_printf("%.*s", (int)n, hoststart);
	}
	if (!authority)
		return SC_ERR_NOMEM;
	if (s3_path_style(c->s3_endpoint, c->s3_bucket, c->s3_force_path_style,
			  NULL, 0) > 0) {
		s3->host = authority;
		s3->path_prefix = dup_printf("/%s", c->s3_bucket);
	} else {
		s3->host = dup_printf("%s.%s", c->s3_bucket, authority);
		s3->path_prefix = strdup("");
		free(authority);
	}
	if (!s3->host || !s3->path_prefix)
		return SC_ERR_NOMEM;
	s3->origin = dup_printf("%s%s", scheme, s3->host);
	/* drop ":80" from http and ":443" from https in what is signed */
	n = strlen(s3->host);
	if ((!strcmp(scheme, "http://") && n > 3 &&
	     !strcmp(s3->host + n - 3, ":80")) ||
	    (!strcmp(scheme, "https://") && n > 4 &&
	     !strcmp(s3->host + n - 4, ":443")))
		*strrchr(s3->host, ':') = '\0';
	return s3->origin ? SC_OK : SC_ERR_NOMEM;
}

struct s3_client *s3_client_new(const struct config *c, struct awscreds *creds)
{
	struct s3_client *s3 = calloc(1, sizeof(*s3));

	if (!s3 || sodium_init() < 0)
		goto fail;
	s3->connect_timeout_ms = c->connect_timeout_ms;
	s3->stall_timeout_ms = c->s3_stall_timeout_ms;
	s3->max_attempts = c->s3_max_attempts;
	s3->part_size = (size_t)c->s3_part_size_mb * 1024 * 1024;
	s3->parts_in_flight = c->s3_parts_in_flight;
	s3->single_put_max = (long long)c->s3_single_put_max_mb * 1024 * 1024;
	s3->bucket = strdup(c->s3_bucket);
	s3->region = strdup(c->s3_region);
	s3->multi = curl_multi_init();
	if (!s3->bucket || !s3->region || !s3->multi || addressing(s3, c))
		goto fail;
	s3->creds = creds;
	if (!creds) {
		s3->creds = awscreds_new(c);
		if (!s3->creds)
			goto fail;
		s3->own_creds = 1;
	}
	return s3;
fail:
	s3_client_free(s3);
	return NULL;
}

void s3_client_free(struct s3_client *s3)
{
	int i;

	if (!s3)
		return;
	while (s3->nactive)
		s3req_cancel(s3, s3->active[0]);
	while (s3->npool)
		curl_easy_cleanup(s3->pool[--s3->npool]);
	if (s3->multi)
		curl_multi_cleanup(s3->multi);
	if (s3->own_creds)
		awscreds_free(s3->creds);
	free(s3->origin);
	free(s3->host);
	free(s3->path_prefix);
	free(s3->bucket);
	free(s3->region);
	for (i = 0; i < S3_URL_CACHE; i++) {
		free(s3->urls[i].key);
		free(s3->urls[i].url);
	}
	free(s3);
}

void s3_set_cancel(struct s3_client *s3, s3_cancel_fn fn, void *arg)
{
	s3->cancel = fn;
	s3->cancel_arg = arg;
}

const char *s3_errstr(const struct s3_client *s3)
{
	return s3->errstr;
}

const char *s3_origin(const struct s3_client *s3)
{
	return s3->origin;
}

/* S3 keys are 1 to 1024 bytes of UTF-8; we also refuse control bytes. */
static enum sc_err check_key(struct s3_client *s3, const char *key)
{
	size_t n = key ? strlen(key) : 0, i;

	if (!n || n > 1024)
		return s3_fail(s3, SC_ERR_INVALID, "s3 key must be 1 to 1024 bytes");
	for (i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
			return s3_fail(s3, SC_ERR_INVALID,
				       "s3 key has a control character");
	return SC_OK;
}

enum sc_err s3_head_bucket(struct s3_client *s3)
{
	struct s3_req r;
	enum sc_err err;

	s3req_init(&r, "HEAD", NULL);
	r.once = 1;
	err = s3req_perform(s3, &r);
	if (err == SC_ERR_NOT_FOUND)
		s3_fail(s3, err, "no such bucket: %s", s3->bucket);
	s3req_release(&r);
	return err;
}

enum sc_err s3_put_object(struct s3_client *s3, const char *key,
			  const void *data, size_t len, const char *content_type)
{
	struct s3_req r;
	enum sc_err err;

	if ((err = check_key(s3, key)))
		return err;
	s3req_init(&r, "PUT", key);
	r.body = data;
	r.body_len = len;
	r.hash_body = 1;
	r.content_type = content_type;
	err = s3req_perform(s3, &r);
	s3req_release(&r);
	return err;
}

enum sc_err s3_get_object(struct s3_client *s3, const char *key,
			  long long first, long long last, s3_writer w,
			  void *arg, struct s3_object_info *info)
{
	struct s3_req r;
	enum sc_err err;

	if ((err = check_key(s3, key)))
		return err;
	if (first < -1 || (last >= 0 && first > last) || (last >= 0 && first < 0))
		return s3_fail(s3, SC_ERR_INVALID, "bad byte range %lld-%lld",
			       first, last);
	s3req_init(&r, "GET", key);
	r.range_first = first;
	r.range_last = last;
	r.sink = w;
	r.sink_arg = arg;
	err = s3req_perform(s3, &r);
	if (!err && info)
		*info = r.info;
	s3req_release(&r);
	return err;
}

static enum sc_err write_fd(void *arg, const void *data, size_t len)
{
	int fd = *(int *)arg;
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return SC_ERR_IO;
		p += n;
		len -= (size_t)n;
	}
	return SC_OK;
}

enum sc_err s3_get_to_fd(struct s3_client *s3, const char *key,
			 long long first, long long last, int fd,
			 struct s3_object_info *info)
{
	enum sc_err err = s3_get_object(s3, key, first, last, write_fd, &fd, info);

	if (err == SC_ERR_IO)
		s3_fail(s3, err, "s3 GET %s: cannot write the file: %s", key,
			strerror(errno));
	return err;
}

enum sc_err s3_head_object(struct s3_client *s3, const char *key,
			   struct s3_object_info *info)
{
	struct s3_req r;
	enum sc_err err;

	if ((err = check_key(s3, key)))
		return err;
	s3req_init(&r, "HEAD", key);
	err = s3req_perform(s3, &r);
	if (err == SC_ERR_NOT_FOUND)
		s3_fail(s3, err, "s3 HEAD %s: no such key (HTTP 404)", key);
	if (!err && info)
		*info = r.info;
	s3req_release(&r);
	return err;
}

enum sc_err s3_delete_object(struct s3_client *s3, const char *key)
{
	struct s3_req r;
	enum sc_err err;

	if ((err = check_key(s3, key)))
		return err;
	s3req_init(&r, "DELETE", key);
	err = s3req_perform(s3, &r);
	s3req_release(&r);
	return err;
}

/*
 * ListObjectsV2 page by page, deleting each key listed.  Deleting while
 * listing is safe: the continuation token is a position in key order.
 */
enum sc_err s3_delete_prefix(struct s3_client *s3, const char *prefix,
			     long *deleted)
{
	struct buf key = BUF_INIT(4096), token = BUF_INIT(4096),
		   next = BUF_INIT(4096), trunc = BUF_INIT(64);
	enum sc_err err;
	size_t pos;
	int more = 1;

	*deleted = 0;
	if ((err = check_key(s3, prefix)))
		return err;
	while (more && !err) {
		struct s3_req r;

		s3req_init(&r, "GET", NULL);
		s3req_query(&r, "list-type", "2");
		s3req_query(&r, "prefix", prefix);
		if (token.len)
			s3req_query(&r, "continuation-token", token.data);
		err = s3req_perform(s3, &r);
		if (!err) {
			const char *xml = r.resp.data ? r.resp.data : "";

			pos = 0;
			s3xml_text(xml, "IsTruncated", &pos, &trunc);
			more = trunc.data && !strcmp(trunc.data, "true");
			pos = 0;
			if (s3xml_text(xml, "NextContinuationToken", &pos, &next))
				more = 0;
			pos = 0;
			while (!err && !s3xml_text(xml, "Key", &pos, &key)) {
				err = s3_delete_object(s3, key.data);
				if (!err)
					(*deleted)++;
			}
			buf_reset(&token);
			if (more && !err)
				err = buf_appends(&token, next.data);
		}
		s3req_release(&r);
	}
	buf_release(&key);
	buf_release(&token);
	buf_release(&next);
	buf_release(&trunc);
	return err;
}

/* Presign method on key, signed at `when` and valid for ttl_s from then. */
static enum sc_err presign_at(struct s3_client *s3, const char *method,
			      const char *key, time_t when, long ttl_s,
			      char **url)
{
	struct sigv4_out out = SIGV4_OUT_INIT;
	struct buf path = BUF_INIT(8192), u = BUF_INIT(64 * 1024);
	struct sigv4_pair host = { "host", s3->host };
	struct awscreds_keys *k;
	struct sigv4_request rq;
	struct sigv4_creds cr;
	enum sc_err err;

	*url = NULL;
	if ((err = check_key(s3, key)))
		return err;
	if (ttl_s < 1 || ttl_s > S3_PRESIGN_MAX_S)
		return s3_fail(s3, SC_ERR_INVALID,
			       "presigned URL lifetime must be 1 to 604800 s");
	if (!(k = s3_keys(s3, s3->errstr, sizeof(s3->errstr))))
		return SC_ERR_AUTH;
	memset(&rq, 0, sizeof(rq));
	rq.method = method;
	rq.headers = &host;
	rq.nheaders = 1;
	rq.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
	rq.region = s3->region;
	rq.service = "s3";
	rq.when = when;
	cr.access_key = k->access_key;
	cr.secret_key = k->secret_key;
	cr.token = k->token;
	if ((err = s3_target(s3, key, &path, &u)) ||
	    (rq.path = path.data, err = sigv4_presign(&rq, &cr, ttl_s, &out)) ||
	    (err = buf_appendf(&u, "?%s", out.query.data))) {
		s3_fail(s3, err, "cannot presign %s: %s", key, sc_strerror(err));
		goto out;
	}
	*url = buf_detach(&u, NULL);
	err = *url ? SC_OK : SC_ERR_NOMEM;
out:
	s3_keys_free(k);
	sigv4_out_release(&out);
	buf_release(&path);
	buf_release(&u);
	return err;
}

enum sc_err s3_presign(struct s3_client *s3, const char *method,
		       const char *key, long ttl_s, char **url)
{
	return presign_at(s3, method, key, time(NULL), ttl_s, url);
}

/* FNV-1a: the cache set of a key (S3_URL_WAYS slots from there). */
static unsigned set_of(const char *key)
{
	uint32_t h = 2166136261u;

	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 16777619u;
	return h % (S3_URL_CACHE / S3_URL_WAYS) * S3_URL_WAYS;
}

enum sc_err s3_presign_get_cached(struct s3_client *s3, const char *key,
				  long ttl_s, char **url)
{
	long window = ttl_s / 10 > 60 ? 60 : ttl_s / 10;
	time_t now = time(NULL), start;
	struct s3_url_slot *set = &s3->urls[set_of(key)], *e = set;
	enum sc_err err;
	int i;

	*url = NULL;
	/* a window longer would pass S3's one-week limit on X-Amz-Expires
	 * (SigV4 query authentication): signed now, for ttl_s exactly */
	if (window < 1 || ttl_s + window > S3_PRESIGN_MAX_S)
		return s3_presign(s3, "GET", key, ttl_s, url);
	start = now - now % window;
	for (i = 0; i < S3_URL_WAYS; i++) {
		if (set[i].key && set[i].start == start && set[i].ttl == ttl_s &&
		    !strcmp(set[i].key, key)) {
			*url = strdup(set[i].url);
			return *url ? SC_OK : SC_ERR_NOMEM;
		}
		if (!set[i].key || set[i].start < e->start)
			e = &set[i];	/* empty, or the oldest: the one to replace */
	}
	/* signed at the window's start, valid a window longer: at least
	 * ttl_s from now, and the same URL all through the window */
	if ((err = presign_at(s3, "GET", key, start, ttl_s + window, url)))
		return err;
	free(e->key);
	free(e->url);
	e->key = strdup(key);
	e->url = strdup(*url);
	if (!e->key || !e->url) {
		free(e->key);
		free(e->url);
		e->key = e->url = NULL;
	}
	e->start = start;
	e->ttl = ttl_s;
	return SC_OK;
}

static ssize_t read_fd(void *arg, void *buf, size_t len)
{
	int fd = *(int *)arg;
	size_t got = 0;

	/* fill the whole part: pipes hand out small pieces */
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

enum sc_err s3_put_file(struct s3_client *s3, const char *key, int fd,
			const char *content_type, long long *size)
{
	struct s3_req r;
	struct stat st;
	enum sc_err err;

	if ((err = check_key(s3, key)))
		return err;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > s3->single_put_max)
		return s3_upload_from(s3, key, content_type, read_fd, &fd, size);
	s3req_init(&r, "PUT", key);
	r.body_fd = fd;
	r.body_len = (size_t)st.st_size;
	r.content_type = content_type ? content_type : "application/octet-stream";
	err = s3req_perform(s3, &r);
	if (!err && size)
		*size = (long long)st.st_size;
	s3req_release(&r);
	return err;
}
