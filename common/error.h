/*
 * error.h - the project's error codes.
 *
 * Every fallible function in Showcase returns an enum sc_err and hands its
 * results through out-parameters.  Library errors (libpq, hiredis, libcurl,
 * FFmpeg) are translated into one of these codes once, in the wrapper that
 * called the library; the library's own message is kept on that wrapper's
 * handle (see db_errstr(), redisconn_errstr(), s3_errstr()).
 */
#ifndef SC_ERROR_H
#define SC_ERROR_H

enum sc_err {
	SC_OK = 0,
	SC_ERR_NOMEM,		/* allocation failed */
	SC_ERR_INVALID,		/* bad argument or malformed input */
	SC_ERR_TOO_LARGE,	/* a bounded buffer or input limit was exceeded */
	SC_ERR_CONFIG,		/* bad or missing configuration */
	SC_ERR_IO,		/* local file or system call failed */
	SC_ERR_NOT_FOUND,	/* the thing asked for does not exist */
	SC_ERR_CONFLICT,	/* it exists already, or the state forbids it */
	SC_ERR_TIMEOUT,		/* a deadline passed */
	SC_ERR_DB,		/* PostgreSQL failed or is unreachable */
	SC_ERR_REDIS,		/* Redis failed or is unreachable */
	SC_ERR_S3,		/* S3 failed or is unreachable */
	SC_ERR_AUTH,		/* credentials were refused */
	SC_ERR_CANCELLED,	/* the caller asked to stop */
	SC_ERR__COUNT
};

/* A short lowercase description of err; never NULL. */
const char *sc_strerror(enum sc_err err);

/* A stable machine-readable name for err ("db", "too_large", ...). */
const char *sc_errname(enum sc_err err);

#endif
