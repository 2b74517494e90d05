/*
 * transfer.h - the S3 side of an upload, on a thread of its own.
 *
 * An upload's bytes arrive on an HTTP event loop, which must never wait
 * on S3.  So the loop only copies the file's bytes into the upload's
 * ring buffer (an eighth of a part, at least 1 MiB); a thread of the
 * transfer pool (one per
 * upload slot, API_UPLOAD_SLOTS) owns the S3 multipart upload: it moves
 * the bytes from the ring into the S3 part buffer and sends each full
 * part while the loop fills the ring again.  When the ring is full the
 * connection is suspended (libmicrohttpd stops reading it and TCP holds
 * the client back) and resumed once the thread has room, at the latest
 * when the part in flight is done.  Memory per upload: one part buffer
 * of API_UPLOAD_PART_MB and the ring, whatever the file's size.  A ring
 * of a whole part (an earlier version) let the client send a whole part
 * ahead while one went to S3, for no throughput measured against the
 * local S3 server and 4 MiB more per upload (docs/benchmarks.md).  After the body the same
 * thread completes the object (CompleteMultipartUpload, or one PUT for a
 * file smaller than a part) and then runs the route's answer there, which
 * records the video (INSERT, enqueue): nothing of an upload after its
 * headers waits on an event loop, and an upload never waits for a thread
 * of the I/O pool.  Before its first request to S3 the thread runs the
 * caller's check (an upload's rate limits and quotas), so a refused
 * upload sends S3 nothing.
 *
 * Invariants: a transfer holds the upload slot (gate.h) the caller had,
 * from transfer_start() until it is freed, and gives it back itself:
 * slots bound the memory and the threads.  A transfer given up
 * (transfer_abort(): refused, abandoned, or transfers_close() at
 * shutdown) aborts its S3 upload on its own thread, the parts in flight
 * cancelled within a second; the caller never waits on S3.  Once the
 * body is over (transfer_finish()) the transfer is no longer cancelled:
 * the client waits for its answer.
 *
 * Life cycle: transfers_new() at start-up; per upload transfer_start(),
 * transfer_room() and transfer_write() for each piece of the file, then
 * transfer_finish() or transfer_abort(); transfers_close() at shutdown
 * gives up those still receiving and waits for every thread;
 * transfers_free() once no request is left.
 */
#ifndef SC_TRANSFER_H
#define SC_TRANSFER_H

#include "http.h"

struct transfers;
struct transfer;

/* What a finished transfer did. */
struct transfer_result {
	enum sc_err err;
	char errstr[512];
	long long size;
};

/* threads: at most this many transfers at once (the gate's slots, which
 * they give back).  NULL when threads cannot be made (logged). */
struct transfers *transfers_new(struct api *api, int threads,
				struct gate *slots);
void transfers_close(struct transfers *ts);
void transfers_free(struct transfers *ts);

/*
 * What the transfer's thread checks before anything goes to S3 (an
 * upload's rate limits and quotas: they wait on Redis and PostgreSQL,
 * which an event loop must not).  fn returns 0 to go on; anything else
 * fails the transfer with SC_ERR_CONFLICT before a byte is sent, and the
 * caller reads its reasons in ctx.  ctx is the transfer's from
 * transfer_start() on, whatever happens: ctx_free(ctx) when the transfer
 * is freed, so the caller may read ctx while it holds the transfer.
 */
struct transfer_check {
	int (*fn)(void *ctx);
	void *ctx;
	void (*ctx_free)(void *ctx);
	/*
	 * What the thread does with the bytes, after fn (may be NULL: the
	 * default is s3_upload_from() to the key, a new object).  send
	 * reads the body with transfer_read() and puts the bytes it took
	 * in *size.  With send set, a transfer given up by its request
	 * (the client went away) still hands send every byte that arrived
	 * before transfer_read() says -1, and no S3 request is cancelled:
	 * a resumable upload keeps what came.  Its result is the
	 * transfer's: SC_ERR_CONFLICT for a refusal recorded in ctx.
	 */
	enum sc_err (*send)(void *ctx, struct s3_client *s3,
			    struct transfer *t, long long *size);
};

/*
 * Start sending to key in parts of part_size bytes, after check (may be
 * NULL).  s3 and check->ctx are taken (freed whatever happens); on SC_OK
 * *out is the caller's and so is no longer the gate slot.  SC_ERR_NOMEM,
 * or SC_ERR_CANCELLED when shutting down.
 */
enum sc_err transfer_start(struct transfers *ts, struct s3_client *s3,
			   const char *key, const char *content_type,
			   size_t part_size, const struct transfer_check *check,
			   struct transfer **out);

/*
 * Room for a piece of len bytes of body (and what the form parser may
 * hold back)?  1 yes; 0 no: conn is suspended and resumed when there is
 * room or the transfer failed (call again then); -1 the transfer failed
 * (transfer_errstr()).  From conn's handler.
 */
int transfer_room(struct transfer *t, size_t len, struct MHD_Connection *conn);

/* Copy len bytes in (after transfer_room() said yes); never blocks.
 * SC_OK, or the transfer's failure. */
enum sc_err transfer_write(struct transfer *t, const void *data, size_t len);

/*
 * For a check's send, on the transfer's thread: up to len bytes of the
 * body into buf, waiting for them.  The count; 0 when the body is over
 * (transfer_finish()); -1 when the transfer was given up or the server
 * stops, the body short of its end.
 */
ssize_t transfer_read(struct transfer *t, void *buf, size_t len);

/* Why the transfer failed; valid while t is the caller's. */
const char *transfer_errstr(struct transfer *t);

/*
 * The body is over: the request's connection is suspended (http_suspend)
 * and, on the transfer's thread, the object is completed, *result filled
 * and answer run through http_answer().  0 then.  -1 when the transfer
 * had failed already: *result says why and nothing is suspended.  Either
 * way t is no longer the caller's.
 */
int transfer_finish(struct transfer *t, struct request *req,
		    struct MHD_Connection *conn, route_fn answer,
		    struct transfer_result *result);

/* Give up: the S3 upload is aborted on the transfer's thread.  Never
 * blocks; t is no longer the caller's.  NULL does nothing. */
void transfer_abort(struct transfer *t);

#endif
