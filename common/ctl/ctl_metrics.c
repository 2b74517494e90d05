/*
 * ctl_metrics.c - `showcasectl queue publish-backlog`: the figures the
 * worker group scales on and the alarms watch, sent to CloudWatch in one
 * PutMetricData request (namespace Showcase).
 *
 * From Redis, the queue:
 *   BacklogPerWorker      jobs waiting (pending + scheduled) per live worker,
 *                         what the worker group's target tracking follows.
 *                         With no live worker and jobs waiting it is the
 *                         jobs waiting plus BACKLOG_PER_WORKER_TARGET: above
 *                         the target whatever the backlog (0 when nothing
 *                         waits)
 *   BacklogWithNoWorker   jobs waiting while no worker is live, 0 while any
 *                         is: its alarm scales the group out from zero
 *   DeadJobs, OldestJobAgeSeconds
 * From PostgreSQL, the videos table:
 *   StuckVideos, OldestStuckVideoSeconds
 *                         videos still unfinished VIDEO_STUCK_AFTER_S after
 *                         their upload, and the age of the oldest
 *
 * Every API and worker instance runs it each minute (showcase-backlog.timer),
 * so the figures exist while no worker does.  A source that cannot be read
 * leaves its figures out (missing, never a false 0), the others are still
 * sent, and the command fails saying which.
 */
#include <stdio.h>
#include <string.h>

#include "awscreds.h"
#include "buf.h"
#include "cloudwatch.h"
#include "ctl.h"
#include "db.h"
#include "queue.h"
#include "redisconn.h"
#include "videos.h"

#define NS "Showcase"
#define METRICS_MAX 6

/* What one run measured; a source that could not be read leaves have_* 0. */
struct figures {
	int have_queue, have_videos;
	long long pending, scheduled, dead, workers, oldest_ms;
	long long stuck, oldest_stuck_s;
};

/* On failure err gets Redis's message. */
static enum sc_err read_queue(const struct config *cfg, struct figures *f,
			      struct buf *err)
{
	struct redisconn *rc = NULL;
	struct queue_stats st;
	struct queue *q = NULL;
	enum sc_err e;

	if ((e = redisconn_new(cfg->redis_url, cfg->connect_timeout_ms, &rc))) {
		buf_appends(err, "bad REDIS_URL");
		return e;
	}
	if ((e = queue_new(rc, cfg->queue_prefix, &q))) {
		buf_appends(err, sc_strerror(e));
		goto out_free_conn;
	}
	if ((e = queue_stats(q, &st)) || (e = queue_workers(q, &f->workers)) ||
	    (e = queue_oldest_pending(q, &f->oldest_ms))) {
		buf_appends(err, redisconn_errstr(rc));
		goto out_free_queue;
	}
	f->pending = st.pending;
	f->scheduled = st.scheduled;
	f->dead = st.dead;
	f->have_queue = 1;
out_free_queue:
	queue_free(q);
out_free_conn:
	redisconn_free(rc);
	return e;
}

/* On failure err gets PostgreSQL's message. */
static enum sc_err read_videos(const struct config *cfg, struct figures *f,
			       struct buf *err)
{
	struct db *db = db_open(cfg);
	enum sc_err rc;

	if (!db) {
		buf_appends(err, "out of memory");
		return SC_ERR_NOMEM;
	}
	rc = videos_stuck_summary(db, cfg->video_stuck_after_s, &f->stuck,
				  &f->oldest_stuck_s);
	if (rc)
		buf_appends(err, db_errstr(db));
	else
		f->have_videos = 1;
	db_free(db);
	return rc;
}

/* The jobs waiting per live worker; see the top of the file for none. */
static double backlog_per_worker(long long waiting, long long workers,
				 int target)
{
	if (workers > 0)
		return (double)waiting / (double)workers;
	return waiting > 0 ? (double)(waiting + target) : 0;
}

static void add(struct cloudwatch_metric *m, int *n, const char *name,
		double value, const char *unit)
{
	struct cloudwatch_metric one = { NS, name, value, unit, NULL, NULL };

	m[(*n)++] = one;
}

/* The metrics of what was measured into m; returns how many. */
static int metrics(const struct config *cfg, const struct figures *f,
		   struct cloudwatch_metric *m)
{
	long long waiting = f->pending + f->scheduled;
	int n = 0;

	if (f->have_queue) {
		add(m, &n, "BacklogPerWorker",
		    backlog_per_worker(waiting, f->workers,
				       cfg->backlog_per_worker_target), "Count");
		add(m, &n, "DeadJobs", (double)f->dead, "Count");
		add(m, &n, "OldestJobAgeSeconds",
		    f->oldest_ms > 0 ? f->oldest_ms / 1000.0 : 0, "Seconds");
		add(m, &n, "BacklogWithNoWorker",
		    f->workers > 0 ? 0 : (double)waiting, "Count");
	}
	if (f->have_videos) {
		add(m, &n, "StuckVideos", (double)f->stuck, "Count");
		add(m, &n, "OldestStuckVideoSeconds", (double)f->oldest_stuck_s,
		    "Seconds");
	}
	return n;
}

/* What was sent, one line a metric, as CloudWatch got it. */
static void print_sent(const struct config *cfg, const struct figures *f,
		       const struct cloudwatch_metric *m, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		printf("%s %.6g", m[i].name, m[i].value);
		if (!strcmp(m[i].name, "BacklogPerWorker"))
			printf(" (pending %lld + scheduled %lld over %lld workers)",
			       f->pending, f->scheduled, f->workers);
		else if (!strcmp(m[i].name, "StuckVideos"))
			printf(" (unfinished %d s after upload)",
			       cfg->video_stuck_after_s);
		putchar('\n');
	}
}

int ctl_publish_backlog(const struct config *cfg)
{
	struct cloudwatch_metric m[METRICS_MAX];
	struct buf err = BUF_INIT(4096);
	struct figures f = { 0 };
	struct awscreds *creds = NULL;
	int n, failed = 0;

	if (read_queue(cfg, &f, &err)) {
		fprintf(stderr, "showcasectl: cannot read the queue (its figures "
			"not sent): %s\n", err.data ? err.data : "");
		failed = 1;
	}
	buf_reset(&err);
	if (read_videos(cfg, &f, &err)) {
		fprintf(stderr, "showcasectl: cannot count stuck videos "
			"(StuckVideos not sent): %s\n", err.data ? err.data : "");
		failed = 1;
	}
	n = metrics(cfg, &f, m);
	if (!n)
		goto out;
	buf_reset(&err);
	creds = awscreds_new(cfg);
	if (!creds) {
		fprintf(stderr, "showcasectl: out of memory\n");
		failed = 1;
		goto out;
	}
	if (cloudwatch_put(cfg, creds, m, n, &err)) {
		fprintf(stderr, "showcasectl: %s\n", err.data ? err.data : "");
		failed = 1;
	} else {
		print_sent(cfg, &f, m, n);
	}
out:
	awscreds_free(creds);
	buf_release(&err);
	return failed;
}
