/*
 * policy.h - which sources the contest accepts.
 *
 * The defaults are the ANB rules (MP4/MOV, at most 100 MB, 20 to 60 s,
 * 1080p or more: the shorter side of the upright picture at least 1080,
 * so a 1080x1920 portrait phone video qualifies); every bound is a
 * setting.  The check is pure: it looks at what the probe found.
 */
#ifndef SC_POLICY_H
#define SC_POLICY_H

#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "reason.h"

struct policy {
	const char *containers;		/* comma-separated words */
	const char *codecs;
	int64_t max_bytes;
	double min_s, max_s;
	int min_short_side;
};

/* What the probe found out about a source. */
struct policy_source {
	int64_t bytes;
	const char *container;	/* demuxer names, "mov,mp4,m4a,3gp,3g2,mj2" */
	const char *codec;	/* decoder name, "h264"; NULL: no video */
	double duration;	/* seconds; < 0 unknown */
	int width, height;	/* upright, square pixels */
};

/* The policy the settings in c describe; c must outlive it. */
void policy_from_config(struct policy *p, const struct config *c);

/*
 * TC_OK, or the first rule src breaks, with a sentence for people in msg
 * ("the video is 10.0 s long; the minimum is 20 s").
 */
enum tc_reason policy_check(const struct policy *p,
			    const struct policy_source *src, struct buf *msg);

#endif
