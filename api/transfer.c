/* transfer.c - an upload's S3 side on a thread of its own (see transfer.h). */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "transfer.h"

/* room kept for what the form parser holds back from earlier pieces */
#define ROOM_SLACK (64 * 1024)
#define RING_MIN (1024 * 1024)
/* the thread takes bytes from the ring in pieces of at least this much */
#define READ_BATCH (256 * 1024)

struct transfers {
	struct api *api;
	struct gate *slots;
	struct pool *pool;
	pthread_mutex_t lock;		/* guards list, closed */
	struct transfer *list;
	int closed;
};

struct transfer {
	struct pool_task task;
	struct transfers *ts;
	struct s3_client *s3;
	char *key;
	char *content_type;
	struct transfer_check check;	/* before S3; ctx freed with t */
	struct transfer *prev, *next;	/* in ts->list */

	pthread_mutex_t lock;		/* guards what follows */
	pthread_cond_t more;		/* bytes, the end, or a stop for the reader */
	int refs;			/* the request's and the thread's */
	char *ring;			/* cap bytes; freed when the thread is done */
	size_t cap, head, used;
	size_t reader_wants;		/* 0: the reader is not waiting */
	struct MHD_Connection *writer;	/* suspended until there is room */
	size_t writer_needs;
	int eof;			/* the body is over */
	int aborted;			/* given up by the request */
	int closing;			/* given up by the shutdown */
	int armed;			/* a stop may still cancel S3 requests */
	int done;			/* the thread has ended */
	enum sc_err err;
	char errstr[512];
	/* after the body: the answer, run on the thread */
	struct request *req;
	route_fn answer;
	struct transfer_result *result;
};

/* Drop one reference; the last one frees t and gives its slot back. */
static void release(struct transfer *t)
{
	struct transfers *ts = t->ts;
	int last;

	pthread_mutex_lock(&t->lock);
	last = --t->refs == 0;
	pthread_mutex_unlock(&t->lock);
	if (!last)
		return;
	pthread_mutex_lock(&ts->lock);
	if (t->prev)
		t->prev->next = t->next;
	else
		ts->list = t->next;
	if (t->next)
		t->next->prev = t->prev;
	pthread_mutex_unlock(&ts->lock);
	s3_client_free(t->s3);
	free(t->ring);
	free(t->key);
	free(t->content_type);
	if (t->check.ctx_free)
		t->check.ctx_free(t->check.ctx);
	pthread_cond_destroy(&t->more);
	pthread_mutex_destroy(&t->lock);
	free(t);
	gate_leave(ts->slots);
}

/* Is the transfer to stop receiving?  Under t->lock. */
static int stopped(const struct transfer *t)
{
	return t->aborted || t->closing;
}

/* The S3 client's cancel predicate: once, when the transfer is given up
 * while the body still comes (not during the abort that follows). */
static int cancelled(void *arg)
{
	struct transfer *t = arg;
	int r;

	pthread_mutex_lock(&t->lock);
	r = t->armed && stopped(t);
	if (r)
		t->armed = 0;
	pthread_mutex_unlock(&t->lock);
	return r;
}

/* Resume the writer if it waits and there is room for it.  Under t->lock. */
static void wake_writer(struct transfer *t, int anyway)
{
	if (t->writer && (anyway || t->cap - t->used >= t->writer_needs)) {
		MHD_resume_connection(t->writer);
		t->writer = NULL;
	}
}

/* s3_upload_from's reader: bytes from the ring, waiting for them.  A
 * stopped transfer yields nothing more, unless its send keeps what came
 * (transfer.h): then the ring is emptied first. */
static ssize_t reader(void *arg, void *buf, size_t len)
{
	struct transfer *t = arg;
	size_t n, first;

	pthread_mutex_lock(&t->lock);
	t->reader_wants = len < READ_BATCH ? len : READ_BATCH;
	while (!stopped(t) && !t->eof && t->used < t->reader_wants)
		pthread_cond_wait(&t->more, &t->lock);
	t->reader_wants = 0;
	if ((stopped(t) && !(t->check.send && t->used)) ||
	    (t->eof && !t->used)) {
		t->armed = 0;	/* the abort or the completion follows */
		pthread_mutex_unlock(&t->lock);
		return stopped(t) ? -1 : 0;
	}
	n = t->used < len ? t->used : len;
	first = t->cap - t->head < n ? t->cap - t->head : n;
	memcpy(buf, t->ring + t->head, first);
	memcpy((char *)buf + first, t->ring, n - first);
	t->head = (t->head + n) % t->cap;
	t->used -= n;
	wake_writer(t, 0);
	pthread_mutex_unlock(&t->lock);
	return (ssize_t)n;
}

/* The transfer's thread: the whole S3 upload, then the answer. */
static void run(struct pool_task *task, int late)
{
	struct transfer *t = (struct transfer *)((char *)task -
						 offsetof(struct transfer, task));
	enum sc_err err;
	long long size = 0;
	int answer;

	(void)late;	/* this pool has no queue deadline */
	if (t->check.fn && t->check.fn(t->check.ctx)) {
		err = SC_ERR_CONFLICT;	/* refused: nothing sent */
	} else if (t->check.send) {
		err = t->check.send(t->check.ctx, t->s3, t, &size);
	} else {
		s3_set_cancel(t->s3, cancelled, t);
		err = s3_upload_from(t->s3, t->key, t->content_type, reader, t,
				     &size);
	}
	pthread_mutex_lock(&t->lock);
	t->done = 1;
	t->err = err;
	if (t->closing && !t->eof)
		snprintf(t->errstr, sizeof(t->errstr), "the server is shutting down");
	else if (err == SC_ERR_CONFLICT)
		snprintf(t->errstr, sizeof(t->errstr), "refused before sending");
	else if (err)
		snprintf(t->errstr, sizeof(t->errstr), "%s", s3_errstr(t->s3));
	free(t->ring);	/* the memory is back before the answer */
	t->ring = NULL;
	wake_writer(t, 1);	/* it finds the failure */
	answer = t->req != NULL;
	pthread_mutex_unlock(&t->lock);
	if (answer) {
		t->result->err = err;
		t->result->size = size;
		snprintf(t->result->errstr, sizeof(t->result->errstr), "%s",
			 t->errstr);
		http_answer(t->req, t->answer);
		release(t);	/* the request's, handed over by finish */
	}
	release(t);
}

struct transfers *transfers_new(struct api *api, int threads,
				struct gate *slots)
{
	struct transfers *ts = calloc(1, sizeof(*ts));

	if (!ts) {
		log_error("cannot start the upload threads: out of memory");
		return NULL;
	}
	ts->api = api;
	ts->slots = slots;
	pthread_mutex_init(&ts->lock, NULL);
	if (!(ts->pool = pool_new("upload", threads, 0))) {
		pthread_mutex_destroy(&ts->lock);
		free(ts);
		return NULL;
	}
	return ts;
}

void transfers_close(struct transfers *ts)
{
	struct transfer *t;

	if (!ts)
		return;
	pthread_mutex_lock(&ts->lock);
	ts->closed = 1;
	for (t = ts->list; t; t = t->next) {
		pthread_mutex_lock(&t->lock);
		if (!t->eof && !t->done) {
			t->closing = 1;
			pthread_cond_signal(&t->more);
		}
		pthread_mutex_unlock(&t->lock);
	}
	pthread_mutex_unlock(&ts->lock);
	pool_close(ts->pool);
}

void transfers_free(struct transfers *ts)
{
	if (!ts)
		return;
	pool_free(ts->pool);
	if (ts->list)
		log_error("upload transfers left at shutdown");
	pthread_mutex_destroy(&ts->lock);
	free(ts);
}

/* The ring: a quarter of a part, at least RING_MIN. */
static size_t ring_size(size_t part_size)
{
	return part_size / 8 > RING_MIN ? part_size / 8 : RING_MIN;
}

enum sc_err transfer_start(struct transfers *ts, struct s3_client *s3,
			   const char *key, const char *content_type,
			   size_t part_size, const struct transfer_check *check,
			   struct transfer **out)
{
	struct transfer *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (t) {
		t->key = strdup(key);
		t->content_type = strdup(content_type);
		t->ring = malloc(ring_size(part_size));
	}
	if (!t || !t->key || !t->content_type || !t->ring) {
		if (t) {
			free(t->key);
			free(t->content_type);
			free(t->ring);
			free(t);
		}
		s3_client_free(s3);
		if (check && check->ctx_free)
			check->ctx_free(check->ctx);
		return SC_ERR_NOMEM;
	}
	if (check)
		t->check = *check;
	t->ts = ts;
	t->s3 = s3;
	t->cap = ring_size(part_size);
	t->refs = 2;
	t->armed = 1;
	t->task.run = run;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->more, NULL);
	pthread_mutex_lock(&ts->lock);
	if (ts->closed || pool_submit(ts->pool, &t->task, NULL)) {
		pthread_mutex_unlock(&ts->lock);
		pthread_cond_destroy(&t->more);
		pthread_mutex_destroy(&t->lock);
		s3_client_free(s3);
		free(t->ring);
		free(t->key);
		free(t->content_type);
		if (t->check.ctx_free)
			t->check.ctx_free(t->check.ctx);
		free(t);
		return SC_ERR_CANCELLED;
	}
	t->next = ts->list;
	if (ts->list)
		ts->list->prev = t;
	ts->list = t;
	pthread_mutex_unlock(&ts->lock);
	*out = t;
	return SC_OK;
}

int transfer_room(struct transfer *t, size_t len, struct MHD_Connection *conn)
{
	int r = 1;

	pthread_mutex_lock(&t->lock);
	if (t->done || stopped(t)) {
		r = -1;
	} else if (t->cap - t->used < len + ROOM_SLACK) {
		t->writer = conn;
		t->writer_needs = len + ROOM_SLACK;
		/* under the lock: the reader cannot resume it before this */
		MHD_suspend_connection(conn);
		r = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return r;
}

enum sc_err transfer_write(struct transfer *t, const void *data, size_t len)
{
	enum sc_err err = SC_OK;
	size_t tail, first;

	pthread_mutex_lock(&t->lock);
	if (t->done || stopped(t)) {
		err = t->err ? t->err : SC_ERR_S3;
	} else if (t->cap - t->used < len) {
		/* transfer_room() leaves ROOM_SLACK: cannot happen */
		snprintf(t->errstr, sizeof(t->errstr),
			 "the upload's buffer overflowed");
		err = SC_ERR_TOO_LARGE;
	} else {
		tail = (t->head + t->used) % t->cap;
		first = t->cap - tail < len ? t->cap - tail : len;
		memcpy(t->ring + tail, data, first);
		memcpy(t->ring, (const char *)data + first, len - first);
		t->used += len;
		if (t->reader_wants && t->used >= t->reader_wants)
			pthread_cond_signal(&t->more);
	}
	pthread_mutex_unlock(&t->lock);
	return err;
}

ssize_t transfer_read(struct transfer *t, void *buf, size_t len)
{
	return reader(t, buf, len);
}

const char *transfer_errstr(struct transfer *t)
{
	return t->errstr[0] ? t->errstr : "the transfer to S3 failed";
}

int transfer_finish(struct transfer *t, struct request *req,
		    struct MHD_Connection *conn, route_fn answer,
		    struct transfer_result *result)
{
	int r = 0;

	pthread_mutex_lock(&t->lock);
	if (t->done || stopped(t)) {
		result->err = t->err ? t->err : SC_ERR_S3;
		snprintf(result->errstr, sizeof(result->errstr), "%s",
			 transfer_errstr(t));
		r = -1;
	} else {
		t->eof = 1;
		t->req = req;
		t->answer = answer;
		t->result = result;
		/* under the lock: the thread cannot answer before this */
		http_suspend(t->ts->api, req, conn);
		pthread_cond_signal(&t->more);
	}
	pthread_mutex_unlock(&t->lock);
	if (r)
		release(t);
	return r;
}

void transfer_abort(struct transfer *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->aborted = 1;
	pthread_cond_signal(&t->more);
	pthread_mutex_unlock(&t->lock);
	release(t);
}
