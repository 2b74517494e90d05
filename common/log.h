/*
 * log.h - one JSON object a line on stderr.
 *
 * Each line carries ts (UTC, milliseconds), level, prog, msg, and the
 * request_id / job_id / video_id of the calling thread's context where
 * set, so one grep follows a request or a job across processes:
 *
 *   {"ts":"2026-11-22T05:10:00.123Z","level":"error","prog":"api",
 *    "request_id":"4f1c...","msg":"cannot reach redis: Connection refused"}
 *
 * A line may carry fields of its own after msg, strings or numbers, for
 * what is read by programs rather than people (the API's access log):
 *
 *   {..., "msg":"GET /api/videos 200 3ms","method":"GET","status":200}
 *
 * Life cycle: log_init() once at start-up (before threads); then the
 * log_error()/log_warn()/log_info()/log_debug() macros from any thread.
 * The level is tested before the arguments are evaluated.  A line is
 * written with one write(2), so lines from threads do not interleave.
 */
#ifndef SC_LOG_H
#define SC_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum log_level {
	LOG_ERROR = 0,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG
};

/* Set once by log_init(); read by the macros below. */
extern enum log_level log_threshold;

void log_init(const char *prog, enum log_level threshold);

/* Parse "error", "warn", "info" or "debug"; -1 if it is none of them. */
int log_level_parse(const char *s);

/* The name of a level ("info"); "unknown" for anything else. */
const char *log_level_name(int level);

/*
 * Context for the calling thread's next lines; NULL clears a field.  The
 * strings are copied (truncated to 63 bytes).
 */
void log_set_request(const char *request_id);
void log_set_job(const char *job_id, const char *video_id);

__attribute__((format(printf, 2, 3)))
void log_write(enum log_level level, const char *fmt, ...);

/* A field of a line: the string str, or the number num when str is NULL. */
struct log_field {
	const char *name;	/* plain: written as it is */
	const char *str;
	long long num;
};

/* A line with n fields after msg; use the log_fields() macro. */
__attribute__((format(printf, 4, 5)))
void log_write_fields(enum log_level level, const struct log_field *fields,
		      size_t n, const char *fmt, ...);

__attribute__((format(printf, 2, 0)))
void log_vwrite(enum log_level level, const char *fmt, va_list ap);

#define log_at(level, ...) \
	do { \
		if ((level) <= log_threshold) \
			log_write((level), __VA_ARGS__); \
	} while (0)

#define log_fields(level, fields, n, ...) \
	do { \
		if ((level) <= log_threshold) \
			log_write_fields((level), (fields), (n), __VA_ARGS__); \
	} while (0)

#define log_error(...) log_at(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_at(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LOG_DEBUG, __VA_ARGS__)

#endif
