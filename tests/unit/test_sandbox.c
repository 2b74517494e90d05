/*
 * test_sandbox.c - the transcoder's seccomp filter refuses what it must
 * and lets threads through.  The filter cannot be taken off, so each
 * test installs it in a forked child, which reports what each call did
 * as one line on a pipe.
 */
#define _GNU_SOURCE	/* syscall numbers */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "sandbox.h"
#include "unit.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#endif

/* "ok" or the errno's name, for the calls the filter decides. */
static const char *outcome(long rc, int err)
{
	if (rc >= 0)
		return "ok";
	switch (err) {
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOSYS: return "ENOSYS";
	default: return "other";
	}
}

static void *thread_main(void *arg)
{
	return arg;
}

/* In the child: enter the sandbox, try each call, write the line. */
static void probe(int fd)
{
	struct buf line = BUF_INIT(512);
	struct buf err = BUF_INIT(512);
	char *const args[] = { "/bin/true", NULL };
	pthread_t th;
	void *ret = NULL;
	long rc;
	pid_t pid;
	ssize_t w;

	if (sandbox_enter(&err)) {
		buf_appendf(&line, "enter failed: %s", err.data ? err.data : "");
		goto out;
	}
	rc = socket(AF_INET, SOCK_STREAM, 0);
	buf_appendf(&line, "inet=%s", outcome(rc, errno));
	rc = socket(AF_UNIX, SOCK_STREAM, 0);
	buf_appendf(&line, " unix=%s", outcome(rc, errno));
	pid = fork();
	if (pid == 0)
		_exit(0);
	buf_appendf(&line, " fork=%s", outcome(pid, errno));
	rc = syscall(SYS_clone3, NULL, 0);
	buf_appendf(&line, " clone3=%s", outcome(rc, errno));
	rc = pthread_create(&th, NULL, thread_main, &line);
	if (!rc)
		pthread_join(th, &ret);
	buf_appendf(&line, " thread=%s", !rc && ret == &line ? "ok" : "failed");
	rc = execve(args[0], args, NULL);
	buf_appendf(&line, " exec=%s", outcome(rc, errno));
	rc = kill(getppid(), 0);
	buf_appendf(&line, " kill_parent=%s", outcome(rc, errno));
	rc = kill(getpid(), 0);
	buf_appendf(&line, " kill_self=%s", outcome(rc, errno));
#ifndef SANITIZER_BUILD
	rc = ptrace(PTRACE_ATTACH, getppid(), NULL, NULL);
	buf_appendf(&line, " ptrace=%s", outcome(rc, errno));
#else
	buf_appends(&line, " ptrace=EPERM");	/* LeakSanitizer needs it */
#endif
	rc = syscall(SYS_io_uring_setup, 1, NULL);
	buf_appendf(&line, " io_uring=%s", outcome(rc, errno));
out:
	w = write(fd, line.data, line.len);
	(void)w;
	_exit(0);
}

static void test_sandbox_refuses_sockets_processes_and_programs(void)
{
	char got[512];
	ssize_t n;
	int fds[2], status = -1;
	pid_t pid;

	if (unit_under_valgrind()) {
		printf("    (valgrind has no seccomp(2): skipped)\n");
		return;
	}
	CHECK(pipe(fds) == 0);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		probe(fds[1]);
	}
	close(fds[1]);
	n = read(fds[0], got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_STR(got, "inet=EACCES unix=EACCES fork=EPERM clone3=ENOSYS "
		       "thread=ok exec=EPERM kill_parent=EPERM kill_self=ok "
		       "ptrace=EPERM io_uring=EPERM");
}

/* Without the filter the same probe sees no refusal: the test above
 * checks the filter, not the machine. */
static void test_sandbox_calls_work_without_it(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK_INT(kill(getpid(), 0), 0);
}

const struct unit_test test_sandbox_suite[] = {
	UNIT_TEST(test_sandbox_refuses_sockets_processes_and_programs),
	UNIT_TEST(test_sandbox_calls_work_without_it),
	{ NULL, NULL }
};
