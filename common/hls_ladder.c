/* hls_ladder.c - the HLS_LADDER setting (see hls_ladder.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hls_ladder.h"

/* the 720p rendition, which the ladder's rungs must stay below */
#define TOP_W 1280
#define TOP_H 720

/* A decimal number of 1..6 digits at *p; -1 when there is none. */
static long number(const char **p)
{
	const char *s = *p;
	long v = 0;

	while (*s >= '0' && *s <= '9' && s - *p < 6)
		v = v * 10 + (*s++ - '0');
	if (s == *p || (*s >= '0' && *s <= '9'))
		return -1;
	*p = s;
	return v;
}

/* One "WxH@KBPS" at *p, up to a comma or the end. */
static int rung(const char **p, struct hls_rung *r, char *why, size_t cap)
{
	const char *s = *p;
	long w, h, k;

	w = number(&s);
	if (w < 0 || *s++ != 'x' || (h = number(&s)) < 0 || *s++ != '@' ||
	    (k = number(&s)) < 0 || (*s && *s != ',')) {
		snprintf(why, cap, "\"%.40s\" is not WxH@KBPS", *p);
		return -1;
	}
	if (w < 16 || h < 16 || w >= TOP_W || h >= TOP_H || w % 2 || h % 2 ||
	    w * 9 != h * 16) {
		snprintf(why, cap, "%ldx%ld must be 16:9, even, from 16x9 up to "
			 "below 1280x720", w, h);
		return -1;
	}
	if (k < 64 || k > 20000) {
		snprintf(why, cap, "%ld kb/s must be from 64 to 20000", k);
		return -1;
	}
	r->width = (int)w;
	r->height = (int)h;
	r->kbps = (int)k;
	snprintf(r->name, sizeof(r->name), "%dp", r->height);
	*p = s;
	return 0;
}

int hls_ladder_parse(const char *v, struct hls_ladder *out, char *why,
		     size_t cap)
{
	const char *p = v;
	int i;

	memset(out, 0, sizeof(*out));
	if (!strcmp(v, "off"))
		return 0;
	out->enabled = 1;
	while (*p) {
		if (out->n == HLS_LADDER_MAX) {
			snprintf(why, cap, "at most %d renditions below 720p",
				 HLS_LADDER_MAX);
			goto bad;
		}
		if (rung(&p, &out->rung[out->n], why, cap))
			goto bad;
		for (i = 0; i < out->n; i++)
			if (out->rung[i].height == out->rung[out->n].height) {
				snprintf(why, cap, "%s is listed twice",
					 out->rung[i].name);
				goto bad;
			}
		out->n++;
		if (*p == ',' && !*++p) {
			snprintf(why, cap, "a comma ends the list");
			goto bad;
		}
	}
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return -1;
}
