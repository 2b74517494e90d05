/* log.c - JSON-line logging to stderr (see log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

#define LOG_LINE_MAX 8192
#define LOG_CTX_MAX 64

enum log_level log_threshold = LOG_INFO;

static struct {
	char prog[32];
} logger = { "showcase" };

static _Thread_local struct {
	char request_id[LOG_CTX_MAX];
	char job_id[LOG_CTX_MAX];
	char video_id[LOG_CTX_MAX];
} ctx;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static void ctx_copy(char *dst, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= LOG_CTX_MAX)
		n = LOG_CTX_MAX - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

void log_init(const char *prog, enum log_level threshold)
{
	ctx_copy(logger.prog, prog);
	log_threshold = threshold;
}

int log_level_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *log_level_name(int level)
{
	if (level < 0 || level > LOG_DEBUG)
		return "unknown";
	return level_names[level];
}

void log_set_request(const char *request_id)
{
	ctx_copy(ctx.request_id, request_id);
}

void log_set_job(const char *job_id, const char *video_id)
{
	ctx_copy(ctx.job_id, job_id);
	ctx_copy(ctx.video_id, video_id);
}

static void append_field(struct buf *line, const char *name, const char *value)
{
	if (!value[0])
		return;
	buf_appendf(line, ",\"%s\":\"", name);
	buf_append_json(line, value);
	buf_appendc(line, '"');
}

void log_write(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(level, fmt, ap);
	va_end(ap);
}

static void emit(enum log_level level, const struct log_field *fields,
		 size_t nfields, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

void log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	emit(level, NULL, 0, fmt, ap);
}

void log_write_fields(enum log_level level, const struct log_field *fields,
		      size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit(level, fields, n, fmt, ap);
	va_end(ap);
}

static void emit(enum log_level level, const struct log_field *fields,
		 size_t nfields, const char *fmt, va_list ap)
{
	struct buf line = BUF_INIT(LOG_LINE_MAX);
	char msg[LOG_LINE_MAX / 2];
	struct timespec ts;
	struct tm tm;
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* libraries' messages (libmicrohttpd's) end with a newline */
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	buf_appendf(&line, "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\","
		    "\"level\":\"%s\",\"prog\":\"%s\"",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		    level_names[level], logger.prog);
	append_field(&line, "request_id", ctx.request_id);
	append_field(&line, "job_id", ctx.job_id);
	append_field(&line, "video_id", ctx.video_id);
	append_field(&line, "msg", msg);
	for (n = 0; n < nfields; n++) {
		if (fields[n].str) {
			buf_appendf(&line, ",\"%s\":\"", fields[n].name);
			buf_append_json(&line, fields[n].str);
			buf_appendc(&line, '"');
		} else {
			buf_appendf(&line, ",\"%s\":%lld", fields[n].name,
				    fields[n].num);
		}
	}
	buf_appends(&line, "}\n");
	if (line.data && write(STDERR_FILENO, line.data, line.len) < 0) {
		/* nowhere left to report it */
	}
	buf_release(&line);
}
