/* m3u8.c - HLS media playlists as text (see m3u8.h). */
#include <stdlib.h>
#include <string.h>

#include "m3u8.h"

#define TAG_INF "#EXTINF:"
#define TAG_RANGE "#EXT-X-BYTERANGE:"
#define TAG_MAP "#EXT-X-MAP:"

/* Does the line [s, s + n) start with the tag? */
static int has_tag(const char *s, size_t n, const char *tag)
{
	size_t t = strlen(tag);

	return n >= t && !memcmp(s, tag, t);
}

enum sc_err m3u8_media_rates(const char *text, long long *peak,
			     long long *avg)
{
	const char *s = text, *e;
	double dur = -1, total_s = 0, rate;
	long long bytes = -1, total_b = 0;
	int segments = 0;
	size_t n;

	*peak = *avg = 0;
	for (; *s; s = *e ? e + 1 : e) {
		e = s + strcspn(s, "\n");
		n = (size_t)(e - s);
		if (n && s[n - 1] == '\r')
			n--;
		if (has_tag(s, n, TAG_INF)) {
			dur = strtod(s + strlen(TAG_INF), NULL);
		} else if (has_tag(s, n, TAG_RANGE)) {
			bytes = strtoll(s + strlen(TAG_RANGE), NULL, 10);
		} else if (n && s[0] != '#') {
			/* a URI line ends a segment */
			if (!(dur > 0) || bytes <= 0)
				return SC_ERR_INVALID;
			rate = bytes * 8.0 / dur;
			if (rate > *peak)
				*peak = (long long)(rate + 0.5);
			total_s += dur;
			total_b += bytes;
			segments++;
			dur = -1;
			bytes = -1;
		}
	}
	if (!segments)
		return SC_ERR_INVALID;
	*avg = (long long)(total_b * 8.0 / total_s + 0.5);
	return SC_OK;
}

enum sc_err m3u8_replace_uri(const char *text, const char *name,
			     const char *url, struct buf *out)
{
	const char *s = text, *e, *at;
	size_t n, len = strlen(name);
	enum sc_err rc = SC_OK;

	if (strpbrk(url, "\"\r\n"))
		return SC_ERR_INVALID;
	for (; *s && !rc; s = *e ? e + 1 : e) {
		e = s + strcspn(s, "\n");
		n = (size_t)(e - s);
		if (n && s[n - 1] == '\r')
			n--;
		if (n == len && !memcmp(s, name, len)) {
			rc = buf_appends(out, url);
		} else if (has_tag(s, n, TAG_MAP) &&
			   (at = strstr(s, "URI=\"")) && at < s + n &&
			   !strncmp(at + 5, name, len) && at[5 + len] == '"') {
			rc = buf_append(out, s, (size_t)(at + 5 - s));
			if (!rc)
				rc = buf_appends(out, url);
			if (!rc)
				rc = buf_append(out, at + 5 + len,
						(size_t)(s + n - (at + 5 + len)));
		} else {
			rc = buf_append(out, s, n);
		}
		if (!rc)
			rc = buf_appendc(out, '\n');
	}
	return rc;
}
