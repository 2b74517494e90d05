/* upload_guard.c - controls shared by every way of uploading (see upload_guard.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "clock.h"
#include "log.h"
#include "refusal_memo.h"
#include "upload_guard.h"

#define UPLOAD_ID_LEN 36

void upload_new_id(char out[40])
{
	unsigned char b[16];

	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);	/* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	snprintf(out, 40,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
}

int upload_id_ok(const char *id)
{
	size_t i;

	if (strlen(id) != UPLOAD_ID_LEN)
		return 0;
	for (i = 0; i < UPLOAD_ID_LEN; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? id[i] != '-' : !strchr("0123456789abcdef", id[i]))
			return 0;
	}
	return 1;
}

int upload_admit(struct api *api, struct request *req)
{
	struct refusal memo;

	if (refusal_memo_get(api->upload_refusals, req->user_id, clock_ms(),
			     &memo)) {
		/* refused moments ago: said now, before the body */
		atomic_fetch_add(&api->m.uploads_refused, 1);
		refusal_record(req, &memo);
		log_info("upload refused at its headers: %s (remembered)",
			 memo.code);
		return 1;
	}
	switch (peruser_enter(&api->uploaders, req->user_id)) {
	case 0:
		atomic_fetch_add(&api->m.uploads_too_many, 1);
		req->retry_after = UPLOAD_RETRY_AFTER_S;
		http_set_error(req, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_uploads",
			       "at most %d uploads at once per player "
			       "(API_UPLOADS_PER_USER); try again when one has "
			       "finished", api->cfg.api_uploads_per_user);
		log_info("user %lld has %d uploads in flight: one more refused",
			 req->user_id, api->cfg.api_uploads_per_user);
		return 1;
	case -1:
		return -1;
	}
	return 0;
}

void upload_release(struct api *api, long long user)
{
	if (user)
		peruser_leave(&api->uploaders, user);
}

/* The API is stopping: slots are no longer handed out. */
static int shutting_down(struct api *api, struct request *req)
{
	http_set_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		       "the server is shutting down; try again");
	atomic_fetch_add(&api->m.uploads_refused, 1);
	log_info("upload refused: the server is shutting down");
	return -1;
}

/* No slot freed within API_UPLOAD_WAIT_S: come back later. */
static int gave_up(struct api *api, struct request *req)
{
	int wait = api->cfg.api_upload_wait_s;

	req->retry_after = UPLOAD_RETRY_AFTER_S;
	http_set_error(req, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
		       "every upload slot stayed busy for %d s; try again in "
		       "%d s", wait, UPLOAD_RETRY_AFTER_S);
	atomic_fetch_add(&api->m.uploads_gave_up, 1);
	log_info("no upload slot came free in %d s (API_UPLOAD_WAIT_S): this "
		 "upload gives up", wait);
	return -1;
}

/*
 * Not at the headers: libmicrohttpd 0.9.75, resuming a connection
 * paused there, may call again as if the body were over.  A waiter
 * gives up after API_UPLOAD_WAIT_S (the HTTP layer's sweeper resumes it:
 * gate_expire).
 */
int upload_seat_take(struct api *api, struct request *req,
		     struct upload_seat *s, struct MHD_Connection *conn)
{
	switch (gate_enter(&api->uploads, &s->wait, conn)) {
	case 1:
		s->has_slot = 1;
		return 0;
	case 0:
		s->waiting = 1;
		log_info("all %d upload slots busy: this upload waits",
			 api->cfg.api_upload_slots);
		return 1;
	default:
		return shutting_down(api, req);
	}
}

int upload_seat_resumed(struct api *api, struct request *req,
			struct upload_seat *s)
{
	int st = gate_state(&api->uploads, &s->wait);

	if (st == GATE_WAITING)
		return 0;	/* cannot happen: only a resume wakes it */
	s->waiting = 0;
	if (st == GATE_GRANTED) {
		s->has_slot = 1;
		return 0;
	}
	return st == GATE_EXPIRED ? gave_up(api, req) : shutting_down(api, req);
}

void upload_seat_release(struct api *api, struct upload_seat *s)
{
	if (s->waiting)
		gate_cancel(&api->uploads, &s->wait);	/* gives back a slot if granted */
	else if (s->has_slot && !s->passed)
		gate_leave(&api->uploads);
	s->waiting = s->has_slot = 0;
}

void upload_quota_refusal(struct api *api, long long user,
			  const struct quota_verdict *v, struct refusal *r)
{
	if (v->outcome == QUOTA_TOTAL) {
		atomic_fetch_add(&api->m.quota_total, 1);
		*r = (struct refusal){ MHD_HTTP_BAD_REQUEST, 0, NULL,
				       "video_quota_reached", "" };
		snprintf(r->message, sizeof(r->message),
			 "you have %lld videos, the most a player may have "
			 "(API_VIDEOS_MAX %d); delete one to upload another",
			 v->count, api->quota.max);
		log_info("upload refused: user %lld has %lld videos "
			 "(API_VIDEOS_MAX %d)", user, v->count, api->quota.max);
		return;
	}
	atomic_fetch_add(&api->m.quota_daily, 1);
	*r = (struct refusal){ MHD_HTTP_TOO_MANY_REQUESTS,
			       (unsigned)v->frees_in_s, NULL,
			       "daily_quota_reached", "" };
	snprintf(r->message, sizeof(r->message),
		 "you have uploaded %lld videos in the last 24 hours, the most "
		 "allowed (API_VIDEOS_PER_DAY %d); try again in %lld s",
		 v->count, api->quota.per_day, v->frees_in_s);
	log_info("upload refused: user %lld uploaded %lld videos in 24 h "
		 "(API_VIDEOS_PER_DAY %d)", user, v->count, api->quota.per_day);
}

void upload_remember(struct api *api, long long user, const struct refusal *r)
{
	if (r->status != MHD_HTTP_SERVICE_UNAVAILABLE)
		refusal_memo_put(api->upload_refusals, user, r, clock_ms());
}

/* The rate limits, then the quotas (read early, so most refusals cost
 * nothing; quota_insert() decides when the row is made). */
int upload_guard_check(struct api *api, struct deps *d, long long user,
		       const char *network, struct refusal *out)
{
	char player[24];
	const struct rl_check limits[] = {
		{ RL_UPLOAD_IP, network },
		{ RL_UPLOAD_ACCOUNT, player },
	};
	struct quota_verdict v;

	snprintf(player, sizeof(player), "%lld", user);
	if (limits_decide(api, d->redis, limits, 2, "uploads", LIMITS_FAIL_OPEN,
			  out))
		return 1;	/* out says why */
	if (quota_check(d->db, &api->quota, user, &v)) {
		/* PostgreSQL will be needed for the row anyway */
		log_error("upload refused: quotas not read: %s", db_errstr(d->db));
		*out = (struct refusal){ MHD_HTTP_SERVICE_UNAVAILABLE, 0, NULL,
			"unavailable",
			"the database is unavailable; try again shortly" };
		return 1;
	}
	if (v.outcome != QUOTA_OK) {
		upload_quota_refusal(api, user, &v, out);
		return 1;
	}
	return 0;
}

int upload_guard_record(struct api *api, struct deps *d, long long user,
			const char *video_id, const char *title, int is_public,
			const char *key, long long bytes, struct refusal *out)
{
	char size[24], owner[24];
	const char *params[] = { video_id, owner, title, is_public ? "t" : "f",
				 key, size };
	struct quota_verdict verdict;
	enum sc_err rc;
	int created;

	snprintf(size, sizeof(size), "%lld", bytes);
	snprintf(owner, sizeof(owner), "%lld", user);
	rc = quota_insert(d->db, &api->quota, user, params, &verdict);
	if (rc || verdict.outcome != QUOTA_OK) {
		/* no row: the object must not stay either */
		if (s3_delete_object(d->s3, key))
			log_warn("cannot delete %s: %s", key, s3_errstr(d->s3));
		if (rc)
			return -1;
		atomic_fetch_add(&api->m.uploads_refused, 1);
		upload_quota_refusal(api, user, &verdict, out);
		upload_remember(api, user, out);
		return 1;
	}
	if (queue_enqueue(d->queue, video_id, &created))
		log_warn("video %s stored but not queued (%s); the reconciler "
			 "will queue it", video_id, redisconn_errstr(d->redis));
	atomic_fetch_add(&api->m.uploads_accepted, 1);
	atomic_fetch_add(&api->m.upload_bytes, bytes);
	log_info("video %s uploaded by user %lld: %lld bytes", video_id, user,
		 bytes);
	return 0;
}

struct deps *upload_guard_begin(struct api *api, struct request *req,
				struct MHD_Connection *conn,
				enum MHD_Result *ret)
{
	struct refusal refusal;
	struct deps *d;

	if (!(d = deps_get(api))) {
		*ret = http_send_unavailable(req, conn, "the server",
					     "out of memory");
		return NULL;
	}
	if (!upload_guard_check(api, d, req->user_id, req->client.network,
				&refusal))
		return d;
	deps_put(api, d);
	atomic_fetch_add(&api->m.uploads_refused, 1);
	upload_remember(api, req->user_id, &refusal);
	refusal_record(req, &refusal);
	*ret = http_send_recorded(req, conn);
	return NULL;
}

enum MHD_Result upload_guard_answer(struct api *api, struct request *req,
				    struct MHD_Connection *conn, struct deps *d,
				    const char *video_id, const char *title,
				    int is_public, const char *key,
				    long long bytes)
{
	struct refusal refusal;

	switch (upload_guard_record(api, d, req->user_id, video_id, title,
				    is_public, key, bytes, &refusal)) {
	case -1:
		return http_send_db_unavailable(api, req, conn, d);
	case 1:
		deps_put(api, d);
		refusal_record(req, &refusal);
		return http_send_recorded(req, conn);
	}
	deps_put(api, d);
	return http_send_json(req, conn, MHD_HTTP_CREATED,
			      http_strings("message", "upload received; the video "
					   "is queued for processing",
					   "task_id", video_id,
					   "video_id", video_id,
					   "status", "uploaded", NULL));
}
