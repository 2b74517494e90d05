/*
 * ctl_videos.c - `showcasectl videos`: videos as PostgreSQL and the queue
 * see them, for the operator on call.
 *
 *   videos stuck [--older-than SECONDS]
 *       videos still unfinished that long after their upload (default
 *       VIDEO_STUCK_AFTER_S), oldest first, with what the queue knows of
 *       each: one line per video,
 *       ID STATUS AGE_S ATTEMPT QUEUE_STATE QUEUE_ATTEMPT CRASHES WORKER LAST_ERROR
 *       ("-" where the queue has no job); at most 1000 lines.
 *   videos reconcile [--idle SECONDS]
 *       one whole reconciler pass now (reconcile.h) over the unfinished
 *       videos untouched for SECONDS (default 120): those without a job
 *       are queued again, those whose job is dead are failed.
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
	"usage: showcasectl videos stuck [--older-than SECONDS]\n"
	"       showcasectl videos reconcile [--idle SECONDS]\n";

#define STUCK_LIST_MAX 1000
#define RECONCILE_IDLE_S 120

struct job_view {
	char state[16], attempt[16], crashes[16], worker[300], error[600];
};

static void keep_field(const char *field, const char *value, void *arg)
{
	struct job_view *v = arg;
	struct { const char *name; char *dst; size_t cap; } f[] = {
		{ "state", v->state, sizeof(v->state) },
		{ "attempt", v->attempt, sizeof(v->attempt) },
		{ "crashes", v->crashes, sizeof(v->crashes) },
		{ "worker", v->worker, sizeof(v->worker) },
		{ "last_error", v->error, sizeof(v->error) },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (!strcmp(field, f[i].name) && value[0])
			snprintf(f[i].dst, f[i].cap, "%s", value);
}

struct stuck_walk {
	struct queue *q;
	enum sc_err err;
	int n;
};

static void print_stuck(const char *id, const char *status, long long age_s,
			int attempt, void *arg)
{
	struct stuck_walk *w = arg;
	struct job_view v = { "-", "-", "-", "-", "-" };
	enum sc_err rc = queue_show(w->q, id, keep_field, &v);

	if (rc && rc != SC_ERR_NOT_FOUND && !w->err)
		w->err = rc;
	printf("%s %s %lld %d %s %s %s %s %s\n", id, status, age_s, attempt,
	       rc ? (rc == SC_ERR_NOT_FOUND ? "none" : "?") : v.state,
	       v.attempt, v.crashes, v.worker, v.error);
	w->n++;
}

/* The value after a flag, as seconds; -1 when it is no such number. */
static int seconds(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s && !*end && v >= 0 && v <= 100L * 86400 ? (int)v : -1;
}

int ctl_videos(const struct config *cfg, int argc, char **argv)
{
	struct redisconn *rc = NULL;
	struct queue *q = NULL;
	struct db *db = NULL;
	struct videos_cursor cur = { "", "" };
	struct reconcile_stats st;
	struct stuck_walk w = { NULL, SC_OK, 0 };
	int stuck, s = -1, status = 1;
	enum sc_err err;

	if (argc < 1 || (strcmp(argv[0], "stuck") && strcmp(argv[0], "reconcile")))
		goto usage;
	stuck = !strcmp(argv[0], "stuck");
	if (argc == 3 && !strcmp(argv[1], stuck ? "--older-than" : "--idle"))
		s = seconds(argv[2]);
	else if (argc == 1)
		s = stuck ? cfg->video_stuck_after_s : RECONCILE_IDLE_S;
	if (s < 0)
		goto usage;
	if (redisconn_new(cfg->redis_url, cfg->connect_timeout_ms, &rc) ||
	    queue_new(rc, cfg->queue_prefix, &q) ||
	    !(db = db_open(cfg))) {
		fprintf(stderr, "showcasectl: cannot set up the clients\n");
		goto out;
	}
	if (stuck) {
		w.q = q;
		if (videos_stuck_list(db, s, STUCK_LIST_MAX, print_stuck, &w))
			err = SC_ERR_DB;	/* down, or past its deadline */
		else
			err = w.err;
	} else {
		err = reconcile_pass(db, q, s, 1 << 30, &cur, &st);
		printf("%d unfinished videos: %d queued again, %d failed (their job "
		       "was dead)\n", st.scanned, st.queued, st.failed);
	}
	if (err == SC_ERR_DB)
		fprintf(stderr, "showcasectl: postgresql: %s\n", db_errstr(db));
	else if (err)
		fprintf(stderr, "showcasectl: redis: %s\n", redisconn_errstr(rc));
	status = err ? 1 : 0;
out:
	db_free(db);
	queue_free(q);
	redisconn_free(rc);
	return status;
usage:
	fputs(usage, stderr);
	return 2;
}
