/*
 * buf.h - a bounded, growable byte buffer for strings and bodies.
 *
 * Invariants: data is NULL until the first append; otherwise data[len] is
 * always '\0' (so data can be used as a C string when the content has no
 * NUL bytes) and len < cap.  len never exceeds max: an append that would
 * is refused with SC_ERR_TOO_LARGE and leaves the buffer unchanged, so a
 * buffer fed from the network cannot grow without limit.
 *
 * Life cycle: declare with BUF_INIT(max) or call buf_init(); append; read
 * b->data and b->len; buf_release() frees the storage (the buffer may be
 * reused after it), buf_detach() hands the storage to the caller.
 *
 * This is the only string builder in the project: no sprintf, strcat,
 * strncpy or strtok elsewhere.
 */
#ifndef SC_BUF_H
#define SC_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "error.h"

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;	/* the most bytes of content the buffer may hold */
};

#define BUF_INIT(maxbytes) { NULL, 0, 0, (maxbytes) }

void buf_init(struct buf *b, size_t max);

/* Free the storage; the buffer is empty and keeps its max. */
void buf_release(struct buf *b);

/* Empty the buffer, keeping the storage. */
void buf_reset(struct buf *b);

/*
 * Return the storage, NUL-terminated, and leave the buffer empty.
 * The caller owns the returned memory and frees it with free().  Never
 * NULL for a buffer that holds something; NULL if nothing was ever
 * appended and the allocation of an empty string fails.
 */
char *buf_detach(struct buf *b, size_t *len);

enum sc_err buf_append(struct buf *b, const void *data, size_t len);
enum sc_err buf_appends(struct buf *b, const char *s);
enum sc_err buf_appendc(struct buf *b, char c);

__attribute__((format(printf, 2, 3)))
enum sc_err buf_appendf(struct buf *b, const char *fmt, ...);
__attribute__((format(printf, 2, 0)))
enum sc_err buf_vappendf(struct buf *b, const char *fmt, va_list ap);

/*
 * Append s as the body of a JSON string (without the quotes): quotes,
 * backslashes and control characters are escaped; bytes >= 0x80 are
 * copied as they are.
 */
enum sc_err buf_append_json(struct buf *b, const char *s);

/*
 * A libcurl write callback (CURLOPT_WRITEFUNCTION) that appends what comes
 * to the struct buf given as CURLOPT_WRITEDATA.  Past the buffer's max (or
 * out of memory) it returns 0, which makes libcurl stop the transfer with
 * CURLE_WRITE_ERROR: a body can never grow past its bound.
 */
size_t buf_curl_write(char *data, size_t size, size_t n, void *buf);

/*
 * Append the whole file at path.  SC_ERR_IO when it cannot be opened or
 * read, SC_ERR_TOO_LARGE past the buffer's max; errmsg (may be NULL) then
 * gets "cannot open PATH: ..." or "cannot read PATH: ...".
 */
enum sc_err buf_read_file(struct buf *b, const char *path, struct buf *errmsg);

#endif
