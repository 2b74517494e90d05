/*
 * child.h - run the transcoder in a child process, isolated.
 *
 * A decoder that crashes or hangs on a hostile file takes down only the
 * child: it runs with an address-space limit, no core dumps, and a hard
 * deadline after which it is killed; it dies with the thread that started
 * it (PR_SET_PDEATHSIG), so a worker killed outright leaves no orphan.  Progress comes back as lines on a
 * pipe (fd 3 in the child: showcase-transcode --progress-fd 3).
 */
#ifndef SC_CHILD_H
#define SC_CHILD_H

#include "error.h"

struct child_limits {
	long long memory_bytes;		/* RLIMIT_AS; 0: none */
	long long deadline_ms;		/* wall clock, from the start */
};

struct child_result {
	int exited;			/* exit status in code */
	int code;
	int signal;			/* killed by this signal */
	int timed_out;			/* killed at the deadline */
};

/*
 * Called about once a second and after each progress line with the last
 * percentage; a non-zero return kills the child (the caller knows why).
 */
typedef int (*child_tick)(int progress, void *arg);

/*
 * Run argv (argv[0] a path) and wait for it.  SC_ERR_IO when it cannot be
 * started.  Safe to call from any thread: between fork and exec the child
 * only makes async-signal-safe calls.
 */
enum sc_err child_run(char *const argv[], const struct child_limits *lim,
		      child_tick tick, void *arg, struct child_result *res);

#endif
