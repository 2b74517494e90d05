/*
 * ctl_queue.c - `showcasectl queue`: the job queue for admins.
 *
 *   queue stats                    depth of each list
 *   queue list [pending|leased|scheduled|dead] [--limit N]
 *                                  ids in order (sets with their score, ms)
 *   queue show JOB                 the job's fields
 *   queue dead                     dead jobs with why they died
 *   queue retry JOB                a dead job back to pending
 *   queue retry-dead               every dead job back to pending
 *   queue purge-dead               forget every dead job
 *   queue enqueue VIDEO_ID         queue a video's job (no-op if it has one)
 *   queue publish-backlog          send BacklogPerWorker to CloudWatch: jobs
 *                                  waiting (pending + scheduled) per live
 *                                  worker, what the worker group scales on;
 *                                  with DeadJobs and OldestJobAgeSeconds,
 *                                  which the alarms watch
 *
 * Everything printed is what redis-cli shows for the same keys
 * (docs/operations.md lists the redis-cli commands side by side).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awscreds.h"
#include "cloudwatch.h"
#include "ctl.h"
#include "queue.h"
#include "redisconn.h"

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

static int retry_all_dead(struct queue *q)
{
	struct dead_walk d;
	enum sc_err rc;
	int i, n = 0;

	if (!(rc = dead_ids(q, &d))) {
		for (i = 0; i < d.ids; i++)
			n += queue_retry_dead(q, d.list[i]) == SC_OK;
		printf("%d back in pending\n", n);
	}
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

/* The autoscaling signal, computed and sent to CloudWatch. */
static int publish_backlog(const struct config *cfg, struct queue *q)
{
	/* the scaling figure, and what the alarms watch */
	struct cloudwatch_metric m[] = {
		{ "Showcase", "BacklogPerWorker", 0, "Count", NULL, NULL },
		{ "Showcase", "DeadJobs", 0, "Count", NULL, NULL },
		{ "Showcase", "OldestJobAgeSeconds", 0, "Seconds", NULL, NULL },
	};
	struct buf err = BUF_INIT(4096);
	struct queue_stats st;
	struct awscreds *creds;
	long long workers = 0, oldest_ms = -1;
	enum sc_err rc;

	if ((rc = queue_stats(q, &st)) || (rc = queue_workers(q, &workers)) ||
	    (rc = queue_oldest_pending(q, &oldest_ms)))
		return rc;
	m[0].value = (double)(st.pending + st.scheduled) / (workers > 0 ? workers : 1);
	m[1].value = (double)st.dead;
	m[2].value = oldest_ms > 0 ? oldest_ms / 1000.0 : 0;
	creds = awscreds_new(cfg);
	if (!creds)
		return SC_ERR_NOMEM;
	rc = cloudwatch_put(cfg, creds, m, 3, &err);
	if (rc)
		fprintf(stderr, "showcasectl: %s\n", err.data ? err.data : "");
	else
		printf("BacklogPerWorker %.6g (pending %lld + scheduled %lld over %lld workers)\n"
		       "DeadJobs %lld\nOldestJobAgeSeconds %.6g\n",
		       m[0].value, st.pending, st.scheduled, workers, st.dead,
		       m[2].value);
	awscreds_free(creds);
	buf_release(&err);
	return rc ? 100 : SC_OK;
}

static int run(const struct config *cfg, struct queue *q, int argc, char **argv)
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
		return queue_retry_dead(q, argv[1]);
	if (!strcmp(argv[0], "retry-dead"))
		return retry_all_dead(q);
	if (!strcmp(argv[0], "purge-dead")) {
		if (queue_purge_dead(q, &n))
			return SC_ERR_REDIS;
		printf("%d purged\n", n);
		return SC_OK;
	}
	if (!strcmp(argv[0], "publish-backlog"))
		return publish_backlog(cfg, q);
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
	int r;

	if (argc < 1) {
		fputs(usage, stderr);
		return 2;
	}
	if (redisconn_new(cfg->redis_url, cfg->connect_timeout_ms, &rc) ||
	    queue_new(rc, cfg->queue_prefix, &q)) {
		fprintf(stderr, "showcasectl: cannot set up the queue client\n");
		redisconn_free(rc);
		return 1;
	}
	r = run(cfg, q, argc, argv);
	if (r < 0)
		fputs(usage, stderr);
	else if (r == SC_ERR_NOT_FOUND)
		fprintf(stderr, "showcasectl: no such job: %s\n", argc > 1 ? argv[1] : "");
	else if (r == SC_ERR_INVALID)
		fprintf(stderr, "showcasectl: bad argument\n%s", usage);
	else if (r && r != 100)	/* 100: the message is printed already */
		fprintf(stderr, "showcasectl: %s\n", redisconn_errstr(rc));
	queue_free(q);
	redisconn_free(rc);
	return r < 0 || r == SC_ERR_INVALID ? 2 : r ? 1 : 0;
}
