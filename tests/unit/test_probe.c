/*
 * test_probe.c - stream choice and what a header's duration says.
 */
#include <stdint.h>

#include "probe.h"
#include "unit.h"

/* a real video track: 22 s at 30 fps, counted */
static struct probe_track video(int is_default, int64_t frames)
{
	struct probe_track t = { 0 };

	t.is_default = is_default;
	t.frames = frames;
	t.seconds = frames / 30.0;
	t.fps = 30;
	return t;
}

static void test_probe_pick_skips_stills_and_cover_art(void)
{
	struct probe_track v[3] = { video(0, 1), video(1, 660), video(0, 0) };
	enum probe_why why, left[3];

	/* a one-frame MJPEG track first (not default), the default video
	 * second */
	v[0].intra_only = 1;
	CHECK_INT(probe_pick(v, 2, &why, left), 1);
	CHECK_INT(why, PROBE_ONLY);
	CHECK_INT(left[0], PROBE_STILL);
	CHECK_INT(left[1], PROBE_NONE);
	/* cover art, even as the default and with "more frames" */
	v[0] = video(1, 5000);
	v[0].attached_pic = 1;
	CHECK_INT(probe_pick(v, 2, &why, left), 1);
	CHECK_INT(left[0], PROBE_COVER_ART);
	/* a track marked still */
	v[0] = video(1, 5000);
	v[0].still_image = 1;
	CHECK_INT(probe_pick(v, 2, &why, NULL), 1);
	/* nothing but stills: no video */
	CHECK_INT(probe_pick(v, 1, &why, left), -1);
	CHECK_INT(why, PROBE_NONE);
	/* a one-frame H.264 track is a (very short) video, not a still */
	v[0] = video(0, 1);
	CHECK_INT(probe_pick(v, 1, &why, left), 0);
	CHECK_INT(why, PROBE_ONLY);
	CHECK_INT(probe_pick(v, 0, &why, NULL), -1);
}

static void test_probe_pick_default_then_most_frames(void)
{
	struct probe_track v[3] = { video(0, 900), video(1, 300), video(0, 600) };
	enum probe_why why, left[3];

	/* the default track wins over a longer one */
	CHECK_INT(probe_pick(v, 3, &why, left), 1);
	CHECK_INT(why, PROBE_DEFAULT);
	CHECK_INT(left[0], PROBE_OTHER);
	/* several defaults (MOV marks every enabled track): most frames */
	v[2].is_default = 1;
	CHECK_INT(probe_pick(v, 3, &why, NULL), 2);
	CHECK_INT(why, PROBE_DEFAULT);
	/* no default: most frames, counted or from duration times rate */
	v[1].is_default = v[2].is_default = 0;
	CHECK_INT(probe_pick(v, 3, &why, NULL), 0);
	CHECK_INT(why, PROBE_MOST_FRAMES);
	v[0].frames = 0;	/* 30 s at 30 fps by duration still wins */
	CHECK_INT(probe_pick(v, 3, &why, NULL), 0);
	/* no default and nothing counted: the first; ties: the first */
	v[0] = v[1] = v[2] = video(0, 0);
	v[0].seconds = v[1].seconds = v[2].seconds = 0;
	CHECK_INT(probe_pick(v, 3, &why, NULL), 0);
	CHECK_INT(why, PROBE_FIRST);
	CHECK_STR(probe_why_name(PROBE_MOST_FRAMES), "most_frames");
	CHECK_STR(probe_why_name((enum probe_why)99), "none");
}

static void test_probe_header_duration_classes(void)
{
	CHECK_INT(probe_header_duration(384000), PROBE_HDR_KNOWN);
	CHECK_INT(probe_header_duration(0), PROBE_HDR_ZERO);
	CHECK_INT(probe_header_duration(AV_NOPTS_VALUE), PROBE_HDR_MISSING);
	CHECK_INT(probe_header_duration(-5), PROBE_HDR_MISSING);
	/* all ones: a version 0 box, and a version 1 box read as signed */
	CHECK_INT(probe_header_duration(0xFFFFFFFFLL), PROBE_HDR_UNKNOWN);
	CHECK_INT(probe_header_duration((int64_t)UINT64_MAX), PROBE_HDR_UNKNOWN);
	CHECK_INT(probe_header_duration(0xFFFFFFFELL), PROBE_HDR_KNOWN);
	CHECK_STR(probe_header_name(PROBE_HDR_UNKNOWN), "unknown");
	CHECK_STR(probe_source_name(PROBE_FROM_INDEX), "index");
	CHECK_STR(probe_source_name(PROBE_FROM_PACKETS), "packets");
}

const struct unit_test test_probe_suite[] = {
	UNIT_TEST(test_probe_pick_skips_stills_and_cover_art),
	UNIT_TEST(test_probe_pick_default_then_most_frames),
	UNIT_TEST(test_probe_header_duration_classes),
	{ NULL, NULL }
};
