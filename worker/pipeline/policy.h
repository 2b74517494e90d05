/*
 * policy.h - which sources the contest accepts.
 *
 * The defaults are the ANB rules (MP4/MOV, at most 100 MB, 20 to 60 s,
 * 1080p or more: the shorter side of the upright picture at least 1080,
 * so a 1080x1920 portrait phone video qualifies); every bound is a
 * setting.  The check is pure: it looks at what the probe found.
 *
 * The picture size has a ceiling too (POLICY_MAX_PIXELS): one decoded
 * frame of a 16K picture is hundreds of MB, so the size the container's
 * header claims is checked before any decoder sees a packet.
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
	int64_t max_pixels;		/* coded width x height */
};

/* What the probe found out about a source. */
struct policy_source {
	int64_t bytes;
	const char *container;	/* demuxer names, "mov,mp4,m4a,3gp,3g2,mj2" */
	const char *codec;	/* decoder name, "h264"; NULL: no video */
	double duration;	/* seconds; < 0 unknown */
	int width, height;	/* upright, square pixels */
	int coded_w, coded_h;	/* as stored, before aspect and turning;
				 * 0: not known yet */
};

/* The policy the settings in c describe; c must outlive it. */
void policy_from_config(struct policy *p, const struct config *c);

/*
 * TC_OK, or the first rule src breaks, with a sentence for people in msg
 * ("the video is 10.0 s long; the minimum is 20 s").  The rules, in
 * order: file size, container, picture size, a video stream, codec,
 * duration, shorter side.
 */
enum tc_reason policy_check(const struct policy *p,
			    const struct policy_source *src, struct buf *msg);

/*
 * The first three of those rules, which a container's header decides
 * before anything is decoded: file size, container (src->container must
 * be set) and picture size (skipped while src->coded_w is 0).  The probe
 * applies them as soon as it knows the format, then again once it knows
 * the header's picture size, so a file is never demuxed or decoded past
 * the point where it could have been refused.
 */
enum tc_reason policy_check_header(const struct policy *p,
				   const struct policy_source *src,
				   struct buf *msg);

/*
 * The rules that come before the duration: the header's three, then a
 * video stream and its codec.  The probe applies them before it spends
 * a scan of the file on a duration the header does not know.
 */
enum tc_reason policy_check_format(const struct policy *p,
				   const struct policy_source *src,
				   struct buf *msg);

#endif
