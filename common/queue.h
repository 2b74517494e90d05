/*
 * queue.h - the job queue in Redis: leases, retries, dead letters.
 *
 * Key layout under the prefix P (QUEUE_PREFIX, default "showcase:{q}:"),
 * plain text throughout so redis-cli shows it as it is:
 *
 *   P pending        LIST of job ids, taken from the head
 *   P lease          ZSET job id -> lease expiry (ms); the in-flight set
 *   P scheduled      ZSET job id -> when a retry is due (ms)
 *   P dead           ZSET job id -> when it died (ms); capped
 *   P job:<id>       HASH video_id state attempt crashes token worker
 *                    progress last_error created_at updated_at
 *   P job:<id>:history  LIST of "ms event" lines, the last 20
 *
 * A job's id is its video's id, so enqueueing a video twice while its job
 * lives is a no-op.  A finished job's hash is deleted: completed work does
 * not pile up in Redis (PostgreSQL keeps the outcome).
 *
 * Invariants: every state change is one Lua script, so it is atomic; times
 * come from the Redis server's clock (TIME), never the worker's; a worker's
 * extend, complete, fail and requeue succeed only with the token of the
 * attempt it leased (fencing), so a worker whose lease expired and was
 * reaped can no longer change the job.
 *
 * Life cycle: queue_new() over a redisconn (not owned), operations from one
 * thread at a time, queue_free().  Scripts are loaded on first use and
 * again after Redis forgets them (NOSCRIPT, e.g. after a restart).
 */
#ifndef SC_QUEUE_H
#define SC_QUEUE_H

#include <stddef.h>

#include "error.h"
#include "redisconn.h"

#define QUEUE_ID_MAX 64
#define QUEUE_TOKEN_LEN 32

struct queue;

struct queue_job {
	char id[QUEUE_ID_MAX + 1];
	char video_id[QUEUE_ID_MAX + 1];
	char token[QUEUE_TOKEN_LEN + 1];
	int attempt;			/* 1 for the first try */
	int crashes;			/* leases that expired */
};

struct queue_retry {
	int max_attempts;		/* tries before the dead set */
	int base_ms;			/* first delay; doubles per attempt */
	int cap_ms;			/* longest delay */
};

struct queue_stats {
	long long pending, leased, scheduled, dead;
};

/* On SC_OK *out is the caller's; rc must outlive it. */
enum sc_err queue_new(struct redisconn *rc, const char *prefix,
		      struct queue **out);
void queue_free(struct queue *q);

/*
 * Queue the job of video_id (at most QUEUE_ID_MAX bytes of [A-Za-z0-9-_]).
 * *created is 1, or 0 when the video's job exists already (in any state).
 */
enum sc_err queue_enqueue(struct queue *q, const char *video_id, int *created);

/*
 * Lease the job at the head for lease_ms, in worker's name.  *got is 0
 * when nothing is pending; else *job holds the attempt's token.
 */
enum sc_err queue_lease(struct queue *q, const char *worker, int lease_ms,
			struct queue_job *job, int *got);

/*
 * Renew the lease for lease_ms and record progress (0..100).
 * SC_ERR_CONFLICT: the lease is lost (expired and reaped, or the job was
 * handed to another attempt); stop working on the job.
 */
enum sc_err queue_extend(struct queue *q, const struct queue_job *job,
			 int lease_ms, int progress);

/* The job is done: gone from Redis.  SC_ERR_CONFLICT as for extend. */
enum sc_err queue_complete(struct queue *q, const struct queue_job *job);

/*
 * The attempt failed with error (one line).  permanent: the job ends now
 * (the source is at fault; no retry).  Else it is retried after
 * min(cap, base * 2^(attempt-1)), jittered to 50-100%, or dead-lettered
 * once max_attempts are used; *dead says which (may be NULL).
 */
enum sc_err queue_fail(struct queue *q, const struct queue_job *job,
		       int permanent, const char *error,
		       const struct queue_retry *policy, int *dead);

/* Hand the job back at the head without counting the attempt (shutdown). */
enum sc_err queue_requeue(struct queue *q, const struct queue_job *job);

/* Move due retries to the tail of pending; *moved counts them. */
enum sc_err queue_promote(struct queue *q, int *moved);

/* Called with a dead job's id and its last_error ("code: message"). */
typedef void (*queue_dead_fn)(const char *id, const char *error, void *arg);

/*
 * Take back jobs whose lease expired (their worker died): each counts a
 * crash and goes back to the head, or to the dead set at max_crashes,
 * with last_error "worker_lost: ...".  on_dead (may be NULL) is called for
 * each job this call dead-lettered, so the caller can fail its video.
 */
enum sc_err queue_reap(struct queue *q, int max_crashes, int *requeued,
		       int *dead, queue_dead_fn on_dead, void *arg);

/* Put a dead job back at the tail of pending with fresh counts. */
enum sc_err queue_retry_dead(struct queue *q, const char *id);

enum sc_err queue_stats(struct queue *q, struct queue_stats *st);

/* The lists an admin looks at. */
enum queue_list { QUEUE_PENDING, QUEUE_LEASED, QUEUE_SCHEDULED, QUEUE_DEAD };

/*
 * Call fn for up to limit ids of one list, in order (pending from the
 * head; the sets by score: lease expiry, due time, time of death, in ms;
 * score is -1 for pending).
 */
enum sc_err queue_list(struct queue *q, enum queue_list which, int limit,
		       void (*fn)(const char *id, long long score, void *arg),
		       void *arg);

/*
 * Call fn for each field of job id's hash, then for each line of its
 * history (field "history"); SC_ERR_NOT_FOUND if there is no such job.
 */
enum sc_err queue_show(struct queue *q, const char *id,
		       void (*fn)(const char *field, const char *value, void *arg),
		       void *arg);

/*
 * The progress (percent) and attempt of job id, for people watching it;
 * SC_ERR_NOT_FOUND when there is no such job.
 */
enum sc_err queue_progress(struct queue *q, const char *id, int *percent,
			   int *attempt);

/* Age in ms (Redis clock) of the job at the head of pending; -1 if none. */
enum sc_err queue_oldest_pending(struct queue *q, long long *age_ms);

/* How many workers have a live presence record (P worker:*) (SCAN). */
enum sc_err queue_workers(struct queue *q, long long *n);

/* Drop dead job id with its hash and history; SC_ERR_NOT_FOUND when id
 * is not in the dead set. */
enum sc_err queue_forget_dead(struct queue *q, const char *id);

/*
 * The state ("pending", "active", "scheduled", "dead") and last_error of
 * job id into the callers' buffers (error may have error_cap 0);
 * SC_ERR_NOT_FOUND when Redis has no such job.  The reconciler's view.
 */
enum sc_err queue_job_state(struct queue *q, const char *id, char *state,
			    size_t state_cap, char *error, size_t error_cap);

/* The dead set keeps at most this many jobs for at most this long (the
 * oldest are dropped with their hash and history). */
#define QUEUE_DEAD_MAX 10000
#define QUEUE_DEAD_MAX_AGE_MS (30LL * 24 * 3600 * 1000)

/* Other limits for the dead set (tests; operators keep the defaults). */
void queue_set_dead_limits(struct queue *q, int max, long long max_age_ms);

#endif
