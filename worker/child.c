/*
 * child.c - isolate, fork, exec, watch, reap (see child.h).
 *
 * Everything the child needs (its environment, limits, descriptors, the
 * user) is worked out before fork: the worker has threads, so between
 * fork and exec only async-signal-safe calls are allowed.
 */
#define _GNU_SOURCE	/* pipe2, close_range, unshare, setgroups */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "config.h"
#include "log.h"
#include "strlist.h"

#define PROGRESS_FD 3
#define CHILD_PATH "PATH=/usr/bin:/bin"
/* passed through when set: tests run the transcoder under sanitizers */
#define SANITIZER_VARS "ASAN_OPTIONS,UBSAN_OPTIONS,LSAN_OPTIONS"
#define MAX_LIMITS 5

struct child_sandbox {
	char **env;			/* NULL-terminated, each string ours */
	size_t nenv;
	int switch_user;
	uid_t uid;
	gid_t gid;
	char user[80];			/* for the log: "user nobody" */
	int unshare_net;
	long ncpu;			/* online CPUs, for the CPU time limit */
	long max_fd;			/* close up to this without close_range */
};

/* What one child is to become, prepared before fork. */
struct plan {
	char *const *argv;
	const struct child_sandbox *sb;
	struct rlimit lim[MAX_LIMITS];
	int res[MAX_LIMITS];
	int nlim;
	int null_fd, pipe_fd;
	pid_t parent;
};

/* ------------------------------------------------------------- sandbox */

static int keep_var(const char *entry)
{
	const char *eq = strchr(entry, '=');
	size_t len = eq ? (size_t)(eq - entry) : 0;

	return len && (config_var_used_by(entry, len, CFG_TRANSCODE) ||
		       strlist_has(SANITIZER_VARS, entry, len));
}

static enum sc_err add_var(struct child_sandbox *sb, const char *entry)
{
	char **env = realloc(sb->env, (sb->nenv + 2) * sizeof(*env));

	if (!env)
		return SC_ERR_NOMEM;
	sb->env = env;
	if (!(env[sb->nenv] = strdup(entry)))
		return SC_ERR_NOMEM;
	env[++sb->nenv] = NULL;
	return SC_OK;
}

enum sc_err child_sandbox_new(const char *user, char *const env[],
			      struct child_sandbox **out, struct buf *err)
{
	struct child_sandbox *sb;
	const struct passwd *pw;
	enum sc_err rc = SC_ERR_NOMEM;
	size_t i;

	*out = NULL;
	if (!env)
		env = environ;
	sb = calloc(1, sizeof(*sb));
	if (!sb)
		return SC_ERR_NOMEM;
	for (i = 0; env[i]; i++)
		if (keep_var(env[i]) && (rc = add_var(sb, env[i])))
			goto out_free;
	if ((rc = add_var(sb, CHILD_PATH)))
		goto out_free;

	sb->uid = geteuid();
	sb->gid = getegid();
	if (sb->uid == 0 && user[0]) {
		pw = getpwnam(user);
		if (!pw) {
			buf_appendf(err, "WORKER_TRANSCODE_USER: no such user '%s'",
				    user);
			rc = SC_ERR_NOT_FOUND;
			goto out_free;
		}
		sb->uid = pw->pw_uid;
		sb->gid = pw->pw_gid;
		sb->switch_user = sb->uid != 0;
	}
	if (sb->switch_user)
		snprintf(sb->user, sizeof(sb->user), "user %s", user);
	else
		snprintf(sb->user, sizeof(sb->user), "the worker's user");
	sb->unshare_net = geteuid() == 0;
	sb->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (sb->ncpu < 1)
		sb->ncpu = 1;
	sb->max_fd = sysconf(_SC_OPEN_MAX);
	if (sb->max_fd < 0)
		sb->max_fd = 65536;
	/* a child of the same user must not read us through /proc */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	*out = sb;
	return SC_OK;
out_free:
	child_sandbox_free(sb);
	return rc;
}

void child_sandbox_free(struct child_sandbox *sb)
{
	size_t i;

	if (!sb)
		return;
	for (i = 0; i < sb->nenv; i++)
		free(sb->env[i]);
	free(sb->env);
	free(sb);
}

char *const *child_sandbox_env(const struct child_sandbox *sb)
{
	return sb->env;
}

enum sc_err child_sandbox_describe(const struct child_sandbox *sb,
				   struct buf *out)
{
	return buf_appendf(out, "%s (uid %d, gid %d), %s network "
			   "namespace, settings passed: %zu",
			   sb->user, (int)sb->uid, (int)sb->gid,
			   sb->unshare_net ? "own" : "the worker's",
			   sb->nenv - 1);	/* not PATH */
}

/* --------------------------------------------------------- job files */

enum sc_err child_grant_dir(const struct child_sandbox *sb, const char *dir)
{
	struct dirent *e;
	struct stat st;
	enum sc_err rc = SC_OK;
	DIR *d;
	int fd;

	if (!sb->switch_user)
		return SC_OK;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return SC_ERR_IO;
	/* the group may enter and write; the directory stays ours */
	if (fchown(fd, (uid_t)-1, sb->gid) < 0 || fchmod(fd, 0770) < 0) {
		close(fd);
		return SC_ERR_IO;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return SC_ERR_IO;
	}
	while (!rc && (e = readdir(d))) {
		if (e->d_type == DT_UNKNOWN &&	/* some file systems */
		    fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode))
			e->d_type = DT_REG;
		if (e->d_type != DT_REG)
			continue;
		if (fchownat(fd, e->d_name, (uid_t)-1, sb->gid,
			     AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(fd, e->d_name, 0640, 0) < 0)
			rc = SC_ERR_IO;
	}
	closedir(d);
	return rc;
}

int child_open_output(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

enum sc_err child_read_output(const char *path, struct buf *b)
{
	char chunk[8192];
	enum sc_err rc = SC_OK;
	ssize_t n;
	int fd = child_open_output(path);

	if (fd < 0)
		return SC_ERR_IO;
	while (!rc && (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		rc = n < 0 ? SC_ERR_IO : buf_append(b, chunk, (size_t)n);
	}
	close(fd);
	return rc;
}

/* ------------------------------------------------------- in the child */

/*
 * Tell the parent which step failed ("setup STEP ERRNO" on the pipe)
 * and end.  Async-signal-safe: no stdio, no allocation.
 */
static void die(int fd, const char *step) __attribute__((noreturn));

static void die(int fd, const char *step)
{
	char line[64], digits[16];
	size_t n = 0, k = 0;
	unsigned e = (unsigned)errno;
	ssize_t w;

	memcpy(line, "setup ", 6);
	n = 6;
	while (*step && n < 40)
		line[n++] = *step++;
	line[n++] = ' ';
	do {
		digits[k++] = (char)('0' + e % 10);
		e /= 10;
	} while (e && k < sizeof(digits));
	while (k)
		line[n++] = digits[--k];
	line[n++] = '\n';
	w = write(fd, line, n);
	(void)w;
	_exit(127);
}

static void close_from(int first, long max_fd)
{
	long fd;

	if (close_range((unsigned)first, ~0U, 0) == 0)
		return;
	/* kernels before 5.9 */
	for (fd = first; fd < max_fd; fd++)
		close((int)fd);
}

/*
 * glibc keeps two real-time signals for itself (32 and 33: thread
 * cancellation and set*id broadcasts) and its sigaction refuses them, but
 * a parent may have left them ignored (GNU make does), and ignored
 * dispositions survive exec.  The kernel's own call resets them.  The
 * layout is the kernel's struct sigaction on x86-64 and arm64.
 */
static void reset_reserved(int sig)
{
#if defined(__x86_64__) || defined(__aarch64__)
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		unsigned long mask;
	} k = { SIG_DFL, 0, NULL, 0 };

	syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof(k.mask));
#else
	(void)sig;
#endif
}

/* Become the isolated transcoder: async-signal-safe calls only. */
static void start(const struct plan *p) __attribute__((noreturn));

static void start(const struct plan *p)
{
	const struct child_sandbox *sb = p->sb;
	struct sigaction dfl;
	sigset_t none;
	int fd, nul, sig, i;

	/* descriptors: /dev/null at 0, the pipe at 3, nothing above;
	 * copies above 3 first, so no dup2 below overwrites a source */
	if ((fd = fcntl(p->pipe_fd, F_DUPFD, PROGRESS_FD + 1)) < 0)
		die(p->pipe_fd, "dup");
	if ((nul = fcntl(p->null_fd, F_DUPFD, PROGRESS_FD + 1)) < 0)
		die(fd, "dup");
	if (dup2(nul, 0) < 0 ||
	    (fcntl(1, F_GETFD) < 0 && dup2(nul, 1) < 0) ||
	    (fcntl(2, F_GETFD) < 0 && dup2(nul, 2) < 0) ||
	    dup2(fd, PROGRESS_FD) < 0)
		die(fd, "dup2");
	fd = PROGRESS_FD;
	close_from(PROGRESS_FD + 1, sb->max_fd);

	/* signals: every disposition the default (SIGPIPE was ignored);
	 * sigaction refuses SIGKILL, SIGSTOP and glibc's own: fine */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, &dfl, NULL) < 0)
			reset_reserved(sig);
	/* a terminal's ^C goes to the worker, which ends its transcodes */
	setpgid(0, 0);

	if (sb->unshare_net)
		unshare(CLONE_NEWNET);	/* refused (a container): keep going */
	for (i = 0; i < p->nlim; i++)
		if (setrlimit(p->res[i], &p->lim[i]) < 0)
			die(fd, "setrlimit");
	if (sb->switch_user) {
		if (setgroups(0, NULL) < 0)
			die(fd, "setgroups");
		if (setgid(sb->gid) < 0)
			die(fd, "setgid");
		if (setuid(sb->uid) < 0)
			die(fd, "setuid");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(fd, "no_new_privs");
	/* after the user change, which clears it; and the worker may have
	 * died before this line */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die(fd, "pdeathsig");
	if (getppid() != p->parent)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(p->argv[0], p->argv, sb->env);
	die(fd, "exec");
}

/* ------------------------------------------------------- in the parent */

/* Limit res to want, or to the hard limit already there if lower. */
static void add_limit(struct plan *p, int res, rlim_t soft, rlim_t hard)
{
	struct rlimit now;

	if (getrlimit(res, &now) == 0 && now.rlim_max != RLIM_INFINITY) {
		if (hard > now.rlim_max)
			hard = now.rlim_max;
		if (soft > hard)
			soft = hard;
	}
	p->res[p->nlim] = res;
	p->lim[p->nlim].rlim_cur = soft;
	p->lim[p->nlim].rlim_max = hard;
	p->nlim++;
}

static void plan_limits(struct plan *p, const struct child_limits *lim)
{
	rlim_t cpu = (rlim_t)((lim->deadline_ms + 999) / 1000) *
			     (rlim_t)p->sb->ncpu + CHILD_CPU_SLACK_S;

	if (lim->memory_bytes > 0)
		add_limit(p, RLIMIT_AS, (rlim_t)lim->memory_bytes,
			  (rlim_t)lim->memory_bytes);
	/* SIGXCPU at the limit, SIGKILL 5 s later if it is ignored */
	add_limit(p, RLIMIT_CPU, cpu, cpu + 5);
	add_limit(p, RLIMIT_NOFILE, CHILD_NOFILE, CHILD_NOFILE);
	add_limit(p, RLIMIT_FSIZE, (rlim_t)CHILD_FSIZE_MAX, (rlim_t)CHILD_FSIZE_MAX);
	add_limit(p, RLIMIT_CORE, 0, 0);
}

/* Lines from the child: progress, or the step its set-up failed at. */
struct reader {
	char line[128];
	size_t len;
	int pct;
	char setup[64];			/* "STEP ERRNO", or "" */
};

/* Read what is there; 0 at the end of the pipe. */
static int read_lines(int fd, struct reader *r)
{
	char chunk[256];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	ssize_t i;

	if (n <= 0)
		return n == 0 || (errno != EINTR && errno != EAGAIN) ? 0 : 1;
	for (i = 0; i < n; i++) {
		if (chunk[i] != '\n') {
			if (r->len < sizeof(r->line) - 1)
				r->line[r->len++] = chunk[i];
			continue;
		}
		r->line[r->len] = '\0';
		if (!strncmp(r->line, "progress ", 9))
			r->pct = atoi(r->line + 9);
		else if (!strncmp(r->line, "setup ", 6))
			snprintf(r->setup, sizeof(r->setup), "%s", r->line + 6);
		r->len = 0;
	}
	return 1;
}

/* The child could not become the transcoder: say where it stopped. */
static void log_setup_failure(const char *prog, const struct child_sandbox *sb,
			      const char *setup)
{
	const char *sp = strchr(setup, ' ');
	int err = sp ? atoi(sp + 1) : 0;

	log_error("cannot start %s as %s: %.*s failed: %s", prog, sb->user,
		  sp ? (int)(sp - setup) : (int)strlen(setup), setup,
		  strerror(err));
}

enum sc_err child_run(char *const argv[], const struct child_limits *lim,
		      child_tick tick, void *arg, struct child_result *res)
{
	long long start_ms = clock_ms();
	struct plan plan = { .argv = argv, .sb = lim->sandbox, .null_fd = -1,
			     .pipe_fd = -1 };
	struct reader rd = { .pct = 0 };
	struct pollfd pfd;
	int fds[2], status, open_pipe = 1, killed = 0;
	pid_t pid, reaped;

	memset(res, 0, sizeof(*res));
	if (!lim->sandbox)
		return SC_ERR_INVALID;
	plan_limits(&plan, lim);
	plan.parent = getpid();
	plan.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (plan.null_fd < 0)
		return SC_ERR_IO;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		close(plan.null_fd);
		return SC_ERR_IO;
	}
	plan.pipe_fd = fds[1];
	pid = fork();
	if (pid == 0)
		start(&plan);
	close(plan.null_fd);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return SC_ERR_IO;
	}
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		if (open_pipe && poll(&pfd, 1, 1000) > 0)
			open_pipe = read_lines(fds[0], &rd);
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
		} else if (tick && tick(rd.pct, arg)) {
			killed = 1;
			kill(pid, SIGKILL);
		}
	}
	/* a set-up failure is written just before the exit: read it */
	while (open_pipe && poll(&pfd, 1, 0) > 0)
		open_pipe = read_lines(fds[0], &rd);
	close(fds[0]);
	if (WIFEXITED(status)) {
		res->exited = 1;
		res->code = WEXITSTATUS(status);
		if (res->code == 127 && rd.setup[0])
			log_setup_failure(argv[0], lim->sandbox, rd.setup);
	} else if (WIFSIGNALED(status)) {
		res->signal = WTERMSIG(status);
	}
	return SC_OK;
}
