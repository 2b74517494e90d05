/*
 * ctl_queue.c - `showcasectl queue`: the job queue for admins.
 *
 *   queue stats                    depth of each list
 *   queue list [pending|leased|scheduled|dead] [--limit N]
 *                                  ids in order (sets with their score, ms)
 *   queue show JOB                 the job's fields
 *   queue dead                     dead jobs with why they died
 *   queue retry JOB                a dead job back to pending, its video
 *                                  back to 'uploaded' (a failed video with
 *                                  no job left is queued afresh)
 *   queue retry-dead               every dead job back to pending
 *   queue purge-dead               forget every dead job, its video marked
 *                                  failed with the job's reason first
 *   queue enqueue VIDEO_ID         queue a video's job (no-op if it has one)
 *   queue publish-backlog          send BacklogPerWorker to CloudWatch: jobs
 *                                  waiting (pending + scheduled) per live
 *                                  worker, what the worker group scales on,
 *                                  with the figures the alarms watch
 *                                  (ctl_metrics.c)
 *
 * Everything printed is what redis-cli shows for the same keys
 * (docs/operations.md lists the redis-cli commands side by side).  retry
 * and purge change PostgreSQL too, first, so that no video is left
 * 'processing' without a job or 'failed' with one: they refuse to run
 * while PostgreSQL is unreachable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "db.h"
#include "queue.h"
#include "reconcile.h"
#include "redisconn.h"
#include "videos.h"

static const char usage[] =
	"usage: showcasectl queue stats\n"
	"       showcasectl queue list [pending|leased|scheduled|dead] [--limit N]\n"
	"       showcasectl queue show JOB\n"
	"       showcasectl queue dead\n"
	"       showcasectl queue retry JOB | retry-dead | purge-dead\n"
	"       showcasectl queue enqueue VIDEO_ID\n"
	"       showcasectl queue publish-backlog\n";

static void print_id(const char *id, long long score, void *arg)
{
	(void)arg;
	if (score < 0)
		printf("%s\n", id);
	else
		printf("%s %lld\n", id, score);
}

static void print_field(const char *field, const char *value, void *arg)
{
	(void)arg;
	printf("%s %s\n", field, value);
}

struct dead_walk {
	int ids;
	char (*list)[QUEUE_ID_MAX + 1];
	int cap;
};

static void collect(const char *id, long long score, void *arg)
{
	struct dead_walk *d = arg;

	(void)score;
	if (d->ids < d->cap)
		snprintf(d->list[d->ids++], QUEUE_ID_MAX + 1, "%s", id);
}

/* The fields `queue dead` prints, in its order. */
struct dead_fields {
	char attempt[16], crashes[16], last_error[600];
};

static void keep_dead_fields(const char *field, const char *value, void *arg)
{
	struct dead_fields *d = arg;

	if (!strcmp(field, "attempt"))
		snprintf(d->attempt, sizeof(d->attempt), "%s", value);
	else if (!strcmp(field, "crashes"))
		snprintf(d->crashes, sizeof(d->crashes), "%s", value);
	else if (!strcmp(field, "last_error"))
		snprintf(d->last_error, sizeof(d->last_error), "%s", value);
}

/* The ids of up to 1000 dead jobs, into d (freed by the caller). */
static enum sc_err dead_ids(struct queue *q, struct dead_walk *d)
{
	d->ids = 0;
	d->cap = 1000;
	d->list = calloc((size_t)d->cap, sizeof(*d->list));
	if (!d->list)
		return SC_ERR_NOMEM;
	return queue_list(q, QUEUE_DEAD, d->cap, collect, d);
}

static int dead(struct queue *q)
{
	struct dead_walk d;
	enum sc_err rc;
	int i;

	if (!(rc = dead_ids(q, &d))) {
		for (i = 0; i < d.ids; i++) {
			struct dead_fields f = { "", "", "" };

			queue_show(q, d.list[i], keep_dead_fields, &f);
			printf("%s %s %s %s\n", d.list[i], f.attempt, f.crashes,
			       f.last_error);
		}
	}
	free(d.list);
	return rc;
}

/*
 * Bring video/job id back: the row from 'failed' to 'uploaded' first (so
 * the worker will take it), then the dead job back to pending; a video
 * whose dead job is gone already (purged, or capped away) gets a new job.
 * SC_ERR_NOT_FOUND when there is neither a dead job nor a failed video.
 */
static int retry_one(struct db *db, struct queue *q, const char *id)
{
	char state[16];
	int revived = 0, created = 0;
	enum sc_err rc;

	/* Redis first: a live job is not retried, and with Redis away the
	 * row is left as it was */
	rc = queue_job_state(q, id, state, sizeof(state), NULL, 0);
	if (rc && rc != SC_ERR_NOT_FOUND)
		return rc;
	if (!rc && strcmp(state, "dead")) {
		fprintf(stderr, "showcasectl: job %s is %s, not dead: nothing to "
			"retry\n", id, state);
		return 100;
	}
	if (videos_revive(db, id, &revived))
		return SC_ERR_DB;
	rc = rc ? SC_ERR_NOT_FOUND : queue_retry_dead(q, id);
	if (rc == SC_ERR_NOT_FOUND && revived)
		rc = queue_enqueue(q, id, &created);
	if (rc && revived)
		fprintf(stderr, "showcasectl: video %s is 'uploaded' again but its "
			"job could not be queued; run the command again (the "
			"reconciler fails it again meanwhile)\n", id);
	return rc;
}

static int retry_all_dead(struct db *db, struct queue *q)
{
	struct dead_walk d;
	enum sc_err rc;
	int i, n = 0;

	if (!(rc = dead_ids(q, &d))) {
		for (i = 0; i < d.ids && rc != SC_ERR_DB && rc != SC_ERR_REDIS; i++)
			if (!(rc = retry_one(db, q, d.list[i])))
				n++;
		printf("%d back in pending\n", n);
	}
	free(d.list);
	return rc == SC_ERR_NOT_FOUND ? SC_OK : rc;
}

/* Forget the dead jobs, each after its video is failed with its reason:
 * a video left 'processing' would be queued again by the reconciler. */
static int purge_dead(struct db *db, struct queue *q)
{
	struct dead_walk d;
	char state[16], error[600], code[32];
	const char *msg;
	enum sc_err rc;
	int i, n = 0, applied;

	if ((rc = dead_ids(q, &d)))
		goto out;
	for (i = 0; i < d.ids; i++) {
		if (queue_job_state(q, d.list[i], state, sizeof(state), error,
				    sizeof(error)))
			continue;	/* gone meanwhile */
		msg = reconcile_public_message(code, reconcile_split_error(error, code,
									  sizeof(code)));
		if (videos_fail_unfinished(db, d.list[i], 0, code, msg, &applied)) {
			rc = SC_ERR_DB;
			break;
		}
		if (!queue_forget_dead(q, d.list[i]))
			n++;
	}
	printf("%d purged\n", n);
out:
	free(d.list);
	return rc;
}

static int which_list(const char *s, enum queue_list *w)
{
	static const char *const names[] = { "pending", "leased", "scheduled", "dead" };
	int i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(s, names[i])) {
			*w = (enum queue_list)i;
			return 0;
		}
	}
	return -1;
}

static int run(const struct config *cfg, struct queue *q, struct db *db,
	       int argc, char **argv)
{
	struct queue_stats st;
	enum queue_list w = QUEUE_PENDING;
	int n = 0, limit = 100, i;

	if (!strcmp(argv[0], "stats")) {
		if (queue_stats(q, &st))
			return SC_ERR_REDIS;
		printf("pending %lld\nleased %lld\nscheduled %lld\ndead %lld\n",
		       st.pending, st.leased, st.scheduled, st.dead);
		return SC_OK;
	}
	if (!strcmp(argv[0], "list")) {
		for (i = 1; i < argc; i++) {
			if (!strcmp(argv[i], "--limit") && i + 1 < argc)
				limit = atoi(argv[++i]);
			else if (which_list(argv[i], &w) < 0)
				return SC_ERR_INVALID;
		}
		return queue_list(q, w, limit, print_id, NULL);
	}
	if (!strcmp(argv[0], "show") && argc == 2)
		return queue_show(q, argv[1], print_field, NULL);
	if (!strcmp(argv[0], "dead"))
		return dead(q);
	if (!strcmp(argv[0], "retry") && argc == 2)
		return retry_one(db, q, argv[1]);
	if (!strcmp(argv[0], "retry-dead"))
		return retry_all_dead(db, q);
	if (!strcmp(argv[0], "purge-dead"))
		return purge_dead(db, q);
	if (!strcmp(argv[0], "publish-backlog"))
		return ctl_publish_backlog(cfg) ? 100 : SC_OK;
	if (!strcmp(argv[0], "enqueue") && argc == 2) {
		if (queue_enqueue(q, argv[1], &n))
			return SC_ERR_INVALID;
		printf("%s\n", n ? "queued" : "exists");
		return SC_OK;
	}
	return -1;
}

int ctl_queue(const struct config *cfg, int argc, char **argv)
{
	struct redisconn *rc = NULL;
	struct queue *q = NULL;
	struct db *db = NULL;
	int r;

	if (argc < 1) {
		fputs(usage, stderr);
		return 2;
	}
	if (redisconn_new(cfg->redis_url, cfg->connect_timeout_ms, &rc) ||
	    queue_new(rc, cfg->queue_prefix, &q) ||
	    !(db = db_open(cfg))) {
		fprintf(stderr, "showcasectl: cannot set up the queue client\n");
		queue_free(q);
		redisconn_free(rc);
		return 1;
	}
	r = run(cfg, q, db, argc, argv);
	if (r < 0)
		fputs(usage, stderr);
	else if (r == SC_ERR_NOT_FOUND)
		fprintf(stderr, "showcasectl: no such job: %s\n", argc > 1 ? argv[1] : "");
	else if (r == SC_ERR_INVALID)
		fprintf(stderr, "showcasectl: bad argument\n%s", usage);
	else if (r == SC_ERR_DB)
		fprintf(stderr, "showcasectl: postgresql: %s (nothing changed for "
			"the jobs not reported above)\n", db_errstr(db));
	else if (r && r != 100)	/* 100: the message is printed already */
		fprintf(stderr, "showcasectl: %s\n", redisconn_errstr(rc));
	db_free(db);
	queue_free(q);
	redisconn_free(rc);
	return r < 0 || r == SC_ERR_INVALID ? 2 : r ? 1 : 0;
}
