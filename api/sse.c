/* sse.c - Server-Sent Events of a player's videos (see sse.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "buf.h"
#include "clock.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "queue.h"
#include "redisconn.h"
#include "sse.h"

/* ids sent above the floor a stream remembers; past it the floor rises */
#define SENT_MAX 256
/* videos whose progress a stream follows at once */
#define PROGRESS_MAX 32
/* events fetched for one player per query */
#define FETCH_MAX 500
/* players whose events one round of the listener fetches */
#define ROUND_USERS 64
/* the listener's connection is tried again this often when down */
#define RETRY_MS 1000
#define CHANNEL "showcase_events"
#define TICKET_PURPOSE "showcase-sse-ticket:"
#define TICKET_NONCE 12
/* spent tickets remembered (until they expire) */
#define SPENT_MAX 65536

struct progress_seen {
	char video_id[40];
	int percent;
	int round;		/* the progress round that last saw it */
};

struct sse_stream {
	struct sse_hub *hub;
	struct MHD_Connection *conn;
	struct request *req;	/* for its bytes_out; alive while read */
	long long user_id;
	struct sse_stream *prev, *next;
	/* the rest under hub->lock */
	struct buf out;
	size_t off;		/* of out, already given to the reader */
	long last_out_ms;
	int suspended;		/* by the reader; resumed by the listener */
	int ending;		/* send nothing more: end the response */
	int dirty;		/* events to fetch */
	int ready;		/* floor known */
	long long floor;
	long long sent[SENT_MAX];
	int nsent;
	struct progress_seen prog[PROGRESS_MAX];
	int nprog;
};

struct spent {
	unsigned char nonce[TICKET_NONCE];
	long long exp;
};

struct sse_hub {
	struct api *api;
	pthread_mutex_t lock;
	struct sse_stream *head;
	int count;
	int stopping;		/* SIGTERM: no new streams */
	int stop;		/* the listener ends */
	int wake_fd;		/* eventfd: the listener has work */
	pthread_t thread;
	int running;
	/* the listener's own */
	PGconn *listen;
	struct db *db;
	struct redisconn *redis;
	struct queue *queue;
	int round;
	int listen_failed;	/* the failure is logged once */
	/* tickets taken, until they expire */
	pthread_mutex_t spent_lock;
	struct spent *spent;
	size_t nspent, capspent;
};

/* ---- streams (under hub->lock) ------------------------------------------ */

/* The connection goes on if the reader suspended it (under hub->lock). */
static void wake(struct sse_stream *s)
{
	if (s->suspended) {
		s->suspended = 0;
		MHD_resume_connection(s->conn);
	}
}

/* Append text to s's buffer; a client too slow for it loses its stream. */
static void put(struct sse_stream *s, const char *text, size_t len, long now)
{
	if (s->ending)
		return;
	if (buf_append(&s->out, text, len)) {
		log_warn("live status of user %lld: the client reads too slowly "
			 "(%zu bytes unread); stream ended", s->user_id,
			 s->out.len - s->off);
		s->ending = 1;
	}
	s->last_out_ms = now;
	wake(s);
}

static int was_sent(const struct sse_stream *s, long long id)
{
	int i;

	for (i = 0; i < s->nsent; i++)
		if (s->sent[i] == id)
			return 1;
	return 0;
}

/* Forget the ids at or under the floor; make room for one more. */
static void prune_sent(struct sse_stream *s)
{
	long long low;
	int i, n = 0, at;

	for (i = 0; i < s->nsent; i++)
		if (s->sent[i] > s->floor)
			s->sent[n++] = s->sent[i];
	s->nsent = n;
	if (s->nsent < SENT_MAX)
		return;
	/* full: the lowest becomes the floor (an event of a transaction
	 * still open below it would be missed) */
	low = s->sent[0];
	at = 0;
	for (i = 1; i < s->nsent; i++)
		if (s->sent[i] < low) {
			low = s->sent[i];
			at = i;
		}
	s->floor = low;
	s->sent[at] = s->sent[--s->nsent];
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
	struct sse_stream *s = cls;
	struct sse_hub *h = s->hub;
	size_t n;

	(void)pos;
	pthread_mutex_lock(&h->lock);
	if (s->ending) {
		pthread_mutex_unlock(&h->lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (s->off < s->out.len) {
		n = s->out.len - s->off;
		if (n > max)
			n = max;
		memcpy(out, s->out.data + s->off, n);
		s->off += n;
		if (s->off == s->out.len) {
			buf_reset(&s->out);
			s->off = 0;
		}
		s->req->bytes_out += (long long)n;
		pthread_mutex_unlock(&h->lock);
		return (ssize_t)n;
	}
	/* nothing to send: no thread waits, the listener resumes it */
	s->suspended = 1;
	MHD_suspend_connection(s->conn);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

/* libmicrohttpd is done with the response: the stream goes. */
static void stream_free(void *cls)
{
	struct sse_stream *s = cls;
	struct sse_hub *h = s->hub;

	pthread_mutex_lock(&h->lock);
	if (s->prev)
		s->prev->next = s->next;
	else
		h->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	h->count--;
	pthread_mutex_unlock(&h->lock);
	buf_release(&s->out);
	free(s);
}

static void poke(struct sse_hub *h)
{
	uint64_t one = 1;

	if (write(h->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("cannot wake the live status listener: %s",
			 strerror(errno));
}

int sse_count(struct api *api)
{
	struct sse_hub *h = api->sse;
	int n;

	if (!h)
		return 0;
	pthread_mutex_lock(&h->lock);
	n = h->count;
	pthread_mutex_unlock(&h->lock);
	return n;
}

enum MHD_Result sse_open(struct api *api, struct request *req,
			 struct MHD_Connection *conn, long long user_id,
			 long long last_id)
{
	static const char hello[] = "retry: 2000\n\n";
	struct sse_hub *h = api->sse;
	struct MHD_Response *resp;
	struct sse_stream *s;

	if (!h)
		return http_send_unavailable(req, conn, "live status",
					     "no listener");
	s = calloc(1, sizeof(*s));
	if (!s)
		return http_send_unavailable(req, conn, "the server",
					     "out of memory");
	s->hub = h;
	s->conn = conn;
	s->req = req;
	s->user_id = user_id;
	s->dirty = 1;
	s->ready = last_id >= 0;
	s->floor = last_id;
	s->last_out_ms = clock_ms();
	buf_init(&s->out, SSE_BUFFER_MAX);
	if (buf_append(&s->out, hello, sizeof(hello) - 1)) {
		free(s);
		return http_send_unavailable(req, conn, "the server",
					     "out of memory");
	}
	pthread_mutex_lock(&h->lock);
	if (h->stopping || h->count >= api->cfg.api_sse_max) {
		int stopping = h->stopping;

		pthread_mutex_unlock(&h->lock);
		buf_release(&s->out);
		free(s);
		req->retry_after = 5;
		return http_send_error(req, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				       "unavailable",
				       stopping ? "the server is shutting down; "
						  "try again"
						: "too many live status streams "
						  "are open; try again shortly");
	}
	h->count++;
	s->next = h->head;
	if (h->head)
		h->head->prev = s;
	h->head = s;
	pthread_mutex_unlock(&h->lock);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader,
						 s, stream_free);
	if (!resp) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	/* an idle stream writes every SSE_HEARTBEAT_MS: one that cannot
	 * write for four of them has a client that is gone */
	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
				  (unsigned)(4 * SSE_HEARTBEAT_MS / 1000));
	poke(h);
	return http_send_response(req, conn, MHD_HTTP_OK, resp,
				  "text/event-stream");
}

void sse_end_streams(struct api *api)
{
	struct sse_hub *h = api->sse;
	struct sse_stream *s;
	int n = 0;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopping = 1;
	for (s = h->head; s; s = s->next) {
		s->ending = 1;
		wake(s);
		n++;
	}
	pthread_mutex_unlock(&h->lock);
	if (n)
		log_info("%d live status stream%s ended", n, n == 1 ? "" : "s");
}

/* ---- the listener: notifications, events, progress, heartbeats -------- */

/* (Re)connect the LISTEN connection; 0 when it listens. */
static int listen_connect(struct sse_hub *h)
{
	const struct config *c = &h->api->cfg;
	const char *keys[] = { "dbname", "connect_timeout", NULL };
	char timeout[16];
	const char *vals[] = { c->database_url, timeout, NULL };
	PGresult *r;
	int ok;

	if (h->listen && PQstatus(h->listen) == CONNECTION_OK)
		return 0;
	if (h->listen)
		PQfinish(h->listen);
	snprintf(timeout, sizeof(timeout), "%d",
		 c->connect_timeout_ms < 2000 ? 2 : c->connect_timeout_ms / 1000);
	h->listen = PQconnectdbParams(keys, vals, 1);
	if (!h->listen || PQstatus(h->listen) != CONNECTION_OK) {
		if (!h->listen_failed)
			log_warn("live status: cannot connect to PostgreSQL "
				 "(trying every %d ms): %s", RETRY_MS,
				 h->listen ? PQerrorMessage(h->listen)
					   : "out of memory");
		goto fail;
	}
	r = PQexec(h->listen, "LISTEN " CHANNEL);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok || PQsetnonblocking(h->listen, 1)) {
		log_warn("live status: cannot LISTEN: %s",
			 PQerrorMessage(h->listen));
		goto fail;
	}
	log_info("live status: listening on " CHANNEL);
	h->listen_failed = 0;
	return 0;
fail:
	h->listen_failed = 1;
	if (h->listen)
		PQfinish(h->listen);
	h->listen = NULL;
	return -1;
}

/* Every stream of user (every stream if user is 0) has events to fetch. */
static void mark_dirty(struct sse_hub *h, long long user)
{
	struct sse_stream *s;

	pthread_mutex_lock(&h->lock);
	for (s = h->head; s; s = s->next)
		if (!user || s->user_id == user)
			s->dirty = 1;
	pthread_mutex_unlock(&h->lock);
}

/* Read what PostgreSQL sent; -1 when the connection broke. */
static int take_notifications(struct sse_hub *h)
{
	PGnotify *n;
	char *end;
	long long user;

	if (!PQconsumeInput(h->listen)) {
		log_warn("live status: PostgreSQL connection lost: %s",
			 PQerrorMessage(h->listen));
		PQfinish(h->listen);
		h->listen = NULL;
		return -1;
	}
	while ((n = PQnotifies(h->listen))) {
		user = strtoll(n->extra, &end, 10);
		if (*end == '\0' && user > 0)
			mark_dirty(h, user);
		PQfreemem(n);
	}
	return 0;
}

/* Up to cap distinct users of dirty streams; their flags are cleared.
 * *fresh[i] is 1 when a stream of that user has no floor yet. */
static int dirty_users(struct sse_hub *h, long long *users, int *fresh,
		       int cap)
{
	struct sse_stream *s;
	int n = 0, i;

	pthread_mutex_lock(&h->lock);
	for (s = h->head; s; s = s->next) {
		if (!s->dirty || s->ending)
			continue;
		for (i = 0; i < n && users[i] != s->user_id; i++)
			;
		if (i == n) {
			if (n == cap)
				continue;	/* the next round */
			users[n] = s->user_id;
			fresh[n++] = 0;
		}
		if (!s->ready)
			fresh[i] = 1;
		s->dirty = 0;
	}
	pthread_mutex_unlock(&h->lock);
	return n;
}

/* The lowest floor of user's ready streams, or -1 when none is. */
static long long user_floor(struct sse_hub *h, long long user)
{
	struct sse_stream *s;
	long long low = -1;

	pthread_mutex_lock(&h->lock);
	for (s = h->head; s; s = s->next)
		if (s->user_id == user && s->ready && !s->ending &&
		    (low < 0 || s->floor < low))
			low = s->floor;
	pthread_mutex_unlock(&h->lock);
	return low;
}

/* Streams of user without a floor start at the newest event. */
static int start_fresh(struct sse_hub *h, long long user, const char *uid)
{
	const char *params[] = { uid };
	struct sse_stream *s;
	PGresult *res;
	long long newest;

	if (db_exec_prepared(h->db,
			     "SELECT coalesce(max(id), 0) FROM events "
			     "WHERE user_id = $1",
			     1, params, &res)) {
		log_warn("live status: cannot read events: %s",
			 db_errstr(h->db));
		return -1;
	}
	newest = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	pthread_mutex_lock(&h->lock);
	for (s = h->head; s; s = s->next)
		if (s->user_id == user && !s->ready) {
			s->ready = 1;
			s->floor = newest;
		}
	pthread_mutex_unlock(&h->lock);
	return 0;
}

/* Give the rows of res to user's streams, each the ones it lacks. */
static void deliver(struct sse_hub *h, long long user, PGresult *res)
{
	int rows = PQntuples(res), i;
	struct buf msg = BUF_INIT(64 * 1024);
	struct sse_stream *s;
	long now = clock_ms();
	long long id, settled;

	pthread_mutex_lock(&h->lock);
	for (s = h->head; s; s = s->next) {
		if (s->user_id != user || !s->ready || s->ending)
			continue;
		settled = s->floor;
		for (i = 0; i < rows; i++) {
			id = atoll(PQgetvalue(res, i, 0));
			if (id > s->floor && !was_sent(s, id)) {
				buf_reset(&msg);
				if (buf_appendf(&msg, "event: status\nid: %lld\n"
						"data: %s\n\n", id,
						PQgetvalue(res, i, 1)))
					continue;	/* too large to say */
				put(s, msg.data, msg.len, now);
				prune_sent(s);
				s->sent[s->nsent++] = id;
			}
			if (PQgetvalue(res, i, 2)[0] == 't' && id > settled)
				settled = id;
		}
		s->floor = settled;
		prune_sent(s);
	}
	pthread_mutex_unlock(&h->lock);
	buf_release(&msg);
}

/* Fetch and deliver user's events; 1 when there may be more. */
static int fetch_user(struct sse_hub *h, long long user, int fresh)
{
	char uid[24], floor[24];
	const char *params[] = { uid, floor };
	PGresult *res;
	long long low;
	int more;

	snprintf(uid, sizeof(uid), "%lld", user);
	if (fresh && start_fresh(h, user, uid))
		return 0;
	low = user_floor(h, user);
	if (low < 0)
		return 0;
	snprintf(floor, sizeof(floor), "%lld", low);
	if (db_exec_prepared(h->db,
			     "SELECT id, ((data - 'user_id') || jsonb_build_object("
			     "'type', type, 'event_id', id))::text, "
			     "created_at < now() - make_interval(secs => 300) "
			     "FROM events WHERE user_id = $1 AND id > $2 "
			     "ORDER BY id LIMIT 500",	/* FETCH_MAX */
			     2, params, &res)) {
		log_warn("live status: cannot read events: %s",
			 db_errstr(h->db));
		mark_dirty(h, user);	/* tried again next round */
		return 0;
	}
	deliver(h, user, res);
	more = PQntuples(res) == FETCH_MAX;
	PQclear(res);
	return more;
}

/* Fetch for the players with news; 1 when some are left for later. */
static int fetch_round(struct sse_hub *h)
{
	long long users[ROUND_USERS];
	int fresh[ROUND_USERS], n, i, more = 0;

	n = dirty_users(h, users, fresh, ROUND_USERS);
	for (i = 0; i < n; i++)
		if (fetch_user(h, users[i], fresh[i])) {
			mark_dirty(h, users[i]);
			more = 1;
		}
	return more || n == ROUND_USERS;
}

/* Say percent of video to user's streams that have not heard it. */
static void tell_progress(struct sse_hub *h, long long user,
			  const char *video, int percent, long now)
{
	struct sse_stream *s;
	char msg[160];
	int i, n;

	n = snprintf(msg, sizeof(msg),
		     "event: progress\ndata: {\"video_id\":\"%s\",\"percent\":%d}\n\n",
		     video, percent);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	for (s = h->head; s; s = s->next) {
		if (s->user_id != user || s->ending || !s->ready)
			continue;
		for (i = 0; i < s->nprog && strcmp(s->prog[i].video_id, video); i++)
			;
		if (i == s->nprog) {
			if (i == PROGRESS_MAX)
				continue;
			snprintf(s->prog[i].video_id,
				 sizeof(s->prog[i].video_id), "%s", video);
			s->prog[i].percent = -1;
			s->nprog++;
		}
		s->prog[i].round = h->round;
		if (s->prog[i].percent != percent) {
			s->prog[i].percent = percent;
			put(s, msg, (size_t)n, now);
		}
	}
}

/* The progress of the processing videos of every connected player. */
static void progress_round(struct sse_hub *h)
{
	struct buf users = BUF_INIT(64 * 1024);
	const char *params[1];
	struct sse_stream *s;
	PGresult *res;
	long now;
	int i, j, pct, attempt;

	pthread_mutex_lock(&h->lock);
	for (s = h->head; s; s = s->next)
		if (!s->ending &&
		    buf_appendf(&users, "%s%lld", users.len ? "," : "{",
				s->user_id))
			break;
	pthread_mutex_unlock(&h->lock);
	if (!users.len || buf_appendc(&users, '}')) {
		buf_release(&users);
		return;
	}
	params[0] = users.data;
	if (db_exec_prepared(h->db,
			     "SELECT user_id, id FROM videos WHERE user_id = "
			     "ANY ($1::bigint[]) AND status = 'processing' "
			     "LIMIT 1000",
			     1, params, &res)) {
		log_warn("live status: cannot read videos: %s",
			 db_errstr(h->db));
		buf_release(&users);
		return;
	}
	buf_release(&users);
	h->round++;
	now = clock_ms();
	for (i = 0; i < PQntuples(res); i++) {
		if (queue_progress(h->queue, PQgetvalue(res, i, 1), &pct,
				   &attempt))
			continue;	/* not leased yet, or Redis hiccup */
		pthread_mutex_lock(&h->lock);
		tell_progress(h, atoll(PQgetvalue(res, i, 0)),
			      PQgetvalue(res, i, 1), pct, now);
		pthread_mutex_unlock(&h->lock);
	}
	PQclear(res);
	/* videos no longer processing are forgotten */
	pthread_mutex_lock(&h->lock);
	for (s = h->head; s; s = s->next) {
		for (i = j = 0; i < s->nprog; i++)
			if (s->prog[i].round == h->round)
				s->prog[j++] = s->prog[i];
		s->nprog = j;
	}
	pthread_mutex_unlock(&h->lock);
}

static void heartbeats(struct sse_hub *h, long now)
{
	static const char beat[] = ": keep-alive\n\n";
	struct sse_stream *s;

	pthread_mutex_lock(&h->lock);
	for (s = h->head; s; s = s->next)
		if (!s->ending && now - s->last_out_ms >= SSE_HEARTBEAT_MS)
			put(s, beat, sizeof(beat) - 1, now);
	pthread_mutex_unlock(&h->lock);
}

static void *listener(void *arg)
{
	struct sse_hub *h = arg;
	struct pollfd p[2];
	long now, next_progress = 0, next_try = 0;
	uint64_t v;
	int more = 0, n, timeout;

	log_set_request(NULL);
	for (;;) {
		pthread_mutex_lock(&h->lock);
		n = h->stop;
		pthread_mutex_unlock(&h->lock);
		if (n)
			break;
		now = clock_ms();
		if (!h->listen && now >= next_try) {
			if (listen_connect(h) == 0)
				mark_dirty(h, 0);	/* news may be missed */
			else
				next_try = now + RETRY_MS;
		}
		p[0].fd = h->wake_fd;
		p[0].events = POLLIN;
		p[1].fd = h->listen ? PQsocket(h->listen) : -1;
		p[1].events = POLLIN;
		timeout = more ? 0 : 1000;
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			clock_sleep_ms(100);
		if (p[0].revents & POLLIN)
			(void)!read(h->wake_fd, &v, sizeof(v));
		if (h->listen && (p[1].revents & (POLLIN | POLLERR | POLLHUP)))
			take_notifications(h);
		more = fetch_round(h);
		now = clock_ms();
		if (now >= next_progress) {
			progress_round(h);
			next_progress = now + SSE_PROGRESS_MS;
		}
		heartbeats(h, clock_ms());
	}
	return NULL;
}

enum sc_err sse_start(struct api *api)
{
	struct sse_hub *h = calloc(1, sizeof(*h));
	enum sc_err rc = SC_ERR_NOMEM;

	if (!h)
		return rc;
	h->api = api;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->spent_lock, NULL);
	h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	h->db = db_open(&api->cfg);
	if (h->wake_fd < 0 || !h->db ||
	    (rc = redisconn_new(api->cfg.redis_url, api->cfg.connect_timeout_ms,
				&h->redis)) ||
	    (rc = queue_new(h->redis, api->cfg.queue_prefix, &h->queue))) {
		log_error("cannot start the live status listener");
		api->sse = h;
		sse_stop(api);
		return rc ? rc : SC_ERR_NOMEM;
	}
	api->sse = h;
	if (pthread_create(&h->thread, NULL, listener, h)) {
		log_error("cannot start the live status listener thread");
		sse_stop(api);
		return SC_ERR_IO;
	}
	h->running = 1;
	return SC_OK;
}

void sse_stop(struct api *api)
{
	struct sse_hub *h = api->sse;

	if (!h)
		return;
	if (h->running) {
		pthread_mutex_lock(&h->lock);
		h->stop = 1;
		pthread_mutex_unlock(&h->lock);
		poke(h);
		pthread_join(h->thread, NULL);
	}
	if (h->listen)
		PQfinish(h->listen);
	queue_free(h->queue);
	redisconn_free(h->redis);
	db_free(h->db);
	if (h->wake_fd >= 0)
		close(h->wake_fd);
	free(h->spent);
	pthread_mutex_destroy(&h->spent_lock);
	pthread_mutex_destroy(&h->lock);
	free(h);
	api->sse = NULL;
}

/* ---- tickets ---------------------------------------------------------- */

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* mac of "purpose user.exp.nonce" */
static void ticket_mac(const char *secret, const char *body, size_t len,
		       unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
				    strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)TICKET_PURPOSE,
				      sizeof(TICKET_PURPOSE) - 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
}

enum sc_err sse_ticket_make(const char *secret, long long user_id,
			    long long now, char out[SSE_TICKET_MAX])
{
	unsigned char nonce[TICKET_NONCE], mac[crypto_auth_hmacsha256_BYTES];
	char n64[sodium_base64_ENCODED_LEN(TICKET_NONCE, B64)];
	char m64[sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES, B64)];
	int len;

	randombytes_buf(nonce, sizeof(nonce));
	sodium_bin2base64(n64, sizeof(n64), nonce, sizeof(nonce), B64);
	len = snprintf(out, SSE_TICKET_MAX, "%lld.%lld.%s", user_id,
		       now + SSE_TICKET_TTL_S, n64);
	if (len < 0 || (size_t)len >= SSE_TICKET_MAX)
		return SC_ERR_INVALID;
	ticket_mac(secret, out, (size_t)len, mac);
	sodium_bin2base64(m64, sizeof(m64), mac, sizeof(mac), B64);
	if ((size_t)len + 1 + strlen(m64) >= SSE_TICKET_MAX)
		return SC_ERR_INVALID;
	out[len] = '.';
	memcpy(out + len + 1, m64, strlen(m64) + 1);
	return SC_OK;
}

/* Take nonce once (until exp); 0 taken, -1 taken before. */
static int spend(struct sse_hub *h, const unsigned char *nonce, long long exp,
		 long long now)
{
	size_t i, n = 0;
	int rc = 0;

	pthread_mutex_lock(&h->spent_lock);
	for (i = 0; i < h->nspent; i++) {
		if (h->spent[i].exp <= now)
			continue;	/* expired: dropped */
		if (!memcmp(h->spent[i].nonce, nonce, TICKET_NONCE))
			rc = -1;
		h->spent[n++] = h->spent[i];
	}
	h->nspent = n;
	if (rc == 0) {
		if (h->nspent == h->capspent && h->capspent < SPENT_MAX) {
			size_t cap = h->capspent ? 2 * h->capspent : 64;
			struct spent *p = realloc(h->spent, cap * sizeof(*p));

			if (p) {
				h->spent = p;
				h->capspent = cap;
			}
		}
		if (h->nspent < h->capspent) {
			memcpy(h->spent[h->nspent].nonce, nonce, TICKET_NONCE);
			h->spent[h->nspent++].exp = exp;
		}
	}
	pthread_mutex_unlock(&h->spent_lock);
	return rc;
}

enum sc_err sse_ticket_check(struct api *api, const char *ticket,
			     long long now, long long *user_id,
			     const char **why)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	unsigned char given[crypto_auth_hmacsha256_BYTES + 1];
	unsigned char nonce[TICKET_NONCE + 1];
	const char *dot1, *dot2, *dot3;
	long long uid, exp;
	size_t n;
	char *end;

	*user_id = 0;
	*why = "malformed ticket";
	if (strlen(ticket) >= SSE_TICKET_MAX)
		return SC_ERR_AUTH;
	dot1 = strchr(ticket, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	dot3 = dot2 ? strchr(dot2 + 1, '.') : NULL;
	if (!dot3 || strchr(dot3 + 1, '.'))
		return SC_ERR_AUTH;
	if (sodium_base642bin(given, sizeof(given), dot3 + 1, strlen(dot3 + 1),
			      NULL, &n, NULL, B64) ||
	    n != sizeof(mac)) {
		*why = "bad ticket signature";
		return SC_ERR_AUTH;
	}
	ticket_mac(api->cfg.jwt_secret, ticket, (size_t)(dot3 - ticket), mac);
	if (sodium_memcmp(mac, given, sizeof(mac))) {
		*why = "bad ticket signature";
		return SC_ERR_AUTH;
	}
	uid = strtoll(ticket, &end, 10);
	if (end != dot1 || uid <= 0)
		return SC_ERR_AUTH;
	exp = strtoll(dot1 + 1, &end, 10);
	if (end != dot2)
		return SC_ERR_AUTH;
	if (exp <= now) {
		*why = "ticket expired";
		return SC_ERR_AUTH;
	}
	if (sodium_base642bin(nonce, sizeof(nonce), dot2 + 1,
			      (size_t)(dot3 - dot2 - 1), NULL, &n, NULL, B64) ||
	    n != TICKET_NONCE)
		return SC_ERR_AUTH;
	if (api->sse && spend(api->sse, nonce, exp, now)) {
		*why = "ticket already used";
		return SC_ERR_AUTH;
	}
	*user_id = uid;
	return SC_OK;
}
