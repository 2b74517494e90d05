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
#include "hls.h"
#include "hls_ladder.h"
#include "job.h"
#include "lease.h"
#include "log.h"
#include "reason.h"
#include "reconcile.h"
#include "videos.h"

#define KEY_MAX 512

/* The files of one job, in its private directory. */
struct job_files {
	char dir[1024];
	char source[1100], video[1100], poster[1100], report[1100];
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

	if (child_read_output(path, &b)) {
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

/* Is it time to hand the job back (SIGTERM and the grace period over)? */
static int handback_due(const struct job_env *env)
{
	long long at = atomic_load(env->handback_at);

	return at && clock_ms() >= at;
}

/* The S3 client's cancel predicate: the job is no longer ours to work
 * on, or must be handed back now. */
static int should_stop(void *arg)
{
	const struct job_env *env = arg;

	return lease_lost(env->lease) || handback_due(env);
}

/* The transcoder's watcher: relay progress, stop when should_stop. */
static int tick(int progress, void *arg)
{
	struct job_env *env = arg;

	lease_progress(env->lease, progress);
	return should_stop(env);
}

/* The job failed for a reason retrying may cure. */
static enum job_outcome retry(struct job_env *env, const struct queue_job *job,
			      const char *code, const char *msg)
{
	struct queue_retry policy = { env->cfg->worker_max_attempts,
				      env->cfg->worker_retry_base_ms,
				      env->cfg->worker_retry_cap_ms };
	char line[600];
	int dead = 0, applied = 0;
	enum sc_err rc;

	snprintf(line, sizeof(line), "%s: %s", code, msg);
	rc = queue_fail(env->queue, job, 0, line, &policy, &dead);
	if (rc == SC_ERR_CONFLICT) {
		log_warn("attempt %d failed (%s), but the job is no longer ours",
			 job->attempt, line);
		return JOB_LOST;
	}
	if (rc) {
		/* the lease will expire and the reaper will try again */
		log_error("cannot record the failure (%s): %s", line,
			  redisconn_errstr(env->redis));
		return JOB_RETRY;
	}
	if (!dead) {
		log_warn("attempt %d failed, will retry: %s", job->attempt, line);
		return JOB_RETRY;
	}
	/* dead: no attempt can follow, so whatever the row's attempt; the
	 * owner reads the plain sentence, the detail stays in the job */
	if (videos_fail_unfinished(env->db, job->video_id, 0, code,
				   reconcile_public_message(code, msg), &applied))
		log_error("dead, but the video cannot be marked failed (%s); "
			  "the reconciler will: %s", db_errstr(env->db), line);
	log_error("dead after %d attempts: %s", job->attempt, line);
	return JOB_FAILED;
}

/* The lease is gone, or the job must be handed back: say which. */
static enum job_outcome stopped(struct job_env *env, const struct queue_job *job)
{
	if (lease_lost(env->lease))
		return JOB_LOST;
	if (queue_requeue(env->queue, job))
		log_warn("cannot hand the job back; its lease will expire");
	log_info("handed back at the head of the queue");
	return JOB_HANDED_BACK;
}

/* How long a finished job waits, holding its lease, for PostgreSQL to
 * come back before its result is written (ms). */
#define DB_WAIT_MS (5 * 60 * 1000)
#define DB_WAIT_STEP_MS 2000

/*
 * A write of a finished job's result failed.  If PostgreSQL is away (the
 * probe fails too), wait for it rather than spend an attempt redoing the
 * whole transcode: 1 when it is back (write again), 0 when it was not an
 * outage, the lease is lost, or DB_WAIT_MS passed (retry as usual).
 */
static int db_came_back(struct job_env *env)
{
	long long until = clock_ms() + DB_WAIT_MS;

	if (db_ping(env->db) == SC_OK)
		return 0;
	log_warn("postgresql unreachable (%s): the result waits for it",
		 db_errstr(env->db));
	while (clock_ms() < until && !should_stop(env)) {
		clock_sleep_ms(DB_WAIT_STEP_MS);
		if (db_ping(env->db) == SC_OK) {
			log_info("postgresql back: writing the result");
			return 1;
		}
	}
	return 0;
}

static enum sc_err upload(struct job_env *env, const char *path,
			  const char *key, const char *type)
{
	long long size;
	enum sc_err rc;
	int fd = child_open_output(path);

	if (fd < 0)
		return SC_ERR_IO;
	rc = s3_put_file(env->s3, key, fd, type, &size);
	close(fd);
	return rc;
}

/*
 * Remove the outputs of attempt (best effort: they are unreferenced).
 * Cleaning up must not be cancelled with the work it cleans up after, so
 * the lease's cancel predicate is off meanwhile.
 */
static void remove_outputs(struct job_env *env, const char *id, int attempt)
{
	char key[VIDEO_KEY_MAX];
	enum video_object o;
	long n = 0;

	s3_set_cancel(env->s3, NULL, NULL);
	for (o = VIDEO_PROCESSED; o <= VIDEO_POSTER; o++) {
		videos_key(o, id, attempt, key);
		if (s3_delete_object(env->s3, key))
			log_warn("cannot remove %s: %s", key, s3_errstr(env->s3));
	}
	videos_hls_prefix(id, attempt, key);
	if (s3_delete_prefix(env->s3, key, &n))
		log_warn("cannot remove %s: %s", key, s3_errstr(env->s3));
	s3_set_cancel(env->s3, should_stop, env);
}

/* A playlist the transcoder wrote, as a string member of obj. */
static enum sc_err add_playlist(cJSON *obj, const char *member, const char *dir,
				const char *file)
{
	struct buf b = BUF_INIT(1 << 20);
	char path[1400];
	enum sc_err rc;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	rc = child_read_output(path, &b);
	if (!rc && !cJSON_AddStringToObject(obj, member, b.data ? b.data : ""))
		rc = SC_ERR_NOMEM;
	buf_release(&b);
	return rc;
}

/* Upload one HLS file: dir/<name><ext> to <prefix><name><ext>. */
static enum sc_err upload_hls_file(struct job_env *env, const char *dir,
				   const char *prefix, const char *name,
				   const char *ext, const char *type)
{
	char path[1400], key[VIDEO_KEY_MAX + HLS_NAME_MAX + 8];

	snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext);
	snprintf(key, sizeof(key), "%s%s%s", prefix, name, ext);
	return upload(env, path, key, type);
}

/*
 * Store the HLS files the transcoder wrote into dir under the attempt's
 * prefix, and describe them for the row (migrations/010_hls.up.sql): *json
 * is then the caller's (free()), or NULL when HLS_LADDER is "off".
 * SC_ERR_S3 or SC_ERR_CANCELLED from S3; SC_ERR_IO or SC_ERR_NOMEM when
 * the playlists cannot be read.
 */
static enum sc_err store_hls(struct job_env *env, const char *id, int attempt,
			     const char *dir, char **json)
{
	static const char m3u8[] = "application/vnd.apple.mpegurl";
	char prefix[VIDEO_KEY_MAX], why[160];
	struct hls_ladder l;
	cJSON *root, *media;
	enum sc_err rc = SC_OK;
	int i;

	*json = NULL;
	/* validated at start-up; the transcoder parsed the same value */
	if (hls_ladder_parse(env->cfg->hls_ladder, &l, why, sizeof(why)) ||
	    !l.enabled)
		return SC_OK;
	videos_hls_prefix(id, attempt, prefix);
	root = cJSON_CreateObject();
	media = root ? cJSON_AddObjectToObject(root, "media") : NULL;
	if (!media || !cJSON_AddStringToObject(root, "prefix", prefix)) {
		rc = SC_ERR_NOMEM;
		goto out;
	}
	for (i = -1; i < l.n && !rc; i++) {
		const char *name = i < 0 ? HLS_TOP_NAME : l.rung[i].name;
		char file[HLS_NAME_MAX + 8];

		snprintf(file, sizeof(file), "%s.m3u8", name);
		rc = upload_hls_file(env, dir, prefix, name, ".m4s", "video/mp4");
		if (!rc)
			rc = upload_hls_file(env, dir, prefix, name, ".m3u8", m3u8);
		if (!rc)
			rc = add_playlist(media, name, dir, file);
	}
	if (!rc)
		rc = upload_hls_file(env, dir, prefix, "master", ".m3u8", m3u8);
	if (!rc)
		rc = add_playlist(root, "master", dir, HLS_MASTER);
	if (!rc && !(*json = cJSON_PrintUnformatted(root)))
		rc = SC_ERR_NOMEM;
out:
	cJSON_Delete(root);
	return rc;
}

/* Earlier attempts may have stored outputs before they failed or were
 * lost; once this attempt's are current, those are garbage. */
#define OLD_ATTEMPTS_SWEPT 20

/* The transcoder succeeded: store the outputs, then the row, then ack. */
static enum job_outcome finish_processed(struct job_env *env,
					 const struct queue_job *job, int attempt,
					 const struct job_files *f)
{
	char vkey[VIDEO_KEY_MAX], pkey[VIDEO_KEY_MAX];
	char *report, *hls = NULL;
	int applied = 0, exists = 1, a;
	enum sc_err rc;

	/* this attempt's own keys: a stale attempt cannot overwrite a newer
	 * one's outputs, only the fenced update below makes them current */
	videos_key(VIDEO_PROCESSED, job->video_id, attempt, vkey);
	videos_key(VIDEO_POSTER, job->video_id, attempt, pkey);
	if ((rc = upload(env, f->video, vkey, "video/mp4")) ||
	    (rc = upload(env, f->poster, pkey, "image/jpeg")) ||
	    (rc = store_hls(env, job->video_id, attempt, f->dir, &hls))) {
		if (rc == SC_ERR_CANCELLED || should_stop(env)) {
			remove_outputs(env, job->video_id, attempt);
			return stopped(env, job);
		}
		if (rc == SC_ERR_IO || rc == SC_ERR_NOMEM) {
			remove_outputs(env, job->video_id, attempt);
			return retry(env, job, "io", "cannot read the transcoder's outputs");
		}
		return retry(env, job, "s3", s3_errstr(env->s3));
	}
	if (lease_lost(env->lease)) {
		free(hls);
		remove_outputs(env, job->video_id, attempt);
		return JOB_LOST;
	}
	report = read_report(f->report);
	do
		rc = videos_processed(env->db, job->video_id, attempt, vkey, pkey,
				      hls, report ? report : "{}", &applied);
	while (rc && db_came_back(env));
	free(report);
	free(hls);
	if (rc)
		return retry(env, job, "db", db_errstr(env->db));
	if (!applied) {
		/* fenced off: a newer attempt, an admin or the owner changed
		 * the row; what this attempt stored is nobody's */
		remove_outputs(env, job->video_id, attempt);
		videos_exists(env->db, job->video_id, &exists);
		if (!exists)
			log_info("video deleted while processing; its outputs removed");
		else
			log_warn("video changed under us (attempt %d is stale); "
				 "its outputs removed", attempt);
		queue_complete(env->queue, job);
		return JOB_LOST;
	}
	for (a = attempt - 1; a >= 1 && a >= attempt - OLD_ATTEMPTS_SWEPT; a--)
		remove_outputs(env, job->video_id, a);
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
	enum sc_err rc;

	report_message(report, msg, sizeof(msg));
	do
		rc = videos_failed(env->db, job->video_id, attempt, reason, msg,
				   report, &applied);
	while (rc && db_came_back(env));
	if (rc) {
		free(report);
		return retry(env, job, "db", db_errstr(env->db));
	}
	free(report);
	queue_fail(env->queue, job, 1, reason, &none, NULL);
	log_info("refused: %s: %s", reason, msg);
	return applied ? JOB_FAILED : JOB_LOST;
}

/* Fetch the original into f->source. */
static enum sc_err download(struct job_env *env, const char *key,
			    const struct job_files *f, const char **why)
{
	enum sc_err rc;
	int fd = open(f->source, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		*why = strerror(errno);
		return SC_ERR_IO;
	}
	rc = s3_get_to_fd(env->s3, key, -1, -1, fd, NULL);
	close(fd);
	*why = s3_errstr(env->s3);
	return rc;
}

/* Everything between the lease and its settlement (see job.h). */
static enum job_outcome run_leased(struct job_env *env,
				   const struct queue_job *job)
{
	const struct config *cfg = env->cfg;
	struct child_limits lim = { (long long)cfg->worker_memory_mb << 20,
				    (long long)cfg->worker_job_timeout_s * 1000,
				    env->sandbox };
	struct child_result res;
	struct job_files f;
	char key[KEY_MAX], detail[64];
	const char *why;
	int attempt = 0, found = 0;
	enum job_outcome out;
	enum sc_err rc;
	char *argv[13];

	if (videos_start(env->db, job->video_id, &attempt, key, sizeof(key), &found)) {
		/* PostgreSQL away (the probe fails too): nothing was done,
		 * so the job goes back without spending an attempt */
		if (db_ping(env->db) != SC_OK) {
			log_warn("postgresql unreachable (%s): job handed back",
				 db_errstr(env->db));
			if (queue_requeue(env->queue, job))
				log_warn("cannot hand the job back; its lease will expire");
			return JOB_HANDED_BACK;
		}
		return retry(env, job, "db", db_errstr(env->db));
	}
	if (!found) {
		log_info("video is gone or finished already; dropping the job");
		queue_complete(env->queue, job);
		return JOB_LOST;
	}
	if (make_files(&f, cfg->worker_tmp_dir, job->video_id) < 0)
		return retry(env, job, "io", strerror(errno));

	rc = download(env, key, &f, &why);
	if (rc == SC_ERR_CANCELLED || should_stop(env)) {
		out = stopped(env, job);
		goto out_clean;
	}
	if (rc) {
		out = retry(env, job, "s3", why);
		goto out_clean;
	}

	/* the transcoder's user must read the source and write beside it */
	if (child_grant_dir(env->sandbox, f.dir)) {
		out = retry(env, job, "io", strerror(errno));
		goto out_clean;
	}
	argv[0] = (char *)env->transcoder;
	argv[1] = "--sandbox";
	argv[2] = "--progress-fd";
	argv[3] = "3";
	argv[4] = "--poster";
	argv[5] = f.poster;
	argv[6] = "--report";
	argv[7] = f.report;
	argv[8] = "--hls";
	argv[9] = f.dir;
	argv[10] = f.source;
	argv[11] = f.video;
	argv[12] = NULL;
	if (child_run(argv, &lim, tick, env, &res)) {
		out = retry(env, job, "internal", "cannot start the transcoder");
		goto out_clean;
	}
	if (should_stop(env)) {
		out = stopped(env, job);
	} else if (res.exited && res.code == 0) {
		out = finish_processed(env, job, attempt, &f);
	} else if (res.exited && tc_reason_permanent(tc_reason_from_exit(res.code))) {
		out = finish_refused(env, job, attempt, &f, tc_reason_from_exit(res.code));
	} else if (res.timed_out) {
		atomic_fetch_add(env->crashes, 1);
		snprintf(detail, sizeof(detail), "killed after %d s",
			 cfg->worker_job_timeout_s);
		out = retry(env, job, "timeout", detail);
	} else if (res.signal) {
		atomic_fetch_add(env->crashes, 1);
		snprintf(detail, sizeof(detail), "the transcoder died of signal %d",
			 res.signal);
		out = retry(env, job, "crashed", detail);
	} else {
		snprintf(detail, sizeof(detail), "the transcoder exited %d", res.code);
		out = retry(env, job, "internal", detail);
	}
out_clean:
	remove_dir(f.dir);
	return out;
}

enum job_outcome job_run(struct job_env *env, const struct queue_job *job)
{
	enum job_outcome out;

	if (lease_keep(env->lease, job, env->cfg->worker_lease_ms)) {
		log_error("cannot start the lease keeper; handing the job back");
		queue_requeue(env->queue, job);
		return JOB_HANDED_BACK;
	}
	s3_set_cancel(env->s3, should_stop, env);
	out = run_leased(env, job);
	s3_set_cancel(env->s3, NULL, NULL);
	lease_release(env->lease);
	return out;
}
