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
 * Routing: a route's path is matched segment by segment, "{}" standing
 * for one segment, which the handler finds in req->param.  What a route
 * needs is said by its flags and checked here, before the handler runs:
 * R_AUTH (a valid Bearer token: req->user_id), R_AUTH_OPTIONAL (a token
 * if one is sent), R_JSON (the body, at most HTTP_JSON_MAX bytes, parsed
 * into req->json; malformed JSON is answered here with 400).  An R_STREAM
 * route gets the body as it arrives through its stream function and
 * answers in its handler, after the last byte.
 *
 * libmicrohttpd cannot answer while a body is still arriving, so a route
 * that finds a body bad part way records the error (http_set_error), takes
 * no more of it, and the error is sent once the body is over.  A body that
 * takes longer than its deadline (API_BODY_TIMEOUT_S, API_UPLOAD_TIMEOUT_S
 * for streams) has its connection closed.
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
#include "buf.h"
#include "error.h"

/* Largest JSON body accepted. */
#define HTTP_JSON_MAX (16 * 1024)
/* a refused request's body up to this size (beyond what its route takes)
 * is read and dropped so that the client reads the answer */
#define HTTP_DRAIN_MAX (1024 * 1024)

struct http_server;
struct route;

/* One request in flight; owned by the HTTP layer. */
struct request {
	char id[40];
	char method[16];	/* copies, truncated: they outlive the callback */
	char path[512];
	char param[80];		/* the path segment matched by "{}" */
	char origin[256];	/* the Origin to allow by CORS, or "" */
	long started_ms;
	unsigned status;
	const struct route *route;
	long long user_id;	/* from the token; 0: anonymous */
	struct buf body;	/* R_JSON: the body so far */
	cJSON *json;		/* R_JSON: the parsed body */
	/* an error found while a body arrived, sent when it has */
	unsigned err_status;
	char err_code[32];
	char err_msg[256];
	cJSON *err_fields;	/* optional: field -> reason */
	long long dropped;	/* bytes of a refused body read and dropped */
	/* R_STREAM: the route's own state, freed on every path */
	void *state;
	void (*state_free)(struct api *api, void *state);
};

enum route_flags {
	R_AUTH = 1 << 0,
	R_AUTH_OPTIONAL = 1 << 1,
	R_JSON = 1 << 2,
	R_STREAM = 1 << 3,
};

typedef enum MHD_Result (*route_fn)(struct api *api, struct request *req,
				    struct MHD_Connection *conn);
/*
 * R_STREAM: called once with data NULL when the headers are in (to set
 * up, or refuse at once with http_set_error), then with each piece of
 * the body, then once with len 0 when the body is over (before the
 * handler runs).  Returns 0 to go on, -1 to drop the connection, 1 to
 * leave the piece unread (the route suspended the connection; the piece
 * comes again once it is resumed).
 */
typedef int (*route_stream_fn)(struct api *api, struct request *req,
			       struct MHD_Connection *conn, const char *data,
			       size_t len);

struct route {
	const char *method;
	const char *path;
	route_fn handler;
	unsigned flags;
	route_stream_fn stream;
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

/* Send text (copied) with the given status and content type. */
enum MHD_Result http_send_text(struct request *req, struct MHD_Connection *conn,
			       unsigned status, const char *type,
			       const char *text, size_t len);

/*
 * An object of string members, given as name, value pairs ending with a
 * NULL name: http_strings("message", "deleted", "video_id", id, NULL).
 * NULL when out of memory (http_send_json then answers 500).
 */
cJSON *http_strings(const char *name, ...) __attribute__((sentinel));

/* Send the project's error shape. */
enum MHD_Result http_send_error(struct request *req, struct MHD_Connection *conn,
				unsigned status, const char *code,
				const char *message);

/* The error shape with a "fields" object (taken, may be NULL). */
enum MHD_Result http_send_error_fields(struct request *req,
				       struct MHD_Connection *conn,
				       unsigned status, const char *code,
				       const char *message, cJSON *fields);

/* 503 for a dependency that failed, its reason logged (not sent). */
enum MHD_Result http_send_unavailable(struct request *req,
				      struct MHD_Connection *conn,
				      const char *what, const char *detail);

/* 503 because PostgreSQL failed; d goes back to the pool. */
enum MHD_Result http_send_db_unavailable(struct api *api, struct request *req,
					 struct MHD_Connection *conn,
					 struct deps *d);

/* Record an error to send when the body is over (the first one wins). */
void http_set_error(struct request *req, unsigned status, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Route tables of the resources (one file each: route_<resource>.c). */
extern const struct route route_health[];
extern const struct route route_auth[];
extern const struct route route_videos[];
extern const struct route route_upload[];
extern const struct route route_public[];
extern const struct route route_metrics[];

#endif
