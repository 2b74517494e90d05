/*
 * sandbox.c - the transcoder's seccomp filter (see sandbox.h).
 *
 * A list of refused calls on top of "allow": FFmpeg, libx264 and glibc
 * need a long and version-dependent list of system calls, and a missing
 * one would fail jobs at random, whereas what must never happen is
 * short.  Calls of other architectures (the i386 entry on x86-64)
 * kill the process: libseccomp's default for a foreign architecture.
 */
#define _GNU_SOURCE	/* CLONE_* */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZER_BUILD 1
#endif
#endif

/* clone()'s flags are its first argument, except on s390 */
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

/* A clone() without these flags makes a process, not a thread. */
#ifdef SANITIZER_BUILD
#define THREAD_FLAGS (CLONE_THREAD | CLONE_UNTRACED)	/* + LSan's tracer */
#else
#define THREAD_FLAGS CLONE_THREAD
#endif

enum when {
	ALWAYS,
	NOT_THREAD,		/* clone() that makes a process */
	NOT_SELF,		/* the first argument is another process */
};

/* one row: the call, its errno, when it is refused */
#define RULE(call, err, when) { SCMP_SYS(call), #call, err, when }

static const struct rule {
	int nr;
	const char *name;
	int err;
	enum when when;
} rules[] = {
	/* the network: no socket of any family; io_uring can make one
	 * without calling socket() */
	RULE(socket, EACCES, ALWAYS),
	RULE(io_uring_setup, EPERM, ALWAYS),
	/* processes and programs: threads only */
	RULE(fork, EPERM, ALWAYS),
	RULE(vfork, EPERM, ALWAYS),
	RULE(clone, EPERM, NOT_THREAD),
	/* its flags are in memory, where a filter cannot look */
	RULE(clone3, ENOSYS, ALWAYS),
	RULE(execve, EPERM, ALWAYS),
	RULE(execveat, EPERM, ALWAYS),
	/* other processes: a worker that is not root runs its transcodes
	 * as its own user, and they must not reach into it */
#ifndef SANITIZER_BUILD
	RULE(ptrace, EPERM, ALWAYS),
#endif
	RULE(process_vm_readv, EPERM, ALWAYS),
	RULE(process_vm_writev, EPERM, ALWAYS),
	RULE(pidfd_open, EPERM, ALWAYS),
	RULE(pidfd_getfd, EPERM, ALWAYS),
	RULE(pidfd_send_signal, EPERM, ALWAYS),
	RULE(kill, EPERM, NOT_SELF),
	RULE(tgkill, EPERM, NOT_SELF),
	RULE(tkill, EPERM, ALWAYS),
	RULE(rt_sigqueueinfo, EPERM, NOT_SELF),
	RULE(rt_tgsigqueueinfo, EPERM, NOT_SELF),
};

static int add(scmp_filter_ctx ctx, const struct rule *r, scmp_datum_t self)
{
	struct scmp_arg_cmp cmp;

	switch (r->when) {
	case NOT_THREAD:
		cmp = SCMP_CMP(CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ, THREAD_FLAGS, 0);
		return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(r->err), r->nr,
					      1, &cmp);
	case NOT_SELF:
		cmp = SCMP_CMP(0, SCMP_CMP_NE, self);
		return seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(r->err), r->nr,
					      1, &cmp);
	default:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(r->err), r->nr, 0);
	}
}

enum sc_err sandbox_enter(struct buf *err)
{
	scmp_datum_t self = (scmp_datum_t)getpid();
	scmp_filter_ctx ctx;
	size_t i;
	int rc;

	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx)
		return SC_ERR_NOMEM;
	/* every thread, should a library have started one already */
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc) {
		buf_appendf(err, "seccomp: cannot filter every thread: %s",
			    strerror(-rc));
		goto out_release;
	}
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if ((rc = add(ctx, &rules[i], self))) {
			buf_appendf(err, "seccomp: cannot add a rule for %s: %s",
				    rules[i].name, strerror(-rc));
			goto out_release;
		}
	}
	/* also sets no_new_privs (SCMP_FLTATR_CTL_NNP's default) */
	if ((rc = seccomp_load(ctx)))
		buf_appendf(err, "seccomp: the kernel refused the filter: %s",
			    strerror(-rc));
out_release:
	seccomp_release(ctx);
	return rc ? SC_ERR_IO : SC_OK;
}
