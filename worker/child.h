/*
 * child.h - run the transcoder in a child process that can reach nothing.
 *
 * A decoder that crashes or hangs on a hostile file takes down only the
 * child; a decoder a hostile file takes over finds nothing to use.  The
 * child gets:
 *
 * - environment: the transcoder's settings only (the variables of
 *   CFG_TRANSCODE in config.c: LOG_LEVEL, TRANSCODE_*, WATERMARK_*,
 *   POLICY_*), PATH=/usr/bin:/bin, and the sanitizers' options
 *   (ASAN_OPTIONS, UBSAN_OPTIONS, LSAN_OPTIONS) when set; never the
 *   worker's database or Redis URL, AWS keys or JWT secret;
 * - descriptors: stdin /dev/null, stdout and stderr the worker's (its
 *   log), the progress pipe at 3 (showcase-transcode --progress-fd 3),
 *   and nothing else: none of the worker's sockets;
 * - signals: none blocked, every disposition the default (the worker
 *   blocks SIGTERM and SIGINT and ignores SIGPIPE); a process group of
 *   its own, so a terminal's ^C reaches the worker, which decides;
 * - limits: address space (memory_bytes), CPU time (a backstop to the
 *   deadline: the deadline times the CPUs, plus CHILD_CPU_SLACK_S), 64
 *   open files, CHILD_FSIZE_MAX bytes per file written, no core dump;
 * - when the worker runs as root: an empty network namespace of its own
 *   (it keeps the host's, silently, when the kernel refuses one), and an
 *   unprivileged user (WORKER_TRANSCODE_USER) without supplementary
 *   groups;
 * - no_new_privs; and it dies with the thread that started it
 *   (PR_SET_PDEATHSIG), so a worker killed outright leaves no orphan.
 *
 * The transcoder adds a seccomp filter itself (no sockets, processes or
 * programs; worker/pipeline/sandbox.h) with --sandbox, which the worker
 * passes: the filter forbids execve, so it cannot be set up before it.
 *
 * Life cycle: child_sandbox_new() once at start-up, before threads (it
 * looks the user up and copies the environment); child_grant_dir() and
 * child_run() from any thread, once per job; child_sandbox_free() at
 * exit.  The outputs a child wrote are read with child_open_output() or
 * child_read_output(), never plain open(): a child that is another user
 * could have left a symlink or a FIFO in their place.
 */
#ifndef SC_CHILD_H
#define SC_CHILD_H

#include "buf.h"
#include "error.h"

#define CHILD_NOFILE 64			/* RLIMIT_NOFILE */
#define CHILD_FSIZE_MAX (1LL << 30)	/* RLIMIT_FSIZE, bytes */
#define CHILD_CPU_SLACK_S 10		/* added to the CPU time limit */

struct child_sandbox;

struct child_limits {
	long long memory_bytes;		/* RLIMIT_AS; 0: none (sanitizers) */
	long long deadline_ms;		/* wall clock, from the start */
	const struct child_sandbox *sandbox;	/* required */
};

struct child_result {
	int exited;			/* exit status in code */
	int code;
	int signal;			/* killed by this signal */
	int timed_out;			/* killed at the deadline */
};

/*
 * How every child is isolated, decided once at start-up.
 *
 * env: the environment to take the transcoder's settings from, a
 * NULL-terminated array of "NAME=VALUE" (copied); NULL for this
 * process's.  user: WORKER_TRANSCODE_USER.  When the caller is root and
 * user is not empty, children run as that user and group (getpwnam) in a
 * network namespace of their own; otherwise as the caller, in its
 * namespace.
 *
 * It also makes the caller non-dumpable (PR_SET_DUMPABLE 0), so that a
 * child running as the same user cannot read the caller's memory or
 * environment through /proc/PID or ptrace.
 *
 * SC_ERR_NOT_FOUND: no such user, and err says so; SC_ERR_NOMEM.  On
 * SC_OK the caller owns *out and releases it with child_sandbox_free().
 */
enum sc_err child_sandbox_new(const char *user, char *const env[],
			      struct child_sandbox **out, struct buf *err);
void child_sandbox_free(struct child_sandbox *sb);

/* Children's environment: NULL-terminated "NAME=VALUE", owned by sb. */
char *const *child_sandbox_env(const struct child_sandbox *sb);

/* A line for the start-up log ("user nobody (uid 65534, gid 65534), own
 * network namespace, settings passed: 3"), appended to out. */
enum sc_err child_sandbox_describe(const struct child_sandbox *sb,
				   struct buf *out);

/*
 * Let the children's user work in dir, a directory the caller made
 * (mode 0700, no subdirectories) and filled with the child's input: dir
 * gets the user's group and mode 0770, each regular file in it that
 * group and mode 0640.  dir stays the caller's, so the child can neither
 * rename nor replace it (the caller later reads and removes what is in
 * it by its path).  Nothing to do when children run as the caller.
 * SC_ERR_IO with errno set.
 */
enum sc_err child_grant_dir(const struct child_sandbox *sb, const char *dir);

/*
 * Open a file a child wrote, for reading: a descriptor (close-on-exec)
 * the caller closes, or -1 with errno set: ELOOP for a symlink, EINVAL
 * for anything but a regular file (a FIFO would block the reader).
 */
int child_open_output(const char *path);

/* Append the whole of such a file to b (bounded by b's max): SC_OK,
 * SC_ERR_IO or SC_ERR_TOO_LARGE. */
enum sc_err child_read_output(const char *path, struct buf *b);

/*
 * Called about once a second and after each progress line with the last
 * percentage; a non-zero return kills the child (the caller knows why).
 */
typedef int (*child_tick)(int progress, void *arg);

/*
 * Run argv (argv[0] a path) in a child isolated as above, and wait for
 * it.  SC_ERR_INVALID without lim->sandbox; SC_ERR_IO when it cannot be
 * forked.  A child that cannot be set up (a user that cannot be taken, a
 * program that cannot be run) exits 127, and the step that failed is
 * logged.  Safe to call from any thread: everything is prepared before
 * fork, and between fork and exec the child only makes async-signal-safe
 * calls.
 */
enum sc_err child_run(char *const argv[], const struct child_limits *lim,
		      child_tick tick, void *arg, struct child_result *res);

#endif
