/* http.c - libmicrohttpd glue: request ids, routing, auth, CORS, bodies. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "clock.h"
#include "http.h"
#include "jwt.h"
#include "log.h"

/* A client that sends nothing for this long is dropped. */
#define HTTP_IDLE_TIMEOUT_S 30
#define HTTP_CONNECTION_LIMIT 1024

struct http_server {
	struct MHD_Daemon *daemon;
	struct api *api;
};

static const struct route *const route_tables[] = {
	route_health, route_metrics, route_auth, route_upload, route_videos,
	route_public,
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
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (req->origin[0]) {
		MHD_add_response_header(resp, "Access-Control-Allow-Origin",
					req->origin);
		MHD_add_response_header(resp, "Access-Control-Expose-Headers",
					"X-Request-Id");
		MHD_add_response_header(resp, "Vary", "Origin");
	}
	if (req->status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
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
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result http_send_text(struct request *req, struct MHD_Connection *conn,
			       unsigned status, const char *type,
			       const char *text, size_t len)
{
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

/* Send the error a route recorded with http_set_error. */
static enum MHD_Result send_recorded_error(struct request *req,
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

/* Find the route; *path_known tells 405 from 404 when there is none. */
static const struct route *find_route(struct request *req, int *path_known)
{
	const struct route *r;
	size_t t;

	*path_known = 0;
	for (t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++) {
		for (r = route_tables[t]; r->path; r++) {
			if (!path_match(r->path, req->path, req->param,
					sizeof(req->param)))
				continue;
			*path_known = 1;
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

/* OPTIONS on a known path: the CORS preflight. */
static enum MHD_Result preflight(struct request *req, struct MHD_Connection *conn)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);

	if (!resp)
		return MHD_NO;
	if (req->origin[0]) {
		MHD_add_response_header(resp, "Access-Control-Allow-Methods",
					"GET, POST, DELETE, OPTIONS");
		MHD_add_response_header(resp, "Access-Control-Allow-Headers",
					"Authorization, Content-Type, X-Request-Id");
		MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	}
	return send_response(req, conn, MHD_HTTP_NO_CONTENT, resp, NULL);
}

/* Who sent this?  0 and SC_OK when no token came; SC_ERR_AUTH when a bad one did. */
static enum sc_err authenticate(struct api *api, struct MHD_Connection *conn,
				struct request *req, const char **why)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);

	*why = "no Bearer token in the Authorization header";
	if (!h)
		return SC_OK;
	if (strncasecmp(h, "Bearer ", 7)) {
		*why = "the Authorization header is not a Bearer token";
		return SC_ERR_AUTH;
	}
	h += 7;
	while (*h == ' ')
		h++;
	return jwt_verify(api->cfg.jwt_secret, h, (long long)time(NULL),
			  &req->user_id, why);
}

/* How much of a refused body is read and dropped before the answer. */
static long long drain_max(const struct api *api, const struct route *r)
{
	if (r && (r->flags & R_STREAM))
		return ((long long)api->cfg.api_max_upload_mb << 20) +
		       HTTP_DRAIN_MAX;
	return HTTP_DRAIN_MAX;
}

/*
 * The request is refused (req->err_status) before its body was read.
 * Answering now would close the connection while the client still sends:
 * many clients then fail on the write (EPIPE, a reset) and never read the
 * answer.  So a body no larger than the route takes is read and dropped
 * and the answer comes at its end (on_complete); a larger one is answered
 * at once (clients sending that much should ask with Expect:
 * 100-continue, and those get the answer cleanly).  Returns 1 when a
 * response was queued.
 */
static int refuse(struct api *api, struct MHD_Connection *conn,
		  struct request *req, enum MHD_Result *ret)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_TRANSFER_ENCODING);
	long long len = cl ? strtoll(cl, NULL, 10) : 0;

	if ((len > 0 && len <= drain_max(api, req->route)) || (!cl && te))
		return 0;
	*ret = send_recorded_error(req, conn);
	return 1;
}

/*
 * The first call, headers only: pick the route and check what can be
 * checked before the body.  Returns 1 when a response was queued.
 */
static int on_headers(struct api *api, struct MHD_Connection *conn,
		      struct request *req, enum MHD_Result *ret)
{
	const struct route *r;
	const char *why, *cl;
	int path_known;

	cors_origin(api, conn, req);
	r = find_route(req, &path_known);
	if (!r && path_known && !strcmp(req->method, "OPTIONS")) {
		*ret = preflight(req, conn);
		return 1;
	}
	if (!r) {
		http_set_error(req, path_known ? MHD_HTTP_METHOD_NOT_ALLOWED
					       : MHD_HTTP_NOT_FOUND,
			       path_known ? "method_not_allowed" : "not_found",
			       "no route for %.16s %.200s", req->method,
			       req->path);
		return refuse(api, conn, req, ret);
	}
	req->route = r;
	if (r->flags & (R_AUTH | R_AUTH_OPTIONAL)) {
		if (authenticate(api, conn, req, &why) ||
		    (!req->user_id && (r->flags & R_AUTH))) {
			http_set_error(req, MHD_HTTP_UNAUTHORIZED,
				       "unauthorized", "%s", why);
			return refuse(api, conn, req, ret);
		}
	}
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
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
	return 0;
}

/* A piece of body; *len is left as it is to read it again later, else
 * 0.  Returns MHD_NO to drop the connection. */
static enum MHD_Result on_body(struct api *api, struct MHD_Connection *conn,
			       struct request *req, const char *data, size_t *lenp)
{
	const struct route *r = req->route;
	size_t len = *lenp;
	enum sc_err err;
	int rc;
	long limit_s = r && (r->flags & R_STREAM) ? api->cfg.api_upload_timeout_s
						  : api->cfg.api_body_timeout_s;

	if (clock_ms() - req->started_ms > limit_s * 1000L) {
		log_warn("%s %s: the body took more than %ld s; connection closed",
			 req->method, req->path, limit_s);
		req->status = MHD_HTTP_REQUEST_TIMEOUT;
		return MHD_NO;
	}
	*lenp = 0;
	if (!r || req->err_status) {
		/* dropped; the answer comes at the end (see refuse) */
		req->dropped += (long long)len;
		if (req->dropped <= drain_max(api, r))
			return MHD_YES;
		log_warn("%s %s: a refused body past %lld bytes; connection closed",
			 req->method, req->path, drain_max(api, r));
		return MHD_NO;
	}
	if (r->flags & R_STREAM) {
		if ((rc = r->stream(api, req, conn, data, len)) > 0)
			*lenp = len;	/* paused: not read */
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
	if (err)
		buf_release(&req->body);
	return MHD_YES;
}

/* The body is in: parse it if the route wants JSON, then run the route. */
static enum MHD_Result on_complete(struct api *api, struct MHD_Connection *conn,
				   struct request *req)
{
	const struct route *r = req->route;

	/* with no route, err_status is set: r is not looked at */
	if (!req->err_status && (r->flags & R_STREAM) &&
	    r->stream(api, req, conn, "", 0) < 0)
		return MHD_NO;
	if (req->err_status)
		return send_recorded_error(req, conn);
	if (r->flags & R_JSON) {
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
	return r->handler(api, req, conn);
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
		req->started_ms = clock_ms();
		*con_cls = req;
		log_set_request(req->id);
		if (on_headers(srv->api, conn, req, &ret))
			return ret;
		return MHD_YES;
	}
	log_set_request(req->id);
	if (*upload_data_size)
		return on_body(srv->api, conn, req, upload_data, upload_data_size);
	return on_complete(srv->api, conn, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct api *api = srv->api;
	struct request *req = *con_cls;
	unsigned cls_idx;

	(void)conn;
	if (!req)
		return;
	log_set_request(req->id);
	if (req->state_free)
		req->state_free(api, req->state);
	cls_idx = req->status >= 100 && req->status < 600 ? req->status / 100 - 1 : 5;
	atomic_fetch_add(&api->m.requests[cls_idx], 1);
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_info("%s %s %u %ldms", req->method, req->path, req->status,
			 clock_ms() - req->started_ms);
	else
		log_warn("%s %s aborted (reason %d) after %ldms", req->method,
			 req->path, (int)toe, clock_ms() - req->started_ms);
	log_set_request(NULL);
	cJSON_Delete(req->json);
	cJSON_Delete(req->err_fields);
	buf_release(&req->body);
	free(req);
	*con_cls = NULL;
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	log_vwrite(LOG_WARN, fmt, ap);
}

enum sc_err http_start(struct api *api, struct http_server **out)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct http_server *srv;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
			 MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;

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
	srv->daemon = MHD_start_daemon(
		flags, (uint16_t)api->cfg.api_port, NULL, NULL, on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, srv,	/* first, or
								 * early notes go to stderr */
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)api->cfg.api_threads,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTION_LIMIT,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)api->cfg.api_max_connections_per_ip,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_END);
	if (!srv->daemon) {
		log_error("cannot listen on %s:%d (address in use, or not "
			  "permitted)", api->cfg.api_host, api->cfg.api_port);
		free(srv);
		return SC_ERR_IO;
	}
	*out = srv;
	return SC_OK;
}

void http_stop(struct http_server *srv)
{
	if (!srv)
		return;
	/* uploads waiting for a slot are paused: wake them to be refused */
	gate_close(&srv->api->uploads);
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
