/* error.c - names and descriptions of the project's error codes. */
#include "error.h"

static const struct {
	const char *name;
	const char *text;
} errtab[SC_ERR__COUNT] = {
	[SC_OK]            = { "ok",        "success" },
	[SC_ERR_NOMEM]     = { "nomem",     "out of memory" },
	[SC_ERR_INVALID]   = { "invalid",   "invalid argument or input" },
	[SC_ERR_TOO_LARGE] = { "too_large", "size limit exceeded" },
	[SC_ERR_CONFIG]    = { "config",    "bad configuration" },
	[SC_ERR_IO]        = { "io",        "input/output error" },
	[SC_ERR_NOT_FOUND] = { "not_found", "not found" },
	[SC_ERR_CONFLICT]  = { "conflict",  "conflicting state" },
	[SC_ERR_TIMEOUT]   = { "timeout",   "timed out" },
	[SC_ERR_DB]        = { "db",        "database error" },
	[SC_ERR_REDIS]     = { "redis",     "redis error" },
	[SC_ERR_S3]        = { "s3",        "object storage error" },
	[SC_ERR_AUTH]      = { "auth",      "authentication failed" },
	[SC_ERR_CANCELLED] = { "cancelled", "cancelled" },
};

const char *sc_strerror(enum sc_err err)
{
	if ((unsigned)err >= SC_ERR__COUNT)
		return "unknown error";
	return errtab[err].text;
}

const char *sc_errname(enum sc_err err)
{
	if ((unsigned)err >= SC_ERR__COUNT)
		return "unknown";
	return errtab[err].name;
}
