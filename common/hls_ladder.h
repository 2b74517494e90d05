/*
 * hls_ladder.h - the HLS renditions made beside the 720p one (the
 * HLS_LADDER setting).
 *
 * The 720p rendition is always the MP4's own encode (the same packets go
 * to the MP4 and to its HLS muxer); the ladder lists the lower ones, each
 * scaled from the finished 1280x720 picture and encoded once at its own
 * bit rate.  A rendition is named after its height ("360p"): its media
 * playlist is "<name>.m3u8" and its one media file "<name>.m4s".
 *
 * Setting syntax: "off" (no HLS at all: the MP4 only), "" (HLS with the
 * 720p rendition alone), or a comma-separated list of WxH@KBPS, e.g.
 * "640x360@800,480x270@400": 16:9 sizes with even sides below 1280x720,
 * each height used once, 64..20000 kb/s, at most HLS_LADDER_MAX.
 */
#ifndef SC_HLS_LADDER_H
#define SC_HLS_LADDER_H

#include <stddef.h>

#define HLS_LADDER_MAX 4
#define HLS_NAME_MAX 16

struct hls_rung {
	int width, height;		/* pixels */
	int kbps;			/* target bit rate, kilobits per second */
	char name[HLS_NAME_MAX];	/* "<height>p" */
};

struct hls_ladder {
	int enabled;			/* 0: "off" */
	int n;				/* rungs below 720p */
	struct hls_rung rung[HLS_LADDER_MAX];
};

/*
 * Parse the setting v into *out.  Returns 0, or -1 with a sentence for
 * people in why (cap bytes) and *out zeroed.
 */
int hls_ladder_parse(const char *v, struct hls_ladder *out, char *why,
		     size_t cap);

#endif
