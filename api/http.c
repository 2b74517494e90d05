/* http.c - libmicrohttpd glue: request ids, routing, auth, CORS, bodies. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "clock.h"
#include "http.h"
#include "input.h"
#include "jwt.h"
#include "log.h"
#include "oidc/oidc.h"
#include "sse.h"
#include "transfer.h"

#define HTTP_CONNECTION_LIMIT 1024
/* the listener of API_METRICS_ADDR: one thread, few scrapers */
#define HTTP_METRICS_CONNECTIONS 16
#define HTTP_METRICS_TIMEOUT_S 30
/* how often uploads waiting for a slot are checked for their deadline */
#define HTTP_SWEEP_MS 200

struct http_server {
	struct MHD_Daemon *daemon;
	struct MHD_Daemon *metrics;	/* API_METRICS_ADDR, or NULL */
	struct api *api;
	pthread_t sweeper;		/* gives up uploads that waited too long */
	int sweeping;			/* the thread runs */
	atomic_int stop;		/* the sweeper ends */
};

static const struct route *const route_tables[] = {
	/* events before videos: "/api/videos/{}" would take "events" */
	route_health, route_metrics, route_auth, route_me, route_upload,
	route_tus, route_direct, route_events, route_videos, route_hls,
	route_public,
	/* last: "/{}" takes one segment, never a path of the API's */
	route_portal,
};

/* Accept a client's request id if it is short and plain; else make one. */
static void request_id(struct MHD_Connection *conn, char *id, size_t cap)
{
	const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							"X-Request-Id");
	unsigned char rnd[16];
	size_t n, i;

	n = given ? strlen(given) : 0;
	if (n > 0 && n < cap && n <= 36 &&
	    strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "0123456789-_.") == n) {
		memcpy(id, given, n + 1);
		return;
	}
	randombytes_buf(rnd, sizeof(rnd));
	for (i = 0; i < sizeof(rnd) && 2 * i + 2 < cap; i++)
		snprintf(id + 2 * i, 3, "%02x", rnd[i]);
}

/* The headers every response carries. */
static void common_headers(struct request *req, struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "X-Request-Id", req->id);
	/* the API's answers are not kept; the portal's files say otherwise */
	if (!MHD_get_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
					"no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (req->origin[0]) {
		MHD_add_response_header(resp, "Access-Control-Allow-Origin",
					req->origin);
		/* a browser's script reads only the headers named here: the
		 * tus client needs its own (tus 1.0, "CORS") */
		MHD_add_response_header(resp, "Access-Control-Expose-Headers",
					"X-Request-Id, Location, Tus-Resumable, "
					"Tus-Version, Tus-Extension, Tus-Max-Size, "
					"Tus-Checksum-Algorithm, Upload-Offset, "
					"Upload-Length, Upload-Expires");
		MHD_add_response_header(resp, "Vary", "Origin");
	}
	if (req->status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
	if (req->route && (req->route->flags & R_TUS)) {
		MHD_add_response_header(resp, "Tus-Resumable", "1.0.0");
		if (req->status == MHD_HTTP_PRECONDITION_FAILED)
			MHD_add_response_header(resp, "Tus-Version", "1.0.0");
	}
	if (req->closing)	/* keep-alive clients go elsewhere */
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
	if (req->retry_after) {
		char s[16];

		snprintf(s, sizeof(s), "%u", req->retry_after);
		MHD_add_response_header(resp, "Retry-After", s);
	}
}

static enum MHD_Result send_response(struct request *req,
				     struct MHD_Connection *conn,
				     unsigned status, struct MHD_Response *resp,
				     const char *type)
{
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	req->status = status;
	if (type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	common_headers(req, resp);
	if (req->later.off_loop) {
		/* not on the connection's thread: kept, queued on resume */
		if (req->later.resp)
			MHD_destroy_response(req->later.resp);
		req->later.resp = resp;
		req->later.status = status;
		return MHD_YES;
	}
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result http_send_response(struct request *req,
				   struct MHD_Connection *conn, unsigned status,
				   struct MHD_Response *resp, const char *type)
{
	return send_response(req, conn, status, resp, type);
}

enum MHD_Result http_send_text(struct request *req, struct MHD_Connection *conn,
			       unsigned status, const char *type,
			       const char *text, size_t len)
{
	req->bytes_out = (long long)len;
	return send_response(req, conn, status,
			     MHD_create_response_from_buffer(len, (void *)text,
							     MHD_RESPMEM_MUST_COPY),
			     type);
}

enum MHD_Result http_send_json(struct request *req, struct MHD_Connection *conn,
			       unsigned status, cJSON *body)
{
	static const char oom[] =
		"{\"error\":\"internal\",\"message\":\"out of memory\"}";
	struct MHD_Response *resp;
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;

	cJSON_Delete(body);
	req->bytes_out = (long long)(text ? strlen(text) : sizeof(oom) - 1);
	if (!text) {
		/* a fixed body needs no allocation to build */
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		resp = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_buffer(strlen(text), text,
						       MHD_RESPMEM_MUST_FREE);
		if (!resp)
			free(text);
	}
	return send_response(req, conn, status, resp, "application/json");
}

cJSON *http_strings(const char *name, ...)
{
	cJSON *o = cJSON_CreateObject();
	const char *value;
	va_list ap;

	va_start(ap, name);
	for (; o && name; name = va_arg(ap, const char *)) {
		value = va_arg(ap, const char *);
		if (!cJSON_AddStringToObject(o, name, value)) {
			cJSON_Delete(o);
			o = NULL;
		}
	}
	va_end(ap);
	return o;
}

enum MHD_Result http_send_error_fields(struct request *req,
				       struct MHD_Connection *conn,
				       unsigned status, const char *code,
				       const char *message, cJSON *fields)
{
	cJSON *body = http_strings("error", code, "message", message,
				   "request_id", req->id, NULL);

	if (body && req->err_limit &&
	    !cJSON_AddStringToObject(body, "limit", req->err_limit)) {
		cJSON_Delete(body);
		body = NULL;
	}
	if (body && fields && !cJSON_AddItemToObject(body, "fields", fields)) {
		cJSON_Delete(body);
		body = NULL;
	}
	if (!body)
		cJSON_Delete(fields);
	if (status >= 500)
		log_warn("%u %s: %s", status, code, message);
	return http_send_json(req, conn, status, body);
}

/* The length of s cut to at most max bytes, not inside a character. */
static size_t utf8_prefix(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	while (n > 0 && s[n] && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;	/* s[n] continues the character before it */
	return n;
}

void http_no_route_message(const struct request *req, char *msg, size_t cap)
{
	size_t m = utf8_prefix(req->method, 16), p = utf8_prefix(req->path, 200);

	if (input_text_ok(req->method, m) && input_text_ok(req->path, p))
		snprintf(msg, cap, "no route for %.*s %.*s", (int)m, req->method,
			 (int)p, req->path);
	else
		snprintf(msg, cap, "no route for this method and path (not "
			 "UTF-8 text)");
}

enum MHD_Result http_send_error(struct request *req, struct MHD_Connection *conn,
				unsigned status, const char *code,
				const char *message)
{
	return http_send_error_fields(req, conn, status, code, message, NULL);
}

enum MHD_Result http_send_unavailable(struct request *req,
				      struct MHD_Connection *conn,
				      const char *what, const char *detail)
{
	char msg[256];

	log_error("%s unavailable: %s", what, detail);
	snprintf(msg, sizeof(msg), "%s is unavailable; try again shortly", what);
	return http_send_error(req, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
			       "unavailable", msg);
}

enum MHD_Result http_send_db_unavailable(struct api *api, struct request *req,
					 struct MHD_Connection *conn,
					 struct deps *d)
{
	enum MHD_Result r = http_send_unavailable(req, conn, "the database",
						  db_errstr(d->db));

	deps_put(api, d);
	return r;
}

void http_set_error(struct request *req, unsigned status, const char *code,
		    const char *fmt, ...)
{
	va_list ap;

	if (req->err_status)
		return;
	req->err_status = status;
	snprintf(req->err_code, sizeof(req->err_code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(req->err_msg, sizeof(req->err_msg), fmt, ap);
	va_end(ap);
}

enum MHD_Result http_send_recorded(struct request *req,
				   struct MHD_Connection *conn)
{
	cJSON *fields = req->err_fields;

	req->err_fields = NULL;
	return http_send_error_fields(req, conn, req->err_status, req->err_code,
				      req->err_msg, fields);
}

/* Does pattern (with "{}" segments) match path?  Copies the {} segment. */
static int path_match(const char *pattern, const char *path, char *param,
		      size_t cap)
{
	size_t n;

	while (*pattern && *path) {
		if (pattern[0] == '{' && pattern[1] == '}') {
			n = strcspn(path, "/");
			if (n == 0 || n >= cap)
				return 0;
			memcpy(param, path, n);
			param[n] = '\0';
			pattern += 2;
			path += n;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	return *pattern == '\0' && *path == '\0';
}

/*
 * Find the route; when there is none, *path_tpl (the template of a route
 * of the path under another method, else NULL) tells 405 from 404.
 */
static const struct route *find_route(struct request *req,
				      const char **path_tpl)
{
	const struct route *r;
	size_t t;

	*path_tpl = NULL;
	for (t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++) {
		for (r = route_tables[t]; r->path; r++) {
			if (!path_match(r->path, req->path, req->param,
					sizeof(req->param)) ||
			    ((r->flags & R_FALLBACK) &&
			     strcmp(r->method, req->method)))
				continue;
			*path_tpl = r->path;
			if (strcmp(r->method, req->method) == 0)
				return r;
		}
	}
	return NULL;
}

/* Keep the request's Origin if the configuration allows it. */
static void cors_origin(struct api *api, struct MHD_Connection *conn,
			struct request *req)
{
	const char *o = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    "Origin");
	const char *list = api->cfg.api_cors_origins, *p;
	size_t n, len;

	if (!o || !*o || (len = strlen(o)) >= sizeof(req->origin))
		return;
	for (p = list; *p; p += n + (p[n] == ',')) {
		n = strcspn(p, ",");
		if ((n == 1 && p[0] == '*') || (n == len && !memcmp(p, o, n))) {
			memcpy(req->origin, o, len + 1);
			return;
		}
	}
}

void http_preflight_headers(const struct request *req, struct MHD_Response *resp)
{
	if (!req->origin[0])
		return;
	MHD_add_response_header(resp, "Access-Control-Allow-Methods",
				"GET, POST, PUT, HEAD, PATCH, DELETE, OPTIONS");
	MHD_add_response_header(resp, "Access-Control-Allow-Headers",
				"Authorization, Content-Type, X-Request-Id, "
				"Tus-Resumable, Upload-Length, Upload-Metadata, "
				"Upload-Offset, Upload-Checksum, "
				"X-HTTP-Method-Override");
	MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
}

/* OPTIONS on a known path: the CORS preflight. */
static enum MHD_Result preflight(struct request *req, struct MHD_Connection *conn)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);

	if (!resp)
		return MHD_NO;
	http_preflight_headers(req, resp);
	return send_response(req, conn, MHD_HTTP_NO_CONTENT, resp, NULL);
}

/* What authenticate() found. */
enum who {
	WHO_KNOWN,		/* req->user_id; 0: no token came */
	WHO_REFUSED,		/* a bad token: why */
	WHO_LATER,		/* an issuer's token that needs I/O: req->bearer */
};

/*
 * Who sent this?  An issuer's token (RS256, ES256: oidc/oidc.h) when
 * API_OIDC_ISSUER is set, else a local one (HS256: jwt.h), which
 * API_LOCAL_ACCOUNTS=0 refuses.  No I/O: what needs some is WHO_LATER.
 */
static enum who authenticate(struct api *api, struct MHD_Connection *conn,
			     struct request *req, const char **why)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	long long now = (long long)time(NULL);

	*why = "no Bearer token in the Authorization header";
	if (!h)
		return WHO_KNOWN;
	if (strncasecmp(h, "Bearer ", 7)) {
		*why = "the Authorization header is not a Bearer token";
		return WHO_REFUSED;
	}
	h += 7;
	while (*h == ' ')
		h++;
	switch (api->oidc ? oidc_check_fast(api->oidc, h, now, &req->user_id, why)
			  : OIDC_NOT_MINE) {
	case OIDC_ACCEPTED:
		return WHO_KNOWN;
	case OIDC_REFUSED:
		return WHO_REFUSED;
	case OIDC_NEEDS_IO:
		if (!(req->bearer = strdup(h))) {
			*why = "out of memory";
			return WHO_REFUSED;
		}
		return WHO_LATER;
	case OIDC_NOT_MINE:
		break;
	}
	/* *why: the issuer's reason (oidc_check_fast), the one that
	 * matters when no local token can be right */
	if (!api->cfg.api_local_accounts)
		return WHO_REFUSED;
	return jwt_verify(api->cfg.jwt_secret, h, now, &req->user_id, why)
		       ? WHO_REFUSED
		       : WHO_KNOWN;
}

/* ---- the edges: body deadlines, brief drains (pace.h) ------------------ */

static void pace_limits(const struct api *api, const struct request *req,
			struct pace_limits *l)
{
	const struct config *c = &api->cfg;
	int stream = req->route && (req->route->flags & R_STREAM);

	l->total_ms = (stream ? c->api_upload_timeout_s : c->api_body_timeout_s) *
		      1000L;
	l->grace_ms = c->api_min_rate_grace_s * 1000L;
	l->min_rate = c->api_min_body_rate_bps;
	l->drain_bytes = HTTP_DRAIN_MAX;
	l->drain_ms = HTTP_DRAIN_S * 1000L;
}

/* The connection's idle timeout becomes s; from its own thread only. */
static void set_timeout(struct MHD_Connection *conn, struct request *req,
			unsigned s)
{
	if (req->timeout_s == s)
		return;
	req->timeout_s = s;
	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, s);
}

/*
 * Is the body within its deadlines at now?  On PACE_OK the connection's
 * idle timeout is set to end at the deadline, so a client that sends
 * nothing more is cut then by libmicrohttpd.
 */
static enum pace_verdict pace_now(struct api *api, struct MHD_Connection *conn,
				  struct request *req, long now)
{
	struct pace_limits l;
	enum pace_verdict v;
	long deadline;

	pace_limits(api, req, &l);
	v = pace_check(&req->pace, &l, now, &deadline);
	if (v == PACE_OK)
		set_timeout(conn, req,
			    pace_timeout_s(deadline, now,
					   (unsigned)api->cfg.api_idle_timeout_s));
	return v;
}

/*
 * The body failed v: the connection closes (libmicrohttpd 0.9.75 queues
 * no answer mid-body), and the log, the metrics and the access line say
 * why; the status recorded is 408, or a refused request's own.
 */
static void body_cut(struct api *api, struct request *req,
		     enum pace_verdict v, long now)
{
	long active_s = (now - req->pace.start_ms - req->pace.paused_ms) / 1000;

	req->status = MHD_HTTP_REQUEST_TIMEOUT;
	switch (v) {
	case PACE_TOO_SLOW:
		log_warn("%s %s: the body came below the minimum rate of %d "
			 "bytes/s (%lld bytes in %ld s); connection closed (408)",
			 req->method, req->path, api->cfg.api_min_body_rate_bps,
			 req->pace.bytes, active_s);
		atomic_fetch_add(&api->m.bodies_cut_slow, 1);
		break;
	case PACE_TOO_LONG:
		log_warn("%s %s: the body took more than %ld s; connection "
			 "closed (408)", req->method, req->path,
			 (long)(req->route && (req->route->flags & R_STREAM)
					? api->cfg.api_upload_timeout_s
					: api->cfg.api_body_timeout_s));
		atomic_fetch_add(&api->m.bodies_cut_deadline, 1);
		break;
	case PACE_DRAIN_BYTES:
	case PACE_DRAIN_TIME:
		if (v == PACE_DRAIN_BYTES)
			log_warn("%s %s: a refused body past %d bytes; "
				 "connection closed", req->method, req->path,
				 HTTP_DRAIN_MAX);
		else
			log_warn("%s %s: a refused body still coming %d s after "
				 "the refusal; connection closed", req->method,
				 req->path, HTTP_DRAIN_S);
		atomic_fetch_add(&api->m.bodies_cut_refused, 1);
		req->status = req->err_status;
		break;
	case PACE_OK:
		return;
	}
	req->cut = pace_verdict_name(v);
}

/* A refusal came with this piece of body: from now on it is drained. */
static void refused_now(struct api *api, struct MHD_Connection *conn,
			struct request *req, long now)
{
	if (!req->err_status || req->pace.refused_ms)
		return;
	req->pace.refused_ms = now;
	pace_now(api, conn, req, now);
}

/*
 * The body is over (on_complete): the connection's idle timeout is the
 * default again, for the answer and the next request.
 */
static void body_done(struct api *api, struct MHD_Connection *conn,
		      struct request *req)
{
	req->in_body = 0;
	if (req->timeout_s)
		set_timeout(conn, req, (unsigned)api->cfg.api_idle_timeout_s);
}

/*
 * The request is refused (req->err_status) before its body was read.
 * Answering now would close the connection while the client still sends:
 * many clients then fail on the write (EPIPE, a reset) and never read the
 * answer.  So a body of at most HTTP_DRAIN_MAX bytes (or one without a
 * length) is read and dropped, for HTTP_DRAIN_S at most, and the answer
 * comes at its end (on_complete); past either the connection is closed.
 * A larger body is answered at once, and so is a client that asked with
 * Expect: 100-continue: it has sent nothing yet and reads the answer
 * cleanly (curl does for bodies over 1 MiB).  Returns 1 when a response
 * was queued.
 */
static int refuse(struct api *api, struct MHD_Connection *conn,
		  struct request *req, enum MHD_Result *ret)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);
	const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							 MHD_HTTP_HEADER_EXPECT);
	long long len = cl ? strtoll(cl, NULL, 10) : 0;

	if (!(expect && !strcasecmp(expect, "100-continue")) &&
	    ((len > 0 && len <= HTTP_DRAIN_MAX) || (!cl && te))) {
		refused_now(api, conn, req, clock_ms());
		return 0;
	}
	*ret = http_send_recorded(req, conn);
	return 1;
}

/*
 * Did conn come through the listener of API_METRICS_ADDR?  (That one
 * marks its connections: on_metrics_connection.)
 */
static int metrics_only(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci && ci->socket_context;
}

/* /metrics: on the main port, unless API_METRICS_ADDR gives it its own */
static int is_metrics(const struct route *r)
{
	return !strcmp(r->path, "/metrics");
}

static int headers_checked(struct api *api, struct MHD_Connection *conn,
			   struct request *req, enum MHD_Result *ret);

static int unauthorized(struct api *api, struct MHD_Connection *conn,
			struct request *req, const char *why,
			enum MHD_Result *ret)
{
	http_set_error(req, MHD_HTTP_UNAUTHORIZED, "unauthorized", "%s", why);
	return refuse(api, conn, req, ret);
}

/*
 * An issuer's token the event loop could not finish with (a key to
 * fetch, a player to find or make): the I/O pool does (oidc_check_slow),
 * with the connection suspended, and the request goes on when it is
 * resumed (identified()).  Time suspended is not held against the body.
 */
static void identify_run(struct pool_task *t, int late)
{
	struct request *req = (struct request *)((char *)t -
						 offsetof(struct request, later.task));
	struct api *api = req->later.api;
	struct MHD_Connection *conn = req->ident_conn;
	const char *why;
	struct deps *d = NULL;
	enum sc_err rc;

	log_set_request(req->id);
	if (late) {	/* waited past API_QUEUE_TIMEOUT_MS */
		rc = SC_ERR_TIMEOUT;
		why = "the server is busy; try again shortly";
	} else if (!(d = deps_get(api))) {
		rc = SC_ERR_NOMEM;
		why = "out of memory";
	} else {
		rc = oidc_check_slow(api->oidc, d->db, req->bearer,
				     (long long)time(NULL), &req->user_id, &why);
	}
	if (rc == SC_ERR_AUTH)
		http_set_error(req, MHD_HTTP_UNAUTHORIZED, "unauthorized", "%s",
			       why);
	else if (rc)	/* the reason is logged where it was found */
		http_set_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
			       "%s", why);
	if (d)
		deps_put(api, d);
	req->identifying = 2;
	log_set_request(NULL);
	/* the last touch: the loop may go on with req at once */
	MHD_resume_connection(conn);
}

static int identify_later(struct api *api, struct MHD_Connection *conn,
			  struct request *req, enum MHD_Result *ret)
{
	req->later.api = api;
	req->ident_conn = conn;
	req->identifying = 1;
	req->paused_at = clock_ms();
	req->later.task.run = identify_run;
	if (api->io_pool && !pool_submit(api->io_pool, &req->later.task, conn))
		return 1;	/* *ret is MHD_YES: nothing queued yet */
	req->identifying = 0;
	req->paused_at = 0;
	http_set_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		       "the server is shutting down; try again");
	return refuse(api, conn, req, ret);
}

/*
 * Resumed after identify_run: the rest of the first call.  A refusal is
 * recorded and sent once the body is over, as for any refused body.
 * Returns 1 when a response was queued.
 */
static int identified(struct api *api, struct MHD_Connection *conn,
		      struct request *req, enum MHD_Result *ret)
{
	req->identifying = 0;
	if (req->err_status)
		return 0;
	if (!req->user_id)
		return unauthorized(api, conn, req, "no identity", ret);
	return headers_checked(api, conn, req, ret);
}

/*
 * The first call, headers only: pick the route and check what can be
 * checked before the body.  Returns 1 when a response was queued.
 */
static int on_headers(struct api *api, struct MHD_Connection *conn,
		      struct request *req, enum MHD_Result *ret)
{
	const struct route *r;
	const char *why, *cl, *te, *path_tpl;

	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_TRANSFER_ENCODING);
	req->pace.start_ms = req->started_ms;
	req->in_body = (cl && strtoll(cl, NULL, 10) > 0) || (!cl && te);
	req->tpl = "unmatched";
	req->in_flight = 1;
	atomic_fetch_add(&api->m.requests_in_flight, 1);
	req->closing = atomic_load(&api->m.stopping);
	cors_origin(api, conn, req);
	r = find_route(req, &path_tpl);
	if (api->cfg.api_metrics_addr[0] &&
	    (r ? is_metrics(r) != metrics_only(conn) : metrics_only(conn))) {
		r = NULL;	/* /metrics has an address of its own */
		path_tpl = NULL;
	}
	if (!r && path_tpl && !strcmp(req->method, "OPTIONS")) {
		req->tpl = path_tpl;
		*ret = preflight(req, conn);
		return 1;
	}
	if (!r) {
		char msg[HTTP_NO_ROUTE_MAX];

		http_no_route_message(req, msg, sizeof(msg));
		http_set_error(req, path_tpl ? MHD_HTTP_METHOD_NOT_ALLOWED
					     : MHD_HTTP_NOT_FOUND,
			       path_tpl ? "method_not_allowed" : "not_found",
			       "%s", msg);
		return refuse(api, conn, req, ret);
	}
	req->route = r;
	req->tpl = r->path;
	if (r->flags & (R_AUTH | R_AUTH_OPTIONAL)) {
		switch (authenticate(api, conn, req, &why)) {
		case WHO_LATER:
			return identify_later(api, conn, req, ret);
		case WHO_REFUSED:
			return unauthorized(api, conn, req, why, ret);
		case WHO_KNOWN:
			if (!req->user_id && (r->flags & R_AUTH))
				return unauthorized(api, conn, req, why, ret);
			break;
		}
	}
	return headers_checked(api, conn, req, ret);
}

/*
 * The rest of the first call, once the caller is known: what else can be
 * checked before the body.  Returns 1 when a response was queued.
 */
static int headers_checked(struct api *api, struct MHD_Connection *conn,
			   struct request *req, enum MHD_Result *ret)
{
	const struct route *r = req->route;
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);

	if ((r->flags & R_JSON) && cl && strtoll(cl, NULL, 10) > HTTP_JSON_MAX) {
		http_set_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
			       "the JSON body is larger than %d bytes",
			       HTTP_JSON_MAX);
		return refuse(api, conn, req, ret);
	}
	if ((r->flags & R_STREAM) && r->stream(api, req, conn, NULL, 0) < 0) {
		*ret = MHD_NO;
		return 1;
	}
	if (req->err_status)
		return refuse(api, conn, req, ret);
	/* a client that sends nothing is cut at the body's deadline */
	if (req->in_body)
		pace_now(api, conn, req, req->started_ms);
	return 0;
}

/* A piece of body; *len is left as it is to read it again later, else
 * 0.  Returns MHD_NO to drop the connection. */
static enum MHD_Result on_body(struct api *api, struct MHD_Connection *conn,
			       struct request *req, const char *data, size_t *lenp)
{
	const struct route *r = req->route;
	size_t len = *lenp;
	enum pace_verdict v;
	enum sc_err err;
	long now = clock_ms();
	int rc;

	if (req->paused_at) {	/* resumed: the pause was the server's */
		req->pace.paused_ms += now - req->paused_at;
		req->paused_at = 0;
	}
	*lenp = 0;
	req->pace.bytes += (long long)len;
	if (!r || req->err_status)
		req->pace.refused_bytes += (long long)len;
	if ((v = pace_now(api, conn, req, now)) != PACE_OK) {
		body_cut(api, req, v, now);
		return MHD_NO;
	}
	if (!r || req->err_status) {
		/* dropped; the answer comes at the end (refuse).  A refusal
		 * recorded off the loop (an upload's check) starts its
		 * drain here */
		refused_now(api, conn, req, now);
		return MHD_YES;
	}
	if (r->flags & R_STREAM) {
		if ((rc = r->stream(api, req, conn, data, len)) > 0) {
			*lenp = len;	/* paused: not read, comes again */
			req->pace.bytes -= (long long)len;
			req->paused_at = now;
			return MHD_YES;
		}
		refused_now(api, conn, req, now);
		return rc < 0 ? MHD_NO : MHD_YES;
	}
	if (!(r->flags & R_JSON))
		return MHD_YES;
	/* req->body is bounded by HTTP_JSON_MAX */
	if ((err = buf_append(&req->body, data, len)) == SC_ERR_TOO_LARGE)
		http_set_error(req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
			       "the JSON body is larger than %d bytes",
			       HTTP_JSON_MAX);
	else if (err)
		http_set_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
			       "out of memory");
	if (err) {
		buf_release(&req->body);
		refused_now(api, conn, req, now);
	}
	return MHD_YES;
}

/*
 * Does the JSON text escape a NUL inside a string (\u0000, RFC 8259
 * section 7)?  cJSON keeps strings as C strings, so it would cut such a
 * string there and the rest would be lost without a word: two different
 * passwords would match, an email would be stored short.
 */
static int json_escapes_nul(const char *s, size_t len)
{
	int in_string = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!in_string) {
			in_string = s[i] == '"';
			continue;
		}
		if (s[i] == '"') {
			in_string = 0;
		} else if (s[i] == '\\' && i + 1 < len) {
			i++;	/* the escaped character is taken here */
			if (s[i] == 'u' && len - i > 4 && !memcmp(s + i + 1, "0000", 4))
				return 1;
		}
	}
	return 0;
}

/* The body is in: parse it if the route wants JSON, then run the route. */
static enum MHD_Result on_complete(struct api *api, struct MHD_Connection *conn,
				   struct request *req)
{
	const struct route *r = req->route;

	body_done(api, conn, req);
	/* with no route, err_status is set: r is not looked at */
	if (!req->err_status && (r->flags & R_STREAM) &&
	    r->stream(api, req, conn, "", 0) < 0)
		return MHD_NO;
	if (req->err_status)
		return http_send_recorded(req, conn);
	if (r->flags & R_JSON) {
		if (json_escapes_nul(req->body.data, req->body.len))
			return http_send_error(req, conn, MHD_HTTP_BAD_REQUEST,
					       "invalid_json",
					       "a string in the body holds a NUL "
					       "character (\\u0000)");
		req->json = req->body.len
				    ? cJSON_ParseWithLength(req->body.data,
							    req->body.len)
				    : NULL;
		if (!cJSON_IsObject(req->json))
			return http_send_error(req, conn, MHD_HTTP_BAD_REQUEST,
					       "invalid_json",
					       req->body.len
						       ? "the body is not a JSON object"
						       : "a JSON body is required");
	}
	if (r->flags & (R_IO | R_CPU))
		return http_defer(api, req, conn,
				  r->flags & R_CPU ? HTTP_POOL_CPU : HTTP_POOL_IO,
				  r->handler);
	return r->handler(api, req, conn);
}

/* ---- answers made off the event loop (http.h) ------------------------ */

static enum MHD_Result answer_busy(struct api *api, struct request *req,
				   struct MHD_Connection *conn)
{
	(void)api;
	return http_send_error(req, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
			       "unavailable",
			       "the server is busy; try again shortly");
}

/* A pool runs the handler (or, expired in the queue, answers 503). */
static void run_later(struct pool_task *t, int late)
{
	struct request *req = (struct request *)((char *)t -
						 offsetof(struct request, later.task));

	http_answer(req, late ? answer_busy : req->later.fn);
}

enum MHD_Result http_suspend(struct api *api, struct request *req,
			     struct MHD_Connection *conn)
{
	req->later.api = api;
	req->later.conn = conn;
	MHD_suspend_connection(conn);
	return MHD_YES;
}

void http_answer(struct request *req, route_fn fn)
{
	struct MHD_Connection *conn = req->later.conn;

	log_set_request(req->id);
	req->later.off_loop = 1;
	req->later.ret = fn(req->later.api, req, conn);
	req->later.off_loop = 0;
	log_set_request(NULL);
	/* the last touch: the loop may finish and free req at once */
	MHD_resume_connection(conn);
}

enum MHD_Result http_defer(struct api *api, struct request *req,
			   struct MHD_Connection *conn, enum http_pool pool,
			   route_fn fn)
{
	struct pool *p = pool == HTTP_POOL_CPU ? api->cpu_pool : api->io_pool;

	req->later.api = api;
	req->later.conn = conn;
	req->later.fn = fn;
	req->later.task.run = run_later;
	/* the pool suspends conn before a thread can take the task */
	if (p && !pool_submit(p, &req->later.task, conn))
		return MHD_YES;
	req->later.conn = NULL;
	return http_send_error(req, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
			       "unavailable",
			       "the server is shutting down; try again");
}

/* Resumed after an answer was made off the loop: queue it here. */
static enum MHD_Result answer_resumed(struct request *req,
				      struct MHD_Connection *conn)
{
	struct MHD_Response *resp = req->later.resp;
	enum MHD_Result ret;

	req->later.conn = NULL;
	req->later.resp = NULL;
	if (!resp || req->later.ret != MHD_YES) {
		if (resp)
			MHD_destroy_response(resp);
		return MHD_NO;	/* no answer could be made: close */
	}
	ret = MHD_queue_response(conn, req->later.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* The X-Forwarded-For lines of a request, the last CLIENT_XFF_LINES. */
struct xff_lines {
	const char *v[CLIENT_XFF_LINES];
	int n;
};

static enum MHD_Result xff_line(void *cls, enum MHD_ValueKind kind,
				const char *key, const char *value)
{
	struct xff_lines *l = cls;

	(void)kind;
	if (!value || strcasecmp(key, "X-Forwarded-For"))
		return MHD_YES;
	if (l->n == CLIENT_XFF_LINES) {	/* keep the last ones */
		memmove(l->v, l->v + 1, sizeof(l->v[0]) * (CLIENT_XFF_LINES - 1));
		l->n--;
	}
	l->v[l->n++] = value;
	return MHD_YES;
}

/* Who sent the request: the peer, or behind a trusted proxy the client
 * it names (client.h). */
static void client_of(struct api *api, struct MHD_Connection *conn,
		      struct request *req)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	struct xff_lines l = { .n = 0 };

	if (api->trusted.n)
		MHD_get_connection_values(conn, MHD_HEADER_KIND, xff_line, &l);
	client_resolve(ci ? ci->client_addr : NULL, l.v, l.n, &api->trusted,
		       &req->client);
}

/*
 * tus 1.0 ("X-HTTP-Method-Override"): a client behind a proxy that only
 * passes GET and POST sends POST with this header, and the server MUST
 * take the header's method instead (tus-js-client's overridePatchMethod).
 * Only on the tus paths and only for tus's own methods: elsewhere a POST
 * stays a POST.
 */
static void method_override(struct MHD_Connection *conn, struct request *req)
{
	static const char *const allowed[] = { "PATCH", "DELETE", "HEAD" };
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    "X-HTTP-Method-Override");
	size_t i;

	if (!v || strcmp(req->method, "POST") ||
	    strncmp(req->path, "/api/uploads/", 13))
		return;
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		if (!strcmp(v, allowed[i])) {
			snprintf(req->method, sizeof(req->method), "%s", v);
			return;
		}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct request *req = *con_cls;
	enum MHD_Result ret = MHD_YES;

	(void)version;
	if (!req) {
		/* first call: headers only; the request lives until
		 * on_completed */
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		buf_init(&req->body, HTTP_JSON_MAX);
		request_id(conn, req->id, sizeof(req->id));
		snprintf(req->method, sizeof(req->method), "%s", method);
		snprintf(req->path, sizeof(req->path), "%s", url);
		method_override(conn, req);
		req->started_ms = clock_ms();
		client_of(srv->api, conn, req);
		*con_cls = req;
		log_set_request(req->id);
		if (on_headers(srv->api, conn, req, &ret))
			return ret;
		return MHD_YES;
	}
	log_set_request(req->id);
	if (req->identifying == 2) {
		if (identified(srv->api, conn, req, &ret))
			return ret;
		/* libmicrohttpd calls once more, with no data, on resuming a
		 * connection suspended at its headers: a body is still to come */
		if (!*upload_data_size && req->in_body && !req->pace.bytes)
			return MHD_YES;
	}
	if (req->later.conn)
		return answer_resumed(req, conn);
	if (*upload_data_size)
		return on_body(srv->api, conn, req, upload_data, upload_data_size);
	return on_complete(srv->api, conn, req);
}

/* ---- the access log and the latency histograms ------------------------ */

/* libmicrohttpd cut a body that sent nothing until its deadline. */
static void timed_out(struct api *api, struct request *req)
{
	struct pace_limits l;
	enum pace_verdict v;
	long now = clock_ms(), deadline;

	/* the timeout ends at the deadline, to the second: allow that */
	pace_limits(api, req, &l);
	v = pace_check(&req->pace, &l, now + 1000, &deadline);
	body_cut(api, req, v == PACE_OK ? PACE_TOO_SLOW : v, now);
}

static const char *closed_why(const struct request *req,
			      enum MHD_RequestTerminationCode toe)
{
	if (req->cut)
		return req->cut;
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK: return NULL;
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "idle timeout";
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "server stopping";
	case MHD_REQUEST_TERMINATED_READ_ERROR: return "the client went away";
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "the client aborted";
	default: return "error";
	}
}

/* The method as a metrics label: one of a few, not the client's fancy. */
static const char *method_label(const char *m)
{
	static const char *const known[] = { "GET", "POST", "PUT", "PATCH",
					     "DELETE", "HEAD", "OPTIONS" };
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(m, known[i]))
			return known[i];
	return "other";
}

/*
 * One line per request, with fields for programs (docs/operations.md),
 * and its duration in the route's histogram.
 */
static void access_log(struct api *api, struct MHD_Connection *conn,
		       struct request *req, enum MHD_RequestTerminationCode toe)
{
	const char *xff = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						      "X-Forwarded-For");
	const char *why = closed_why(req, toe);
	struct latency_series *series;
	long long us = (clock_ms() - req->started_ms) * 1000LL;
	char fwd[256];
	struct log_field f[11];
	size_t n = 0;

	f[n++] = (struct log_field){ "client", req->client.text, 0 };
	if (req->client.forwarded)
		f[n++] = (struct log_field){ "peer", req->client.peer, 0 };
	else if (xff) {	/* the client's say: logged (cut short), not believed */
		snprintf(fwd, sizeof(fwd), "%s", xff);
		f[n++] = (struct log_field){ "forwarded_for", fwd, 0 };
	}
	f[n++] = (struct log_field){ "user_id", NULL, req->user_id };
	f[n++] = (struct log_field){ "method", req->method, 0 };
	f[n++] = (struct log_field){ "route", req->tpl ? req->tpl : "unmatched", 0 };
	f[n++] = (struct log_field){ "status", NULL, req->status };
	f[n++] = (struct log_field){ "bytes_in", NULL, req->pace.bytes };
	f[n++] = (struct log_field){ "bytes_out", NULL, req->bytes_out };
	f[n++] = (struct log_field){ "duration_ms", NULL, us / 1000 };
	if (why)
		f[n++] = (struct log_field){ "closed", why, 0 };
	if (!why)
		log_fields(LOG_INFO, f, n, "%s %s %u %lldms", req->method,
			   req->path, req->status, us / 1000);
	else
		log_fields(LOG_WARN, f, n, "%s %s %u closed (%s) after %lldms",
			   req->method, req->path, req->status, why, us / 1000);
	series = latency_find(&api->m.latency, req->tpl ? req->tpl : "unmatched",
			      method_label(req->method));
	if (series)
		latency_observe(series, us);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct api *api = srv->api;
	struct request *req = *con_cls;
	unsigned cls_idx;

	if (!req)
		return;
	log_set_request(req->id);
	if (req->state_free)
		req->state_free(api, req->state);
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED && req->in_body &&
	    !req->cut)
		timed_out(api, req);
	cls_idx = req->status >= 100 && req->status < 600 ? req->status / 100 - 1 : 5;
	atomic_fetch_add(&api->m.requests[cls_idx], 1);
	access_log(api, conn, req, toe);
	if (req->in_flight)
		atomic_fetch_sub(&api->m.requests_in_flight, 1);
	log_set_request(NULL);
	cJSON_Delete(req->json);
	cJSON_Delete(req->err_fields);
	buf_release(&req->body);
	free(req->bearer);
	if (req->later.resp)	/* answered, but the connection closed first */
		MHD_destroy_response(req->later.resp);
	free(req);
	*con_cls = NULL;
}

/*
 * The threads that work for the event loops: the I/O pool, the hashing
 * pool (one thread per CPU unless set) and the uploads' transfers (one
 * per upload slot).
 */
static enum sc_err start_workers(struct api *api)
{
	int hash = api->cfg.api_hash_workers;

	if (hash == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		hash = n > 0 ? (int)n : 1;
	}
	api->io_pool = pool_new("io", api->cfg.api_workers,
				api->cfg.api_queue_timeout_ms);
	api->cpu_pool = pool_new("hash", hash, api->cfg.api_queue_timeout_ms);
	api->transfers = transfers_new(api, api->cfg.api_upload_slots,
				       &api->uploads);
	if (!api->io_pool || !api->cpu_pool || !api->transfers)
		return SC_ERR_NOMEM;
	log_info("%d I/O threads, %d hashing threads, %d upload threads",
		 api->cfg.api_workers, hash, api->cfg.api_upload_slots);
	return SC_OK;
}

/*
 * Before libmicrohttpd stops (it cannot with a connection suspended):
 * give up the uploads still receiving, then let every deferred request
 * be answered.  Requests that come meanwhile are answered 503.
 */
static void drain_workers(struct api *api)
{
	transfers_close(api->transfers);
	pool_close(api->io_pool);
	pool_close(api->cpu_pool);
}

static void free_workers(struct api *api)
{
	transfers_free(api->transfers);
	pool_free(api->io_pool);
	pool_free(api->cpu_pool);
	api->transfers = NULL;
	api->io_pool = api->cpu_pool = NULL;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	log_vwrite(LOG_WARN, fmt, ap);
}

/* ---- the edges' threads: metrics listener, sweeper, shutdown ---------- */

/* A series per route and method, a preflight per path, unmatched ones. */
static enum sc_err latency_setup(struct api *api)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "PATCH",
					       "DELETE", "HEAD", "OPTIONS",
					       "other" };
	struct latency *l = &api->m.latency;
	const struct route *r;
	size_t t, n = 0;

	for (t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++)
		for (r = route_tables[t]; r->path; r++)
			n++;
	if (latency_init(l, 2 * n + sizeof(methods) / sizeof(methods[0])))
		return SC_ERR_NOMEM;
	for (t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++) {
		for (r = route_tables[t]; r->path; r++) {
			latency_add(l, r->path, r->method);
			latency_add(l, r->path, "OPTIONS");
		}
	}
	for (t = 0; t < sizeof(methods) / sizeof(methods[0]); t++)
		latency_add(l, "unmatched", methods[t]);
	return SC_OK;
}

/* Uploads waiting for a slot are suspended, which libmicrohttpd never
 * times out: this thread gives up those that waited API_UPLOAD_WAIT_S. */
static void *sweeper(void *arg)
{
	struct http_server *srv = arg;

	while (!atomic_load(&srv->stop)) {
		gate_expire(&srv->api->uploads, clock_ms());
		clock_sleep_ms(HTTP_SWEEP_MS);
	}
	return NULL;
}

/* Marks the connections of the metrics listener (see metrics_only). */
static void on_metrics_connection(void *cls, struct MHD_Connection *conn,
				  void **socket_context,
				  enum MHD_ConnectionNotificationCode code)
{
	(void)conn;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		*socket_context = cls;
}

/* The listener of API_METRICS_ADDR, if set. */
static enum sc_err start_metrics(struct http_server *srv)
{
	const char *addr = srv->api->cfg.api_metrics_addr;
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
			 MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	char host[64];
	int port;

	if (!addr[0])
		return SC_OK;
	memset(&ss, 0, sizeof(ss));
	if (config_split_hostport(addr, host, sizeof(host), &port))
		return SC_ERR_CONFIG;	/* config_load checked it */
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	} else {
		inet_pton(AF_INET6, host, &sin6->sin6_addr);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	}
	srv->metrics = MHD_start_daemon(
		flags, (uint16_t)port, NULL, NULL, on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, srv,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_METRICS_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_METRICS_CONNECTIONS,
		MHD_OPTION_NOTIFY_CONNECTION, on_metrics_connection, srv,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_END);
	if (!srv->metrics) {
		log_error("API_METRICS_ADDR: cannot listen on %s (address in "
			  "use, or not permitted)", addr);
		return SC_ERR_IO;
	}
	log_info("/metrics on %s only", addr);
	return SC_OK;
}

static enum sc_err start_edges(struct http_server *srv)
{
	if (start_metrics(srv))
		return SC_ERR_IO;
	if (pthread_create(&srv->sweeper, NULL, sweeper, srv)) {
		log_error("cannot start the upload sweeper thread");
		return SC_ERR_IO;
	}
	srv->sweeping = 1;
	return SC_OK;
}

static void stop_edges(struct http_server *srv)
{
	if (srv->sweeping) {
		atomic_store(&srv->stop, 1);
		pthread_join(srv->sweeper, NULL);
		srv->sweeping = 0;
	}
	if (srv->metrics)
		MHD_stop_daemon(srv->metrics);
	srv->metrics = NULL;
}

/*
 * SIGTERM: stop accepting at once (the listening socket is closed, so a
 * load balancer or client gets "connection refused" and goes elsewhere),
 * refuse uploads still waiting for a slot, and give the requests in
 * flight, uploads included, API_GRACE_S to finish.
 */
static void finish_in_flight(struct http_server *srv)
{
	struct api *api = srv->api;
	MHD_socket fd = MHD_quiesce_daemon(srv->daemon);
	long until = clock_ms() + api->cfg.api_grace_s * 1000L;
	int n;

	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	atomic_store(&api->m.stopping, 1);
	gate_close(&api->uploads);
	/* live status streams never finish by themselves: end them now */
	sse_end_streams(api);
	n = atomic_load(&api->m.requests_in_flight);
	log_info("stopped accepting; %d request%s in flight, given up to %d s "
		 "(API_GRACE_S)", n, n == 1 ? "" : "s", api->cfg.api_grace_s);
	while ((n = atomic_load(&api->m.requests_in_flight)) > 0 &&
	       clock_ms() < until)
		clock_sleep_ms(50);
	if (n > 0)
		log_warn("%d request%s still in flight after %d s: closed", n,
			 n == 1 ? "" : "s", api->cfg.api_grace_s);
	else
		log_info("every request in flight has finished");
}

enum sc_err http_start(struct api *api, struct http_server **out)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct http_server *srv;
	/*
	 * poll(), not epoll: libmicrohttpd 0.9.75's epoll mode is edge
	 * triggered and can miss what arrived on a connection while it was
	 * suspended; a client gone mid-upload (its end of stream came while
	 * the connection waited for the transfer's room) was then never
	 * noticed, its slot held until shutdown.  poll() reports the socket
	 * as long as it is readable.  Each event loop polls only its share
	 * of the connections (API_THREADS), and suspended ones not at all.
	 */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
			 MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME;

	*out = NULL;
	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, api->cfg.api_host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)api->cfg.api_port);
	} else if (inet_pton(AF_INET6, api->cfg.api_host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)api->cfg.api_port);
		flags |= MHD_USE_IPv6;
	} else {
		log_error("API_HOST: not an IPv4 or IPv6 address: %s",
			  api->cfg.api_host);
		return SC_ERR_CONFIG;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return SC_ERR_NOMEM;
	srv->api = api;
	if (latency_setup(api)) {
		free(srv);
		return SC_ERR_NOMEM;
	}
	if (start_workers(api)) {
		drain_workers(api);
		free_workers(api);
		free(srv);
		return SC_ERR_NOMEM;
	}
	srv->daemon = MHD_start_daemon(
		flags, (uint16_t)api->cfg.api_port, NULL, NULL, on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, srv,	/* first, or
								 * early notes go to stderr */
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)api->cfg.api_threads,
		MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)api->cfg.api_idle_timeout_s,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTION_LIMIT,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)api->cfg.api_max_connections_per_ip,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_END);
	if (!srv->daemon) {
		log_error("cannot listen on %s:%d (address in use, or not "
			  "permitted)", api->cfg.api_host, api->cfg.api_port);
		drain_workers(api);
		free_workers(api);
		free(srv);
		return SC_ERR_IO;
	}
	if (start_edges(srv)) {
		http_stop(srv);
		return SC_ERR_IO;
	}
	*out = srv;
	return SC_OK;
}

void http_stop(struct http_server *srv)
{
	if (!srv)
		return;
	finish_in_flight(srv);
	/* uploads waiting for a slot are paused: wake them to be refused */
	gate_close(&srv->api->uploads);
	drain_workers(srv->api);
	stop_edges(srv);
	MHD_stop_daemon(srv->daemon);
	free_workers(srv->api);
	free(srv);
}
