/*
 * sse.h - live status of a player's own videos: Server-Sent Events.
 *
 * GET /api/videos/events holds a response open (text/event-stream) and
 * writes to it, for the caller's videos, "event: status" for each row of
 * the outbox (events, migration 005; "id:" is the event's id) and
 * "event: progress" while a video is processing, with a ": keep-alive"
 * comment after SSE_HEARTBEAT_MS without output.
 *
 * Threads: a held stream costs no thread.  Its response is read through a
 * content reader on libmicrohttpd's event loop, which copies what the
 * stream's buffer holds or, when it is empty, suspends the connection.
 * One listener thread (per API process) does everything that waits: it
 * LISTENs on the channel "showcase_events" (a trigger notifies each
 * event's user id at commit, migration 007), queries the events of the
 * players it was told about, polls the queue's progress of their
 * processing videos every SSE_PROGRESS_MS, formats the messages into the
 * streams' buffers and resumes their connections.
 *
 * Events commit out of id order, so a cursor "id > last sent" can skip an
 * event whose transaction took its id first and committed later.  Each
 * stream keeps a floor and the ids it sent above it: every wake queries
 * id > floor, sends the rows not sent yet, and raises the floor only past
 * rows older than SSE_SETTLE_S (a transaction open longer than that can
 * still be missed, and a Last-Event-ID replay starts at the id given).
 *
 * Invariants: streams live in the hub's list under its lock from
 * sse_open() until libmicrohttpd frees their response; a connection is
 * resumed only while it is suspended (so never after it closed).
 *
 * Life cycle: sse_start() before the HTTP server, sse_end_streams() on
 * SIGTERM (every stream ends at once: it sends nothing more and finishes
 * its response), sse_stop() after the HTTP server stopped.
 */
#ifndef SC_SSE_H
#define SC_SSE_H

#include <microhttpd.h>

#include "api.h"
#include "error.h"

struct request;

/* A comment line after this long without output. */
#define SSE_HEARTBEAT_MS 15000
/* How often the progress of processing videos is polled. */
#define SSE_PROGRESS_MS 2000
/* Events older than this are taken as settled (see above). */
#define SSE_SETTLE_S 300
/* What a client has not read yet, at most; past it its stream ends. */
#define SSE_BUFFER_MAX (256 * 1024)
/* A ticket's lifetime, and its longest text with the NUL. */
#define SSE_TICKET_TTL_S 60
#define SSE_TICKET_MAX 160

/* Start the listener thread (api->sse); SC_OK or the reason, logged. */
enum sc_err sse_start(struct api *api);
/* End every stream and refuse new ones (SIGTERM). */
void sse_end_streams(struct api *api);
/* Join the listener and free the hub; sse_stop on a NULL hub is a no-op. */
void sse_stop(struct api *api);

/* Streams open now. */
int sse_count(struct api *api);

/*
 * From the route's handler on the event loop: answer with a stream of
 * user_id's events, replaying those after last_id first (last_id < 0:
 * none; the stream starts at the newest event).  503 past API_SSE_MAX or
 * while the server stops.
 */
enum MHD_Result sse_open(struct api *api, struct request *req,
			 struct MHD_Connection *conn, long long user_id,
			 long long last_id);

/*
 * A ticket for user_id, valid SSE_TICKET_TTL_S from now, into out: an
 * HMAC-SHA-256 with the JWT secret over a purpose of its own, the user,
 * the expiry and a nonce, so a login token is no ticket and a ticket no
 * login token.  SC_ERR_INVALID if it would not fit.
 */
enum sc_err sse_ticket_make(const char *secret, long long user_id,
			    long long now, char out[SSE_TICKET_MAX]);

/*
 * Check a ticket at now; on SC_OK *user_id is its user and the ticket is
 * spent (this process takes it once).  SC_ERR_AUTH with *why otherwise.
 */
enum sc_err sse_ticket_check(struct api *api, const char *ticket,
			     long long now, long long *user_id,
			     const char **why);

#endif
