/* buf.c - the bounded growable buffer (see buf.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p = b->data;

	if (len)
		*len = b->len;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

/* Make room for extra more bytes of content plus the terminating NUL. */
static enum sc_err buf_grow(struct buf *b, size_t extra)
{
	size_t need, ncap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return SC_ERR_TOO_LARGE;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return SC_OK;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > (size_t)-1 / 2 ? need : ncap * 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	p = realloc(b->data, ncap);
	if (!p)
		return SC_ERR_NOMEM;
	b->data = p;
	b->cap = ncap;
	return SC_OK;
}

enum sc_err buf_append(struct buf *b, const void *data, size_t len)
{
	enum sc_err err = buf_grow(b, len);

	if (err)
		return err;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return SC_OK;
}

enum sc_err buf_appends(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

enum sc_err buf_appendc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

enum sc_err buf_vappendf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	enum sc_err err;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return SC_ERR_INVALID;
	err = buf_grow(b, (size_t)n);
	if (err)
		return err;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return SC_OK;
}

enum sc_err buf_appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	enum sc_err err;

	va_start(ap, fmt);
	err = buf_vappendf(b, fmt, ap);
	va_end(ap);
	return err;
}

enum sc_err buf_append_json(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = b->len;
	enum sc_err err = SC_OK;
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p && !err; p++) {
		switch (*p) {
		case '"':  err = buf_append(b, "\\\"", 2); break;
		case '\\': err = buf_append(b, "\\\\", 2); break;
		case '\n': err = buf_append(b, "\\n", 2); break;
		case '\r': err = buf_append(b, "\\r", 2); break;
		case '\t': err = buf_append(b, "\\t", 2); break;
		default:
			if (*p < 0x20) {
				char esc[6] = { '\\', 'u', '0', '0',
						hex[*p >> 4], hex[*p & 15] };
				err = buf_append(b, esc, sizeof(esc));
			} else {
				err = buf_append(b, p, 1);
			}
		}
	}
	if (err) {
		/* all or nothing: drop the partial escape */
		b->len = start;
		if (b->data)
			b->data[start] = '\0';
	}
	return err;
}

enum sc_err buf_read_file(struct buf *b, const char *path, struct buf *errmsg)
{
	char chunk[8192];
	size_t got;
	FILE *f = fopen(path, "r");
	enum sc_err err = SC_OK;

	if (!f) {
		if (errmsg)
			buf_appendf(errmsg, "cannot open %s: %s", path, strerror(errno));
		return SC_ERR_IO;
	}
	while (!err && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		err = buf_append(b, chunk, got);
	if (!err && ferror(f))
		err = SC_ERR_IO;
	fclose(f);
	if (err && errmsg)
		buf_appendf(errmsg, "cannot read %s: %s", path, sc_strerror(err));
	return err;
}

size_t buf_curl_write(char *data, size_t size, size_t n, void *buf)
{
	return buf_append(buf, data, size * n) ? 0 : size * n;
}
