/* http.c - libmicrohttpd glue: request ids, routing, responses, access log. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "clock.h"
#include "http.h"
#include "log.h"

/* A client that sends nothing for this long is dropped. */
#define HTTP_IDLE_TIMEOUT_S 30
#define HTTP_CONNECTION_LIMIT 1024

struct http_server {
	struct MHD_Daemon *daemon;
	struct api *api;
};

static const struct route *const route_tables[] = {
	route_health,
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

enum MHD_Result http_send_json(struct request *req, struct MHD_Connection *conn,
			       unsigned status, cJSON *body)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = body ? cJSON_PrintUnformatted(body) : NULL;

	cJSON_Delete(body);
	if (!text) {
		/* out of memory: a fixed body needs no allocation to build */
		static const char oom[] =
			"{\"error\":\"internal\",\"message\":\"out of memory\"}";
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		resp = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *)oom,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_buffer(strlen(text), text,
						       MHD_RESPMEM_MUST_FREE);
	}
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	MHD_add_response_header(resp, "X-Request-Id", req->id);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	req->status = status;
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result http_send_error(struct request *req, struct MHD_Connection *conn,
				unsigned status, const char *code,
				const char *message)
{
	cJSON *body = cJSON_CreateObject();

	if (body && (!cJSON_AddStringToObject(body, "error", code) ||
		     !cJSON_AddStringToObject(body, "message", message) ||
		     !cJSON_AddStringToObject(body, "request_id", req->id))) {
		cJSON_Delete(body);
		body = NULL;
	}
	return http_send_json(req, conn, status, body);
}

static enum MHD_Result dispatch(struct api *api, struct request *req,
				struct MHD_Connection *conn)
{
	char msg[256];
	const struct route *r;
	size_t t;
	int path_known = 0;

	for (t = 0; t < sizeof(route_tables) / sizeof(route_tables[0]); t++) {
		for (r = route_tables[t]; r->path; r++) {
			if (strcmp(r->path, req->path))
				continue;
			path_known = 1;
			if (strcmp(r->method, req->method) == 0)
				return r->handler(api, req, conn);
		}
	}
	snprintf(msg, sizeof(msg), "no route for %.16s %.200s", req->method,
		 req->path);
	if (path_known)
		return http_send_error(req, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				       "method_not_allowed", msg);
	return http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found", msg);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct request *req = *con_cls;

	(void)version;
	(void)upload_data;
	if (!req) {
		/* first call: headers only; the request object lives until
		 * on_completed */
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		request_id(conn, req->id, sizeof(req->id));
		snprintf(req->method, sizeof(req->method), "%s", method);
		snprintf(req->path, sizeof(req->path), "%s", url);
		req->started_ms = clock_ms();
		*con_cls = req;
		return MHD_YES;
	}
	log_set_request(req->id);
	if (*upload_data_size) {
		/* no route takes a body yet: drop it and answer at the end */
		*upload_data_size = 0;
		return MHD_YES;
	}
	return dispatch(srv->api, req, conn);
}

static void on_completed(void *cls, struct MHD_Connection *conn,
			 void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct request *req = *con_cls;

	(void)cls;
	(void)conn;
	if (!req)
		return;
	log_set_request(req->id);
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_info("%s %s %u %ldms", req->method, req->path, req->status,
			 clock_ms() - req->started_ms);
	else
		log_warn("%s %s aborted (reason %d) after %ldms", req->method,
			 req->path, (int)toe, clock_ms() - req->started_ms);
	log_set_request(NULL);
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
			 MHD_USE_EPOLL;

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
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)api->cfg.api_threads,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTION_LIMIT,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, srv,
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
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
