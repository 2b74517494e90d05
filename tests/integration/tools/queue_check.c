/*
 * queue_check - the queue client's state changes against a real Redis.
 *
 *   REDIS_URL=... QUEUE_PREFIX=... queue_check
 *
 * Runs the scenarios below on an empty prefix, printing "ok NAME" or
 * "FAIL NAME: what" per check and a last line "N passed, N failed"; exits
 * 1 if any failed.  Leaves the queue in a known state for the calling
 * test to read back with redis-cli: job "left-pending" pending, job
 * "left-dead" dead, job "left-scheduled" scheduled, nothing leased.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "queue.h"
#include "redisconn.h"

static int passed, failed;

static void check(int ok, const char *name, const char *what)
{
	if (ok) {
		passed++;
		printf("ok   %s\n", name);
	} else {
		failed++;
		printf("FAIL %s: %s\n", name, what);
	}
}

static const struct queue_retry quick = { 3, 100, 400 };

static void enqueue_dedup(struct queue *q)
{
	int created = -1;

	check(!queue_enqueue(q, "v1", &created) && created == 1,
	      "enqueue creates the job", "first enqueue");
	check(!queue_enqueue(q, "v1", &created) && created == 0,
	      "enqueue of a queued video is a no-op", "second enqueue");
	check(queue_enqueue(q, "bad id!", &created) == SC_ERR_INVALID,
	      "enqueue refuses ids that are not plain", "bad id accepted");
}

static void lease_complete_fenced(struct queue *q)
{
	struct queue_job job, other;
	int got = 0;

	check(!queue_lease(q, "w1", 5000, &job, &got) && got &&
		      !strcmp(job.id, "v1") && !strcmp(job.video_id, "v1") &&
		      job.attempt == 1 && strlen(job.token) == QUEUE_TOKEN_LEN,
	      "lease hands out the head with attempt 1 and a token", "lease");
	check(!queue_lease(q, "w2", 5000, &other, &got) && !got,
	      "a leased job is not handed out twice", "second lease got a job");
	check(!queue_extend(q, &job, 5000, 40), "extend with the token", "extend");
	other = job;
	other.token[0] = other.token[0] == 'a' ? 'b' : 'a';
	check(queue_extend(q, &other, 5000, 50) == SC_ERR_CONFLICT,
	      "extend with another token is refused", "stale extend accepted");
	check(queue_complete(q, &other) == SC_ERR_CONFLICT,
	      "complete with another token is refused", "stale complete accepted");
	check(!queue_complete(q, &job), "complete with the token", "complete");
	check(queue_complete(q, &job) == SC_ERR_CONFLICT,
	      "complete twice is refused", "second complete accepted");
}

static void retry_then_dead(struct queue *q)
{
	struct queue_job job;
	struct queue_stats st;
	int got, dead = -1, moved = -1, attempt;

	queue_enqueue(q, "v2", NULL);
	for (attempt = 1; attempt <= quick.max_attempts; attempt++) {
		queue_lease(q, "w1", 5000, &job, &got);
		check(got && job.attempt == attempt, "retried job comes back with the next attempt",
		      "wrong attempt");
		check(!queue_fail(q, &job, 0, "s3 timeout", &quick, &dead) &&
			      dead == (attempt == quick.max_attempts),
		      attempt < quick.max_attempts ? "a transient failure is scheduled"
						   : "the last attempt goes to the dead set",
		      "fail");
		if (attempt == quick.max_attempts)
			break;
		queue_promote(q, &moved);
		queue_stats(q, &st);
		check(st.scheduled == 1 && st.pending == 0,
		      "a retry waits for its delay", "promoted too early");
		/* the delay is at most min(cap, base * 2^(attempt-1)) */
		clock_sleep_ms(quick.base_ms << attempt);
		check(!queue_promote(q, &moved) && moved == 1,
		      "a due retry is promoted", "not promoted");
	}
	queue_stats(q, &st);
	check(st.dead == 1 && st.pending == 0 && st.leased == 0,
	      "dead job is in the dead set only", "counts");
	check(!queue_retry_dead(q, "v2"), "retry-dead puts it back", "retry_dead");
	check(queue_retry_dead(q, "v2") == SC_ERR_NOT_FOUND,
	      "retry-dead of a job not dead", "second retry_dead");
	queue_lease(q, "w1", 5000, &job, &got);
	check(got && job.attempt == 1, "retried dead job starts again at attempt 1",
	      "attempt not reset");
	check(!queue_fail(q, &job, 1, "too_short", &quick, &dead) && !dead,
	      "a permanent failure ends the job at once", "permanent");
	queue_stats(q, &st);
	check(st.pending + st.leased + st.scheduled + st.dead == 0,
	      "nothing left of it", "left over");
}

/* The reaper's on_dead: remember the id and error of one dead job. */
static void note_dead(const char *id, const char *error, void *arg)
{
	char *seen = arg;

	snprintf(seen, 256, "%s %s", id, error);
}

static void reap_crashed(struct queue *q)
{
	struct queue_job first, second, third;
	char seen[256] = "";
	int got, requeued = -1, dead = -1;

	queue_enqueue(q, "v3", NULL);
	queue_enqueue(q, "v4", NULL);
	queue_lease(q, "w-dies", 100, &first, &got);
	check(got && !strcmp(first.id, "v3"), "lease v3 with a short lease", "lease");
	check(!queue_reap(q, 2, &requeued, &dead, note_dead, seen) && requeued == 0,
	      "a live lease is not reaped", "reaped early");
	clock_sleep_ms(250);
	check(!queue_reap(q, 2, &requeued, &dead, note_dead, seen) && requeued == 1 && dead == 0,
	      "an expired lease is reaped", "not reaped");
	queue_lease(q, "w2", 100, &second, &got);
	check(got && !strcmp(second.id, "v3") && second.crashes == 1,
	      "the reaped job goes back to the head, one crash counted",
	      "not at the head");
	check(queue_complete(q, &first) == SC_ERR_CONFLICT,
	      "the dead worker's token no longer works (fencing)",
	      "stale complete accepted");
	clock_sleep_ms(250);
	check(!seen[0], "no job reported dead before the cap", "reported dead");
	check(!queue_reap(q, 2, &requeued, &dead, note_dead, seen) && dead == 1,
	      "a job that crashes max times is dead-lettered", "not dead");
	check(!strncmp(seen, "v3 worker_lost: ", 16),
	      "the reaper names the dead job and why (worker_lost)", seen);
	queue_lease(q, "w2", 5000, &third, &got);
	check(got && !strcmp(third.id, "v4"), "the other job is next", "wrong job");
	queue_complete(q, &third);
	queue_retry_dead(q, "v3");
	queue_lease(q, "w2", 5000, &third, &got);
	queue_complete(q, &third);
}

static void requeue_on_shutdown(struct queue *q)
{
	struct queue_job job, again;
	int got;

	queue_enqueue(q, "v5", NULL);
	queue_enqueue(q, "v6", NULL);
	queue_lease(q, "w1", 5000, &job, &got);
	check(!queue_requeue(q, &job), "requeue with the token", "requeue");
	queue_lease(q, "w2", 5000, &again, &got);
	check(got && !strcmp(again.id, job.id) && again.attempt == job.attempt,
	      "a handed-back job is next, its attempt not counted", "requeue order");
	queue_complete(q, &again);
	queue_lease(q, "w2", 5000, &again, &got);
	queue_complete(q, &again);
}

/* kill job ID for good: lease it and fail it with one attempt allowed */
static void kill_job(struct queue *q, const char *id)
{
	static const struct queue_retry once = { 1, 1000, 1000 };
	struct queue_job job;
	int got, dead = 0;

	queue_enqueue(q, id, NULL);
	queue_lease(q, "w-cap", 5000, &job, &got);
	queue_fail(q, &job, 0, "test", &once, &dead);
}

/* The dead set keeps at most N jobs, none older than the age limit. */
static void dead_set_is_capped(struct queue *q, struct redisconn *rc)
{
	const char *argv[2] = { "EXISTS", NULL };
	struct queue_stats st;
	redisReply *r = NULL;
	char key[128];

	queue_set_dead_limits(q, 2, 60000);
	kill_job(q, "cap-1");
	clock_sleep_ms(5);
	kill_job(q, "cap-2");
	clock_sleep_ms(5);
	kill_job(q, "cap-3");
	queue_stats(q, &st);
	check(st.dead == 2, "the dead set keeps the newest N", "count not capped");
	snprintf(key, sizeof(key), "%sjob:cap-1", getenv("QUEUE_PREFIX"));
	argv[1] = key;
	check(!redisconn_command(rc, &r, 2, argv, NULL) && r->integer == 0,
	      "the dropped job's hash goes too", "hash left");
	if (r)
		freeReplyObject(r);
	queue_set_dead_limits(q, 100, 1);
	clock_sleep_ms(10);
	kill_job(q, "cap-4");
	queue_stats(q, &st);
	check(st.dead == 1, "dead jobs older than the age limit are dropped",
	      "old ones kept");
	check(!queue_forget_dead(q, "cap-4") &&
	      queue_forget_dead(q, "cap-4") == SC_ERR_NOT_FOUND,
	      "a dead job is forgotten once", "forget");
	queue_stats(q, &st);
	check(st.dead == 0, "nothing dead once forgotten", "dead left");
	queue_set_dead_limits(q, QUEUE_DEAD_MAX, QUEUE_DEAD_MAX_AGE_MS);
}

/* Redis forgets its scripts (as after a restart): the client reloads. */
static void script_flush(struct redisconn *rc)
{
	const char *argv[] = { "SCRIPT", "FLUSH" };
	redisReply *r = NULL;

	check(!redisconn_command(rc, &r, 2, argv, NULL), "SCRIPT FLUSH", "flush");
	if (r)
		freeReplyObject(r);
}

/* The state the shell test reads back with redis-cli. */
static void leave_known_state(struct queue *q)
{
	static const struct queue_retry once = { 1, 60000, 60000 };
	static const struct queue_retry later = { 5, 600000, 600000 };
	struct queue_job job;
	struct queue_stats st;
	int got, dead;

	queue_enqueue(q, "left-dead", NULL);
	queue_lease(q, "w9", 5000, &job, &got);
	queue_fail(q, &job, 0, "s3 unreachable", &once, &dead);
	queue_enqueue(q, "left-scheduled", NULL);
	queue_lease(q, "w9", 5000, &job, &got);
	queue_fail(q, &job, 0, "db timeout", &later, &dead);
	queue_enqueue(q, "left-pending", NULL);
	queue_stats(q, &st);
	check(st.pending == 1 && st.leased == 0 && st.scheduled == 1 && st.dead == 1,
	      "known state left for redis-cli", "counts");
}

int main(void)
{
	const char *url = getenv("REDIS_URL"), *prefix = getenv("QUEUE_PREFIX");
	struct redisconn *rc = NULL;
	struct queue *q = NULL;

	if (!url || !prefix || redisconn_new(url, 2000, &rc) ||
	    queue_new(rc, prefix, &q)) {
		fprintf(stderr, "queue_check: set REDIS_URL and QUEUE_PREFIX\n");
		redisconn_free(rc);
		return 2;
	}
	enqueue_dedup(q);
	lease_complete_fenced(q);
	retry_then_dead(q);
	reap_crashed(q);
	dead_set_is_capped(q, rc);
	script_flush(rc);
	requeue_on_shutdown(q);
	leave_known_state(q);
	printf("%d passed, %d failed\n", passed, failed);
	queue_free(q);
	redisconn_free(rc);
	return failed ? 1 : 0;
}
