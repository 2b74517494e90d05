/*
 * http.h - request life cycle, routing and responses of the API.
 *
 * Every request gets a request id (the client's X-Request-Id when it is
 * sane, else a random one), returned in the X-Request-Id header and in
 * every error body, set as the thread's log context, and written in one
 * access-log line when the request completes.  Errors have one shape:
 *
 *   {"error":"not_found","message":"no route for GET /x","request_id":"..."}
 *
 * Life cycle: http_start() starts libmicrohttpd's thread pool on the
 * configured address; http_stop() stops accepting, lets running requests
 * finish, and joins the threads.
 */
#ifndef SC_HTTP_H
#define SC_HTTP_H

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "api.h"
#include "error.h"

struct http_server;

/* One request in flight; owned by the HTTP layer. */
struct request {
	char id[40];
	char method[16];	/* copies, truncated: they outlive the callback */
	char path[512];
	long started_ms;
	unsigned status;
};

typedef enum MHD_Result (*route_fn)(struct api *api, struct request *req,
				    struct MHD_Connection *conn);

struct route {
	const char *method;
	const char *path;
	route_fn handler;
};

/* Start serving; on failure *out is NULL and the reason has been logged. */
enum sc_err http_start(struct api *api, struct http_server **out);
void http_stop(struct http_server *srv);

/*
 * Send body as JSON with the given status.  Takes ownership of body and
 * frees it whatever happens.
 */
enum MHD_Result http_send_json(struct request *req, struct MHD_Connection *conn,
			       unsigned status, cJSON *body);

/* Send the project's error shape. */
enum MHD_Result http_send_error(struct request *req, struct MHD_Connection *conn,
				unsigned status, const char *code,
				const char *message);

/* Route tables of the resources (one file each: route_<resource>.c). */
extern const struct route route_health[];

#endif
