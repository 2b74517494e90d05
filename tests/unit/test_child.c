/*
 * test_child.c - the transcoder's child process: what it inherits (only
 * the transcoder's settings, descriptors 0 to 3, no blocked or ignored
 * signal, its limits, another user when run by root), how it is stopped,
 * and how the worker hands it the job directory and reads its outputs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "child.h"
#include "unit.h"

/* The worker's environment, secrets and all. */
static char *const worker_env[] = {
	"DATABASE_URL=postgresql://showcase:pw@db/showcase",
	"REDIS_URL=redis://:pw@redis:6379/0",
	"AWS_ACCESS_KEY_ID=AKIA", "AWS_SECRET_ACCESS_KEY=secret",
	"JWT_SECRET=0123456789abcdef0123456789abcdef",
	"PATH=/home/x/bin:/usr/bin", "HOME=/root", "LD_PRELOAD=/tmp/evil.so",
	"LOG_LEVEL=debug", "TRANSCODE_CRF=30", "WATERMARK_SIZE=10",
	"POLICY_MAX_PIXELS=50000", "WORKER_MEMORY_MB=0",
	"TRANSCODE_CRFX=1", "NOVALUE", "=x", "ASAN_OPTIONS=detect_leaks=1",
	NULL
};

/* A sandbox for these tests: another user when run as root. */
static struct child_sandbox *sandbox(void)
{
	struct buf err = BUF_INIT(512);
	struct child_sandbox *sb = NULL;

	CHECK_INT(child_sandbox_new(geteuid() == 0 ? "nobody" : "", worker_env,
				    &sb, &err), SC_OK);
	buf_release(&err);
	return sb;
}

static void test_child_env_is_the_transcoders_settings_only(void)
{
	struct child_sandbox *sb = sandbox();
	struct buf all = BUF_INIT(4096);
	char *const *e;

	if (!sb)
		return;
	for (e = child_sandbox_env(sb); *e; e++)
		buf_appendf(&all, "%s%s", all.len ? " " : "", *e);
	CHECK_STR(all.data, "LOG_LEVEL=debug TRANSCODE_CRF=30 WATERMARK_SIZE=10 "
			    "POLICY_MAX_PIXELS=50000 ASAN_OPTIONS=detect_leaks=1 "
			    "PATH=/usr/bin:/bin");
	buf_release(&all);
	child_sandbox_free(sb);
}

static void test_child_unknown_user_is_refused(void)
{
	struct buf err = BUF_INIT(512);
	struct child_sandbox *sb = NULL;
	enum sc_err rc = child_sandbox_new("no-such-user-here", worker_env, &sb,
					   &err);

	if (geteuid() == 0) {
		CHECK_INT(rc, SC_ERR_NOT_FOUND);
		CHECK(sb == NULL);
		CHECK(err.data && strstr(err.data, "WORKER_TRANSCODE_USER: no such "
					 "user 'no-such-user-here'"));
	} else {
		CHECK_INT(rc, SC_OK);	/* only root changes user */
	}
	child_sandbox_free(sb);
	buf_release(&err);
}

/* What a child saw, written by a shell into dir/rec. */
static const char record_script[] =
	"exec >\"$1/rec\" 2>&1\n"
	"echo \"uid $(id -u)\"\n"
	"env | sed 's/^/env /'\n"
	"ls -l /proc/self/fd | awk 'NR > 1 { print \"fd\", $9, $11 }'\n"
	"grep -E '^Max (open files|file size|core file size)' /proc/self/limits\n";

/* Under valgrind the child runs valgrind's emulation up to its exec, and
 * that refuses to lower the descriptor limit: the child cannot be set up. */
static int skipped_under_valgrind(void)
{
	if (unit_under_valgrind())
		printf("    (valgrind cannot set a child's limits: skipped)\n");
	return unit_under_valgrind();
}

static void read_record(const char *dir, const char *name, struct buf *rec)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK_INT(buf_read_file(rec, path, NULL), SC_OK);
	unlink(path);
}

static void test_child_inherits_nothing_of_the_worker(void)
{
	char dir[] = "/tmp/sc-child-XXXXXX", want[64], status[64];
	char *argv[] = { "/bin/sh", "-c", (char *)record_script, "sh", dir, NULL };
	/* a shell sets its own signal mask: the mask is seen through a
	 * program that leaves it alone */
	char *copy[] = { "/bin/cp", "/proc/self/status", status, NULL };
	struct child_sandbox *sb = sandbox();
	struct child_limits lim = { 0, 10000, sb };
	struct child_result res;
	struct buf rec = BUF_INIT(1 << 16), st = BUF_INIT(1 << 16);
	sigset_t term, old;
	void (*old_pipe)(int);
	int sock, fds = 0;
	const char *p;

	if (skipped_under_valgrind() || !sb || !mkdtemp(dir))
		goto out;
	chmod(dir, 01777);	/* the child may be another user */
	snprintf(status, sizeof(status), "%s/status", dir);
	/* the worker's state: SIGTERM blocked, SIGPIPE ignored, a socket
	 * without close-on-exec (as hiredis leaves them) */
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigprocmask(SIG_BLOCK, &term, &old);
	old_pipe = signal(SIGPIPE, SIG_IGN);
	sock = socket(AF_UNIX, SOCK_STREAM, 0);

	CHECK_INT(child_run(argv, &lim, NULL, NULL, &res), SC_OK);
	CHECK(res.exited && res.code == 0);
	CHECK_INT(child_run(copy, &lim, NULL, NULL, &res), SC_OK);
	CHECK(res.exited && res.code == 0);

	close(sock);
	signal(SIGPIPE, old_pipe);
	sigprocmask(SIG_SETMASK, &old, NULL);
	read_record(dir, "rec", &rec);
	read_record(dir, "status", &st);
	rmdir(dir);
	if (!rec.data || !st.data)
		goto out;
	snprintf(want, sizeof(want), "uid %d\n",
		 geteuid() == 0 ? 65534 : (int)geteuid());
	CHECK(!strncmp(rec.data, want, strlen(want)));
	CHECK(strstr(rec.data, "env TRANSCODE_CRF=30\n"));
	CHECK(strstr(rec.data, "env PATH=/usr/bin:/bin\n"));
	CHECK(!strstr(rec.data, "DATABASE_URL"));
	CHECK(!strstr(rec.data, "REDIS_URL"));
	CHECK(!strstr(rec.data, "AWS_"));
	CHECK(!strstr(rec.data, "JWT_SECRET"));
	CHECK(!strstr(rec.data, "LD_PRELOAD"));
	CHECK(!strstr(rec.data, "socket:"));
	CHECK(strstr(rec.data, "fd 0 /dev/null\n"));
	CHECK(strstr(rec.data, "fd 3 pipe:"));
	/* 0 to 3, and the directory ls reads */
	for (p = rec.data; (p = strstr(p, "\nfd ")); p++)
		fds++;
	CHECK_INT(fds, 5);
	CHECK(strstr(rec.data, "/fd\n"));
	CHECK(strstr(st.data, "SigBlk:\t0000000000000000\n"));
	CHECK(strstr(st.data, "SigIgn:\t0000000000000000\n"));
	CHECK(strstr(st.data, "NoNewPrivs:\t1\n"));
	CHECK(strstr(rec.data, "Max open files            64                   64"));
	CHECK(strstr(rec.data, "Max file size             1073741824           1073741824"));
	CHECK(strstr(rec.data, "Max core file size        0                    0"));
	if (strstr(rec.data, "socket:") || fds != 5)
		printf("%s", rec.data);
out:
	buf_release(&rec);
	buf_release(&st);
	child_sandbox_free(sb);
}

/* Ticks see the progress lines; the deadline and a tick stop a child. */
static int last_pct;

static int watch(int pct, void *arg)
{
	last_pct = pct;
	return arg != NULL;
}

static void test_child_progress_deadline_and_stop(void)
{
	char *progress[] = { "/bin/sh", "-c", "echo 'progress 42' >&3; sleep 0.3",
			     NULL };
	char *hang[] = { "/bin/sleep", "30", NULL };
	char *missing[] = { "/nonexistent/showcase-transcode", NULL };
	struct child_sandbox *sb = sandbox();
	struct child_limits lim = { 0, 10000, sb };
	struct child_result res;

	if (skipped_under_valgrind() || !sb)
		goto out;
	CHECK_INT(child_run(progress, &lim, watch, NULL, &res), SC_OK);
	CHECK(res.exited && res.code == 0);
	CHECK_INT(last_pct, 42);

	lim.deadline_ms = 300;
	CHECK_INT(child_run(hang, &lim, watch, NULL, &res), SC_OK);
	CHECK(res.timed_out && res.signal == SIGKILL);

	lim.deadline_ms = 10000;
	CHECK_INT(child_run(hang, &lim, watch, (void *)1, &res), SC_OK);
	CHECK(!res.timed_out && res.signal == SIGKILL);

	/* cannot be run: exit 127, and the log says where it stopped */
	CHECK_INT(child_run(missing, &lim, NULL, NULL, &res), SC_OK);
	CHECK(res.exited && res.code == 127);

	lim.sandbox = NULL;
	CHECK_INT(child_run(hang, &lim, NULL, NULL, &res), SC_ERR_INVALID);
out:
	child_sandbox_free(sb);
}

static void test_child_grant_dir_gives_the_group_not_the_directory(void)
{
	char dir[] = "/tmp/sc-grant-XXXXXX", path[128], link[128];
	struct child_sandbox *sb = sandbox();
	struct stat st;
	int fd;

	if (!sb || !mkdtemp(dir)) {
		child_sandbox_free(sb);
		return;
	}
	snprintf(path, sizeof(path), "%s/source", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	CHECK(symlink("/etc/passwd", link) == 0);
	CHECK_INT(child_grant_dir(sb, dir), SC_OK);
	if (geteuid() == 0) {
		CHECK(stat(dir, &st) == 0 && st.st_uid == 0 && st.st_gid == 65534 &&
		      (st.st_mode & 07777) == 0770);
		CHECK(stat(path, &st) == 0 && st.st_uid == 0 &&
		      st.st_gid == 65534 && (st.st_mode & 07777) == 0640);
		/* a link is not followed */
		CHECK(stat("/etc/passwd", &st) == 0 && st.st_gid == 0);
	} else {	/* the child is the worker's user: nothing to do */
		CHECK(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0700);
	}
	unlink(link);
	unlink(path);
	rmdir(dir);
	child_sandbox_free(sb);
}

static void test_child_outputs_are_read_without_following_links(void)
{
	char dir[] = "/tmp/sc-out-XXXXXX", file[128], link[128], fifo[128];
	struct buf b = BUF_INIT(64);
	int fd;

	if (!mkdtemp(dir))
		return;
	snprintf(file, sizeof(file), "%s/video.mp4", dir);
	snprintf(link, sizeof(link), "%s/poster.jpg", dir);
	snprintf(fifo, sizeof(fifo), "%s/report.json", dir);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0 && write(fd, "{}", 2) == 2);
	if (fd >= 0)
		close(fd);
	CHECK(symlink("/etc/passwd", link) == 0);
	CHECK(mkfifo(fifo, 0600) == 0);

	fd = child_open_output(file);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	errno = 0;
	CHECK(child_open_output(link) < 0 && errno == ELOOP);
	errno = 0;
	CHECK(child_open_output(fifo) < 0 && errno == EINVAL);	/* not blocked */
	CHECK_INT(child_read_output(file, &b), SC_OK);
	CHECK_STR(b.data, "{}");
	CHECK_INT(child_read_output(link, &b), SC_ERR_IO);
	buf_release(&b);
	unlink(file);
	unlink(link);
	unlink(fifo);
	rmdir(dir);
}

const struct unit_test test_child_suite[] = {
	UNIT_TEST(test_child_env_is_the_transcoders_settings_only),
	UNIT_TEST(test_child_unknown_user_is_refused),
	UNIT_TEST(test_child_inherits_nothing_of_the_worker),
	UNIT_TEST(test_child_progress_deadline_and_stop),
	UNIT_TEST(test_child_grant_dir_gives_the_group_not_the_directory),
	UNIT_TEST(test_child_outputs_are_read_without_following_links),
	{ NULL, NULL }
};
