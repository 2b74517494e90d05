/*
 * job.c - run one leased job (see job.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "child.h"
#include "clock.h"
#include "job.h"
#include "log.h"
#include "reason.h"
#include "videos.h"

#define KEY_MAX 512

/* The files of one job, in its private directory. */
struct job_files {
	char dir[1024];
	char source[1100], video[1100], poster[1100], report[1100];
};

/* Lease renewal state, for the child's tick. */
struct renew {
	struct job_env *env;
	const struct queue_job *job;
	long long next_ms;
	int lost;
	int handback;
};

const char *job_outcome_name(enum job_outcome o)
{
	static const char *const names[] = { "processed", "failed", "retry",
					     "handed_back", "lost" };

	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}

static int make_files(struct job_files *f, const char *tmp, const char *id)
{
	/* the pid lets a later worker remove what a killed one left */
	snprintf(f->dir, sizeof(f->dir), "%s/" JOB_DIR_PREFIX "%d-%s-XXXXXX", tmp,
		 (int)getpid(), id);
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->source, sizeof(f->source), "%s/source", f->dir);
	snprintf(f->video, sizeof(f->video), "%s/video.mp4", f->dir);
	snprintf(f->poster, sizeof(f->poster), "%s/poster.jpg", f->dir);
	snprintf(f->report, sizeof(f->report), "%s/report.json", f->dir);
	return 0;
}

/* Remove a job directory and whatever is in it (it has no subdirs). */
static void remove_dir(const char *dir)
{
	char path[1400];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d) {
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	if (rmdir(dir) < 0 && errno != ENOENT)
		log_warn("cannot remove %s: %s", dir, strerror(errno));
}

int job_remove_orphans(const char *tmp)
{
	char path[1100];
	struct dirent *e;
	int pid, removed = 0;
	DIR *d = opendir(tmp);

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, JOB_DIR_PREFIX, strlen(JOB_DIR_PREFIX)))
			continue;
		pid = atoi(e->d_name + strlen(JOB_DIR_PREFIX));
		if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH)
			continue;	/* its worker lives (or is not ours to judge) */
		snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
		remove_dir(path);
		removed++;
	}
	closedir(d);
	return removed;
}

/* The report the transcoder wrote, or NULL; the caller frees it. */
static char *read_report(const char *path)
{
	struct buf b = BUF_INIT(1 << 20);

	if (buf_read_file(&b, path, NULL)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* The report's "message", into out (cap bytes); "" without one. */
static void report_message(const char *report, char *out, size_t cap)
{
	cJSON *root = report ? cJSON_Parse(report) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "message");

	snprintf(out, cap, "%s", cJSON_IsString(m) ? m->valuestring : "");
	cJSON_Delete(root);
}

/* Renew the lease every third of it; stop on a lost lease or hand-back. */
static int tick(int progress, void *arg)
{
	struct renew *r = arg;
	long long now = clock_ms(), at = atomic_load(r->env->handback_at);
	enum sc_err rc;

	if (at && now >= at) {
		r->handback = 1;
		return 1;
	}
	if (now < r->next_ms)
		return 0;
	rc = queue_extend(r->env->queue, r->job, r->env->cfg->worker_lease_ms,
			  progress);
	if (rc == SC_ERR_CONFLICT) {
		log_warn("lease lost at %d%%: another worker has the job", progress);
		r->lost = 1;
		return 1;
	}
	if (rc)	/* Redis away: keep going, try again soon */
		log_warn("cannot renew the lease: %s", redisconn_errstr(r->env->redis));
	r->next_ms = now + (rc ? 1000 : r->env->cfg->worker_lease_ms / 3);
	return 0;
}

/* The job failed for a reason retrying may cure. */
static enum job_outcome retry(struct job_env *env, const struct queue_job *job,
			      int attempt, const char *code, const char *msg)
{
	struct queue_retry policy = { env->cfg->worker_max_attempts,
				      env->cfg->worker_retry_base_ms,
				      env->cfg->worker_retry_cap_ms };
	char line[600];
	int dead = 0, applied = 0;

	snprintf(line, sizeof(line), "%s: %s", code, msg);
	if (queue_fail(env->queue, job, 0, line, &policy, &dead)) {
		/* the lease will expire and the reaper will try again */
		log_error("cannot record the failure (%s): %s", line,
			  redisconn_errstr(env->redis));
		return JOB_RETRY;
	}
	if (!dead) {
		log_warn("attempt %d failed, will retry: %s", job->attempt, line);
		return JOB_RETRY;
	}
	if (attempt > 0)
		videos_failed(env->db, job->video_id, attempt, code, msg, NULL,
			      &applied);
	log_error("dead after %d attempts: %s", job->attempt, line);
	return JOB_FAILED;
}

static enum sc_err upload(struct job_env *env, const char *path,
			  const char *key, const char *type)
{
	long long size;
	enum sc_err rc;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return SC_ERR_IO;
	rc = s3_put_file(env->s3, key, fd, type, &size);
	close(fd);
	return rc;
}

/* The transcoder succeeded: store the outputs, then the row, then ack. */
static enum job_outcome finish_processed(struct job_env *env,
					 const struct queue_job *job, int attempt,
					 const struct job_files *f)
{
	char vkey[VIDEO_KEY_MAX], pkey[VIDEO_KEY_MAX];
	char *report = read_report(f->report);
	int applied = 0;
	enum sc_err rc;

	videos_key(VIDEO_PROCESSED, job->video_id, vkey);
	videos_key(VIDEO_POSTER, job->video_id, pkey);
	if ((rc = upload(env, f->video, vkey, "video/mp4")) ||
	    (rc = upload(env, f->poster, pkey, "image/jpeg"))) {
		free(report);
		return retry(env, job, attempt, "s3", s3_errstr(env->s3));
	}
	rc = videos_processed(env->db, job->video_id, attempt, vkey, pkey,
			      report ? report : "{}", &applied);
	free(report);
	if (rc)
		return retry(env, job, attempt, "db", db_errstr(env->db));
	if (!applied) {
		int exists = 1;

		videos_exists(env->db, job->video_id, &exists);
		if (!exists) {
			/* deleted by its owner mid-job: take back what we
			 * stored after the API removed the rest */
			s3_delete_object(env->s3, vkey);
			s3_delete_object(env->s3, pkey);
			log_info("video deleted while processing; its outputs removed");
		} else {
			log_warn("video changed under us (attempt %d is stale)",
				 attempt);
		}
		queue_complete(env->queue, job);
		return JOB_LOST;
	}
	if (queue_complete(env->queue, job))
		log_warn("processed, but the job could not be acknowledged: %s",
			 redisconn_errstr(env->redis));
	return JOB_PROCESSED;
}

/* The source is at fault: fail the video now, end the job. */
static enum job_outcome finish_refused(struct job_env *env,
				       const struct queue_job *job, int attempt,
				       const struct job_files *f, enum tc_reason why)
{
	static const struct queue_retry none = { 1, 0, 0 };
	char *report = read_report(f->report);
	char msg[512];
	const char *reason = tc_reason_name(why);
	int applied = 0;

	report_message(report, msg, sizeof(msg));
	if (videos_failed(env->db, job->video_id, attempt, reason, msg,
			  report, &applied)) {
		free(report);
		return retry(env, job, attempt, "db", db_errstr(env->db));
	}
	free(report);
	queue_fail(env->queue, job, 1, reason, &none, NULL);
	log_info("refused: %s: %s", reason, msg);
	return applied ? JOB_FAILED : JOB_LOST;
}

enum job_outcome job_run(struct job_env *env, const struct queue_job *job)
{
	const struct config *cfg = env->cfg;
	struct child_limits lim = { (long long)cfg->worker_memory_mb << 20,
				    (long long)cfg->worker_job_timeout_s * 1000 };
	struct renew renew = { env, job, 0, 0, 0 };
	struct child_result res;
	struct job_files f;
	char key[KEY_MAX], detail[64];
	int attempt = 0, found = 0, fd;
	enum job_outcome out;
	enum sc_err rc;
	char *argv[12];

	if (videos_start(env->db, job->video_id, &attempt, key, sizeof(key), &found))
		return retry(env, job, 0, "db", db_errstr(env->db));
	if (!found) {
		log_info("video is gone or finished already; dropping the job");
		queue_complete(env->queue, job);
		return JOB_LOST;
	}
	if (make_files(&f, cfg->worker_tmp_dir, job->video_id) < 0)
		return retry(env, job, attempt, "io", strerror(errno));

	fd = open(f.source, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	rc = fd < 0 ? SC_ERR_IO : s3_get_to_fd(env->s3, key, -1, -1, fd, NULL);
	if (fd >= 0)
		close(fd);
	if (rc) {
		out = retry(env, job, attempt, "s3",
			    fd < 0 ? strerror(errno) : s3_errstr(env->s3));
		goto out_clean;
	}

	argv[0] = (char *)env->transcoder;
	argv[1] = "--progress-fd";
	argv[2] = "3";
	argv[3] = "--poster";
	argv[4] = f.poster;
	argv[5] = "--report";
	argv[6] = f.report;
	argv[7] = f.source;
	argv[8] = f.video;
	argv[9] = NULL;
	renew.next_ms = clock_ms() + cfg->worker_lease_ms / 3;
	if (child_run(argv, &lim, tick, &renew, &res)) {
		out = retry(env, job, attempt, "internal", "cannot start the transcoder");
		goto out_clean;
	}
	if (renew.lost) {
		out = JOB_LOST;
	} else if (renew.handback) {
		if (queue_requeue(env->queue, job))
			log_warn("cannot hand the job back; its lease will expire");
		log_info("handed back at the head of the queue");
		out = JOB_HANDED_BACK;
	} else if (res.exited && res.code == 0) {
		out = finish_processed(env, job, attempt, &f);
	} else if (res.exited && tc_reason_permanent(tc_reason_from_exit(res.code))) {
		out = finish_refused(env, job, attempt, &f, tc_reason_from_exit(res.code));
	} else if (res.timed_out) {
		atomic_fetch_add(env->crashes, 1);
		snprintf(detail, sizeof(detail), "killed after %d s",
			 cfg->worker_job_timeout_s);
		out = retry(env, job, attempt, "timeout", detail);
	} else if (res.signal) {
		atomic_fetch_add(env->crashes, 1);
		snprintf(detail, sizeof(detail), "the transcoder died of signal %d",
			 res.signal);
		out = retry(env, job, attempt, "crashed", detail);
	} else {
		snprintf(detail, sizeof(detail), "the transcoder exited %d", res.code);
		out = retry(env, job, attempt, "internal", detail);
	}
out_clean:
	remove_dir(f.dir);
	return out;
}
