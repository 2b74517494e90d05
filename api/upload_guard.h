/*
 * upload_guard.h - the controls every way of uploading a video shares:
 * the classic form upload (routes/upload.c), resumable tus uploads
 * (routes/tus.c) and direct uploads to S3.
 *
 * - the video's id (a random UUID, RFC 4122 version 4), which is also
 *   the upload's;
 * - admission at the headers: a refusal remembered moments ago
 *   (refusal_memo.h) is said again at once, and a player has at most
 *   API_UPLOADS_PER_USER uploads in flight (peruser.h: 429);
 * - a seat: one of API_UPLOAD_SLOTS, taken before the first byte of a
 *   body, waited for at most API_UPLOAD_WAIT_S (gate.h: 503 then), and
 *   handed to the transfer (transfer.h), which gives it back;
 * - before anything goes to S3, the rate limits per client network and
 *   per player (rate_guard.h, failing open) and the player's quotas
 *   (quota.h), read on a thread that may wait on Redis and PostgreSQL.
 *
 * Refusals are recorded in the request (http_set_error) or in a struct
 * refusal for a thread away from the request; the metrics count them.
 */
#ifndef SC_UPLOAD_GUARD_H
#define SC_UPLOAD_GUARD_H

#include "http.h"
#include "quota.h"
#include "rate_guard.h"

/* seconds a client is told to wait (Retry-After) on 429 and 503 */
#define UPLOAD_RETRY_AFTER_S 30

/* A new random id, 36 characters and a NUL. */
void upload_new_id(char out[40]);

/* Is id such an id (a UUID in its lower-case text form)?  Anything else
 * is no upload of ours, answered 404 without a query. */
int upload_id_ok(const char *id);

/*
 * At the headers, on the event loop: 0 admitted (counted in the
 * player's uploads: upload_release() gives it back), 1 refused (the
 * error is recorded in req), -1 out of memory.
 */
int upload_admit(struct api *api, struct request *req);
void upload_release(struct api *api, long long user);

/* An upload's seat (a slot of API_UPLOAD_SLOTS). */
struct upload_seat {
	struct gate_waiter wait;
	int has_slot;
	int passed;		/* handed to a transfer, which gives it back */
	int waiting;
};

/*
 * Before the first byte of a body, from conn's handler: 0 seated, 1
 * wait (conn is suspended: call upload_seat_resumed() when the body
 * comes again), -1 refused (recorded in req: shutting down, or waited
 * too long).
 */
int upload_seat_take(struct api *api, struct request *req,
		     struct upload_seat *s, struct MHD_Connection *conn);
/* After a wait: 0 seated, -1 refused (recorded in req). */
int upload_seat_resumed(struct api *api, struct request *req,
			struct upload_seat *s);
/* The request is done: a seat not handed on is given back. */
void upload_seat_release(struct api *api, struct upload_seat *s);

/*
 * Away from the event loop (d: the caller's handles): the rate limits
 * for network and user, then user's quotas.  0 go on; 1 refused, *out
 * says why (a 503 when PostgreSQL failed).
 */
int upload_guard_check(struct api *api, struct deps *d, long long user,
		       const char *network, struct refusal *out);

/*
 * The object key (bytes long) is complete: the video's row, inserted
 * if user's quotas still allow it (quota_insert), then its job (if
 * Redis is down the reconciler queues it later).  0 recorded and
 * counted; 1 refused by a quota (*out says why, remembered) and -1
 * PostgreSQL failed (db_errstr(d->db)): the object is deleted then.
 */
int upload_guard_record(struct api *api, struct deps *d, long long user,
			const char *video_id, const char *title, int is_public,
			const char *key, long long bytes, struct refusal *out);

/*
 * Away from the event loop, before a new upload is made: handles, then
 * upload_guard_check() for req's player and network.  The handles (the
 * caller's, for deps_put()), or NULL when answered: refused (counted,
 * remembered, sent) or out of memory; *ret is then the answer's.
 */
struct deps *upload_guard_begin(struct api *api, struct request *req,
				struct MHD_Connection *conn,
				enum MHD_Result *ret);

/*
 * The object key (bytes long) is complete: upload_guard_record(), then
 * the answer: 201 with the ids as the classic upload's contract says,
 * the quota's refusal, or 503.  d is given back.
 */
enum MHD_Result upload_guard_answer(struct api *api, struct request *req,
				    struct MHD_Connection *conn, struct deps *d,
				    const char *video_id, const char *title,
				    int is_public, const char *key,
				    long long bytes);

/* A quota's verdict v (not QUOTA_OK) as a refusal, counted and logged. */
void upload_quota_refusal(struct api *api, long long user,
			  const struct quota_verdict *v, struct refusal *r);

/* Remember a refusal of the player's own doing (not an outage): the
 * next upload is refused at its headers. */
void upload_remember(struct api *api, long long user, const struct refusal *r);

#endif
