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
 * libmicrohttpd (0.9.75) cannot answer while a body is still arriving, so
 * a route that finds a body bad part way records the error
 * (http_set_error), takes no more of it, and the error is sent once the
 * body is over.  A refused body is read and dropped only briefly (at most
 * HTTP_DRAIN_MAX bytes and HTTP_DRAIN_S seconds after the refusal); a
 * client that said "Expect: 100-continue" is answered before its body.
 * A body past its deadline (API_BODY_TIMEOUT_S, API_UPLOAD_TIMEOUT_S for
 * streams) or below the minimum rate (API_MIN_BODY_RATE_BPS after
 * API_MIN_RATE_GRACE_S; pace.h) has its connection closed with 408
 * recorded (no answer can be queued mid-body), whether bytes trickle in
 * or none come at all: the deadline is also the connection's idle
 * timeout.  Time a connection spends suspended by the server (waiting for
 * an upload slot, or for S3 to take a part) is not held against it.
 *
 * Every request is written in one access-log line with fields (client,
 * the peer when the client came from X-Forwarded-For (client.h), user_id, method, route template, status, bytes_in, bytes_out,
 * duration_ms) and timed in a histogram by route template and method.
 * With API_METRICS_ADDR set, /metrics is served on a listener of its own
 * and nowhere else.  On SIGTERM, http_stop() stops accepting at once and
 * gives requests in flight, uploads included, API_GRACE_S to finish.
 *
 * Threads: libmicrohttpd's API_THREADS event loops each serve many
 * connections, so nothing on them may wait.  They parse, route,
 * authenticate (a JWT is an HMAC) and answer what needs no I/O; a route
 * that waits on PostgreSQL, Redis or S3 (R_IO) or hashes a password
 * (R_CPU) runs on a pool (pool.h): its connection is suspended, the
 * handler runs on a pool thread and sends as usual, the answer is kept
 * in the request, the connection is resumed and the answer queued from
 * the loop (libmicrohttpd queues responses only there).  A handler may
 * also decide for itself (http_defer: the rankings go to the pool only
 * when the page is not cached), and anything else that answers later (an
 * upload's transfer, a stream of events) uses http_suspend and
 * http_answer.  A request that waits in a pool's queue longer than
 * API_QUEUE_TIMEOUT_MS is answered 503 instead of run.
 *
 * Life cycle: http_start() starts the pools and libmicrohttpd's event
 * loops on the configured address; http_stop() stops accepting, lets
 * running requests finish (deferred ones included: libmicrohttpd cannot
 * stop with a connection suspended), and joins the threads.
 */
#ifndef SC_HTTP_H
#define SC_HTTP_H

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "api.h"
#include "buf.h"
#include "client.h"
#include "error.h"
#include "pace.h"
#include "pool.h"

/* Largest JSON body accepted. */
#define HTTP_JSON_MAX (16 * 1024)
/* a refused request's body, up to this size and for this long after the
 * refusal, is read and dropped so that a client sending it all before
 * reading (browsers, Node) reads the answer; past either the connection
 * is closed */
#define HTTP_DRAIN_MAX (2 * 1024 * 1024)
#define HTTP_DRAIN_S 2

struct http_server;
struct route;
struct request;

typedef enum MHD_Result (*route_fn)(struct api *api, struct request *req,
				    struct MHD_Connection *conn);

/* One request in flight; owned by the HTTP layer. */
struct request {
	char id[40];
	char method[16];	/* copies, truncated: they outlive the callback */
	char path[512];
	char param[80];		/* the path segment matched by "{}" */
	char origin[256];	/* the Origin to allow by CORS, or "" */
	long started_ms;
	struct client client;	/* who sent it (client.h) */
	unsigned status;
	const struct route *route;
	long long user_id;	/* from the token; 0: anonymous */
	/* an issuer's token checked off the loop (http.c: identify_later):
	 * 1 while that runs, 2 once it has */
	int identifying;
	char *bearer;		/* that token, owned */
	struct MHD_Connection *ident_conn;
	struct buf body;	/* R_JSON: the body so far */
	cJSON *json;		/* R_JSON: the parsed body */
	/* an error found while a body arrived, sent when it has */
	unsigned err_status;
	char err_code[32];
	char err_msg[256];
	cJSON *err_fields;	/* optional: field -> reason */
	unsigned retry_after;	/* seconds: sent as Retry-After when set */
	const char *err_limit;	/* a rate limit's name: sent as "limit" */
	/* the edges (pace.h, access log): set on the connection's thread */
	const char *tpl;	/* the route's template, for logs and metrics */
	struct pace pace;	/* the body's deadlines */
	long paused_at;		/* suspended mid-body since (clock_ms), or 0 */
	unsigned timeout_s;	/* the connection's idle timeout, if changed */
	int in_flight;		/* counted in requests_in_flight */
	int in_body;		/* a body is expected and not over */
	int closing;		/* the server stops: the answer closes */
	const char *cut;	/* why the connection was closed mid-body */
	long long bytes_out;	/* of the response's body */
	/* R_STREAM: the route's own state, freed on every path */
	void *state;
	void (*state_free)(struct api *api, void *state);
	/* answered off the event loop (http_defer, http_suspend) */
	struct {
		struct pool_task task;
		struct api *api;
		struct MHD_Connection *conn;	/* while suspended */
		route_fn fn;			/* what the pool runs */
		int off_loop;			/* sends keep the answer */
		int answered;			/* resp is the answer */
		enum MHD_Result ret;		/* MHD_NO: close instead */
		struct MHD_Response *resp;
		unsigned status;
	} later;
};

enum route_flags {
	R_AUTH = 1 << 0,
	R_AUTH_OPTIONAL = 1 << 1,
	R_JSON = 1 << 2,
	R_STREAM = 1 << 3,
	R_IO = 1 << 4,		/* waits on PostgreSQL, Redis or S3: I/O pool */
	R_CPU = 1 << 5,		/* hashes a password: the hashing pool */
	/* a path that also matches what is not there (the portal's "/{}"):
	 * another method on it is 404, not 405 */
	R_FALLBACK = 1 << 6,
	R_TUS = 1 << 7,		/* a tus route: every answer, errors too,
				 * carries Tus-Resumable, a 412 Tus-Version
				 * (tus 1.0) */
};

/* The pools a handler can be sent to (API_WORKERS, API_HASH_WORKERS). */
enum http_pool { HTTP_POOL_IO, HTTP_POOL_CPU, HTTP_POOLS };
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

/*
 * Send resp (taken, whatever happens) with the given status and content
 * type (may be NULL), with the headers every response carries.
 */
enum MHD_Result http_send_response(struct request *req,
				   struct MHD_Connection *conn, unsigned status,
				   struct MHD_Response *resp, const char *type);

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

/*
 * "no route for METHOD PATH" into msg (cap bytes, cut short to fit), the
 * message of a 404 or 405.  The path is cut at a character's edge and
 * shown only when it is UTF-8 text without control characters (it is
 * the client's, percent-decoded), so the JSON answer stays UTF-8 as
 * RFC 8259 section 8.1 requires.
 */
#define HTTP_NO_ROUTE_MAX 300	/* enough for the longest such message */
void http_no_route_message(const struct request *req, char *msg, size_t cap);

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

/*
 * From a handler on the event loop: run fn on pool instead, with the
 * connection suspended until it has answered (what fn sends through the
 * functions above is kept and queued when the connection resumes).
 * While the server stops, answers 503 at once.
 */
enum MHD_Result http_defer(struct api *api, struct request *req,
			   struct MHD_Connection *conn, enum http_pool pool,
			   route_fn fn);

/*
 * For answers that come from elsewhere (an upload's transfer, an event):
 * http_suspend() from the handler on the event loop (under the caller's
 * lock if another thread may answer at once); later http_answer() on any
 * thread but an event loop runs fn, keeps what it sends, and resumes the
 * connection.  req is not the caller's after http_answer().
 */
enum MHD_Result http_suspend(struct api *api, struct request *req,
			     struct MHD_Connection *conn);
void http_answer(struct request *req, route_fn fn);

/* The CORS preflight's headers (methods and request headers allowed),
 * added to resp when the request came from an allowed Origin. */
void http_preflight_headers(const struct request *req,
			    struct MHD_Response *resp);

/* Record an error to send when the body is over (the first one wins). */
void http_set_error(struct request *req, unsigned status, const char *code,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Send the error recorded with http_set_error now. */
enum MHD_Result http_send_recorded(struct request *req,
				   struct MHD_Connection *conn);

/* Route tables of the resources (one file each: routes/<resource>.c). */
extern const struct route route_health[];
extern const struct route route_auth[];
extern const struct route route_me[];
extern const struct route route_videos[];
extern const struct route route_hls[];
extern const struct route route_events[];
extern const struct route route_upload[];
extern const struct route route_tus[];
extern const struct route route_direct[];
extern const struct route route_public[];
extern const struct route route_metrics[];
extern const struct route route_portal[];

#endif
