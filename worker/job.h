/*
 * job.h - one leased job, start to end.
 *
 * For a leased job: keep its lease alive from another thread for the whole
 * job (lease.h), mark the video 'processing' (a new attempt in
 * PostgreSQL), fetch the original from S3 into a private directory, run
 * showcase-transcode on it in an isolated child (child.h) relaying its
 * progress, upload the clip and poster to the attempt's own keys
 * (videos.h), write the outcome to PostgreSQL fenced by the attempt, and
 * settle the job in Redis.  The directory is removed on every path.
 *
 * Outcomes: the source's fault (too_short, corrupt, ...) fails the video
 * at once; anything else (S3, PostgreSQL, a crash, the deadline) is
 * retried with backoff until the queue dead-letters it, and then the
 * video is marked failed with the code ("s3", "db", "crashed",
 * "timeout", ...).  A lost lease stops the work at once, whatever step it
 * is in, and writes nothing; a stale attempt's outputs are removed.
 */
#ifndef SC_JOB_H
#define SC_JOB_H

#include <stdatomic.h>

#include "child.h"
#include "config.h"
#include "db.h"
#include "lease.h"
#include "queue.h"
#include "redisconn.h"
#include "s3.h"

/* What one worker thread works with; every handle is the thread's own. */
struct job_env {
	const struct config *cfg;
	const char *worker;		/* name in the job's hash */
	const char *transcoder;		/* path of showcase-transcode */
	const struct child_sandbox *sandbox;	/* how it is isolated */
	struct redisconn *redis;
	struct queue *queue;
	struct db *db;
	struct s3_client *s3;
	struct lease_keeper *lease;	/* renews the current job's lease */
	/* shared with the main thread: 0 while running; on SIGTERM the
	 * time (ms, monotonic) by which running jobs must be handed back */
	atomic_llong *handback_at;
	atomic_llong *crashes;		/* transcodes killed by a signal or the deadline */
};

/* Outcome of job_run, for logs and metrics. */
enum job_outcome {
	JOB_PROCESSED,
	JOB_FAILED,		/* the video is failed: bad source or dead */
	JOB_RETRY,		/* scheduled for another attempt */
	JOB_HANDED_BACK,	/* shutdown: back at the head of the queue */
	JOB_LOST,		/* lease lost, or the video is gone or done */
};

enum job_outcome job_run(struct job_env *env, const struct queue_job *job);

const char *job_outcome_name(enum job_outcome o);

/* Job directories are TMP/showcase-job-PID-VIDEO-XXXXXX. */
#define JOB_DIR_PREFIX "showcase-job-"

/*
 * Remove the job directories in tmp whose worker process is gone (killed
 * before it could clean up); returns how many.
 */
int job_remove_orphans(const char *tmp);

#endif
