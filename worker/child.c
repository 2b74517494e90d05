/*
 * child.c - fork, limit, exec, watch, reap.
 */
#define _GNU_SOURCE	/* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"

#define PROGRESS_FD 3

/* In the child, before exec: async-signal-safe calls only. */
static void start(char *const argv[], const struct child_limits *lim, int wfd)
{
	struct rlimit as = { (rlim_t)lim->memory_bytes, (rlim_t)lim->memory_bytes };
	struct rlimit core = { 0, 0 };

	/* a worker killed with SIGKILL takes its transcode with it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (wfd != PROGRESS_FD && dup2(wfd, PROGRESS_FD) < 0)
		_exit(127);
	if (wfd == PROGRESS_FD)
		fcntl(wfd, F_SETFD, 0);
	if (lim->memory_bytes > 0)
		setrlimit(RLIMIT_AS, &as);
	setrlimit(RLIMIT_CORE, &core);
	execv(argv[0], argv);
	_exit(127);
}

/* Read what is there; keep the last "progress N" seen. */
static int read_progress(int fd, char *line, size_t *len, size_t cap, int *pct)
{
	char chunk[256];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	ssize_t i;

	if (n <= 0)
		return n == 0 || (errno != EINTR && errno != EAGAIN) ? 0 : 1;
	for (i = 0; i < n; i++) {
		if (chunk[i] != '\n') {
			if (*len < cap - 1)
				line[(*len)++] = chunk[i];
			continue;
		}
		line[*len] = '\0';
		if (!strncmp(line, "progress ", 9))
			*pct = atoi(line + 9);
		*len = 0;
	}
	return 1;
}

enum sc_err child_run(char *const argv[], const struct child_limits *lim,
		      child_tick tick, void *arg, struct child_result *res)
{
	long long start_ms = clock_ms();
	struct pollfd pfd;
	char line[128];
	size_t len = 0;
	int fds[2], status, pct = 0, open_pipe = 1, killed = 0;
	pid_t pid, reaped;

	memset(res, 0, sizeof(*res));
	if (pipe2(fds, O_CLOEXEC) < 0)
		return SC_ERR_IO;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return SC_ERR_IO;
	}
	if (pid == 0)
		start(argv, lim, fds[1]);
	close(fds[1]);
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		if (open_pipe && poll(&pfd, 1, 1000) > 0)
			open_pipe = read_progress(fds[0], line, &len, sizeof(line), &pct);
		else if (!open_pipe)
			poll(NULL, 0, 200);
		reaped = waitpid(pid, &status, WNOHANG);
		if (reaped == pid)
			break;
		if (reaped < 0 && errno != EINTR) {
			close(fds[0]);
			return SC_ERR_IO;
		}
		if (killed)
			continue;
		if (clock_ms() - start_ms > lim->deadline_ms) {
			res->timed_out = killed = 1;
			kill(pid, SIGKILL);
		} else if (tick && tick(pct, arg)) {
			killed = 1;
			kill(pid, SIGKILL);
		}
	}
	close(fds[0]);
	if (WIFEXITED(status)) {
		res->exited = 1;
		res->code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		res->signal = WTERMSIG(status);
	}
	return SC_OK;
}
