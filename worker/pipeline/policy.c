/*
 * policy.c - the acceptance rules, checked in the order a player can act
 * on them: size first (re-export), then format, then content.  The
 * picture size is checked with the format, since the header tells it and
 * it must be refused before anything is decoded.
 */
#include "policy.h"
#include "strlist.h"

void policy_from_config(struct policy *p, const struct config *c)
{
	p->containers = c->policy_containers;
	p->codecs = c->policy_codecs;
	p->max_bytes = (int64_t)c->policy_max_mb << 20;
	p->min_s = c->policy_min_s;
	p->max_s = c->policy_max_s;
	p->min_short_side = c->policy_min_short_side;
	p->max_pixels = c->policy_max_pixels;
}

enum tc_reason policy_check_header(const struct policy *p,
				   const struct policy_source *s,
				   struct buf *msg)
{
	int64_t pixels = (int64_t)s->coded_w * s->coded_h;

	if (s->bytes > p->max_bytes) {
		buf_appendf(msg, "the file is %.1f MB; the limit is %.0f MB",
			    s->bytes / 1048576.0, p->max_bytes / 1048576.0);
		return TC_TOO_LARGE;
	}
	if (!strlist_meet(s->container, p->containers)) {
		buf_appendf(msg, "the file is %s, not one of %s", s->container,
			    p->containers);
		return TC_UNSUPPORTED_CONTAINER;
	}
	if (pixels > p->max_pixels) {
		buf_appendf(msg, "the picture is %dx%d, %lld pixels; the limit is "
			    "%lld", s->coded_w, s->coded_h, (long long)pixels,
			    (long long)p->max_pixels);
		return TC_PICTURE_TOO_LARGE;
	}
	return TC_OK;
}

enum tc_reason policy_check_format(const struct policy *p,
				   const struct policy_source *s,
				   struct buf *msg)
{
	enum tc_reason r;

	if ((r = policy_check_header(p, s, msg)))
		return r;
	if (!s->codec) {
		buf_appends(msg, "the file has no video stream");
		return TC_NO_VIDEO_STREAM;
	}
	if (!strlist_meet(s->codec, p->codecs)) {
		buf_appendf(msg, "the video is coded as %s, not one of %s",
			    s->codec, p->codecs);
		return TC_UNSUPPORTED_CODEC;
	}
	return TC_OK;
}

enum tc_reason policy_check(const struct policy *p,
			    const struct policy_source *s, struct buf *msg)
{
	enum tc_reason r;
	int short_side;

	if ((r = policy_check_format(p, s, msg)))
		return r;
	if (s->duration < 0) {
		buf_appends(msg, "the video's duration cannot be read");
		return TC_CORRUPT;
	}
	if (s->duration < p->min_s) {
		buf_appendf(msg, "the video is %.1f s long; the minimum is %.0f s",
			    s->duration, p->min_s);
		return TC_TOO_SHORT;
	}
	if (s->duration > p->max_s) {
		buf_appendf(msg, "the video is %.1f s long; the maximum is %.0f s",
			    s->duration, p->max_s);
		return TC_TOO_LONG;
	}
	short_side = s->width < s->height ? s->width : s->height;
	if (short_side < p->min_short_side) {
		buf_appendf(msg, "the video is %dx%d; the shorter side must be at "
			    "least %d pixels", s->width, s->height,
			    p->min_short_side);
		return TC_LOW_RESOLUTION;
	}
	return TC_OK;
}
