/*
 * sandbox.h - what showcase-transcode can no longer do once it has
 * started (a seccomp filter).
 *
 * The worker runs every transcode with --sandbox.  From then on the
 * process, and every thread it starts, cannot open a socket, start a
 * process (threads are fine), run a program, or touch another process
 * (ptrace, another process's memory or signals).  A refused call fails
 * with an error rather than killing the process, so a library that tries
 * one fails cleanly: socket() with EACCES, clone3() with ENOSYS (glibc
 * then falls back to clone(), which is checked), everything else EPERM.
 *
 * Why in the transcoder and not in the worker's child before exec: the
 * filter forbids execve, so it can only be installed by the program that
 * is already running; it is installed at start-up, before the logo and
 * the input are opened, so the only code that ran unfiltered is the
 * option and configuration parsing.
 *
 * Sanitizer builds: LeakSanitizer's check at exit starts a tracer (a
 * process sharing the memory, made with CLONE_UNTRACED) that ptraces the
 * threads; those two are let through there, and only there.
 */
#ifndef SC_SANDBOX_H
#define SC_SANDBOX_H

#include "buf.h"
#include "error.h"

/*
 * Install the filter on the calling process (and set no_new_privs, which
 * it needs); irreversible.  SC_ERR_IO when the kernel refuses it, with
 * the reason in err; SC_ERR_NOMEM.
 */
enum sc_err sandbox_enter(struct buf *err);

#endif
