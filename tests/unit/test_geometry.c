/*
 * test_geometry.c - orientation from display matrices, fit-and-pad.
 */
#include <math.h>
#include <string.h>

#include <libavutil/display.h>
#include <libavutil/frame.h>

#include "geometry.h"
#include "picture.h"
#include "unit.h"

/* The matrix ffprobe reports as rotation `rot`, optionally mirrored. */
static struct geom_orient orient_of(double rot, int hflip, int vflip)
{
	int32_t m[9];

	av_display_rotation_set(m, -rot);
	if (!hflip && !vflip)
		CHECK_INT((lround(av_display_rotation_get(m)) % 360 + 360) % 360,
			  (lround(rot) % 360 + 360) % 360);
	av_display_matrix_flip(m, hflip, vflip);
	return geom_orient_from_matrix(m);
}

/*
 * Where the stored picture's top-left pixel lands, as a corner 0..3
 * (tl, tr, bl, br) of the upright one, for a 2x3 stored picture.
 */
static int corner_of_top_left(struct geom_orient o)
{
	AVFrame *src = av_frame_alloc(), *dst = av_frame_alloc();
	struct geom_rect r = { 0, 0, 0, 0 };
	int w, h, corner = -1;

	src->format = dst->format = AV_PIX_FMT_YUV420P;
	src->width = 4;
	src->height = 6;
	av_frame_get_buffer(src, 0);
	memset(src->data[0], 0, (size_t)src->linesize[0] * 6);
	src->data[0][0] = 255;
	w = o.transpose ? 6 : 4;
	h = o.transpose ? 4 : 6;
	dst->width = r.w = w;
	dst->height = r.h = h;
	av_frame_get_buffer(dst, 0);
	pic_orient_copy(dst, r, src, o);
	if (dst->data[0][0] == 255)
		corner = 0;
	else if (dst->data[0][w - 1] == 255)
		corner = 1;
	else if (dst->data[0][(size_t)(h - 1) * dst->linesize[0]] == 255)
		corner = 2;
	else if (dst->data[0][(size_t)(h - 1) * dst->linesize[0] + w - 1] == 255)
		corner = 3;
	av_frame_free(&src);
	av_frame_free(&dst);
	return corner;
}

static void test_geometry_no_matrix_is_upright(void)
{
	struct geom_orient o = geom_orient_from_matrix(NULL);

	CHECK(!o.transpose && !o.flip_x && !o.flip_y);
	CHECK_INT(geom_orient_degrees(o), 0);
	CHECK_INT(corner_of_top_left(orient_of(0, 0, 0)), 0);
}

/* FFmpeg's player turns a matrix of rotation 90 (ffprobe's number)
 * counter-clockwise: the stored top-left ends bottom-left. */
static void test_geometry_rotations_turn_the_right_way(void)
{
	CHECK_INT(geom_orient_degrees(orient_of(90, 0, 0)), 90);
	CHECK_INT(corner_of_top_left(orient_of(90, 0, 0)), 2);
	CHECK_INT(geom_orient_degrees(orient_of(180, 0, 0)), 180);
	CHECK_INT(corner_of_top_left(orient_of(180, 0, 0)), 3);
	CHECK_INT(geom_orient_degrees(orient_of(270, 0, 0)), 270);
	CHECK_INT(corner_of_top_left(orient_of(270, 0, 0)), 1);
	CHECK_INT(geom_orient_degrees(orient_of(-90, 0, 0)), 270);
	CHECK(orient_of(90, 0, 0).transpose && orient_of(270, 0, 0).transpose);
	CHECK(!orient_of(180, 0, 0).transpose);
	/* not a multiple of 90: the nearest one */
	CHECK_INT(geom_orient_degrees(orient_of(80, 0, 0)), 90);
}

static void test_geometry_mirrors(void)
{
	CHECK_INT(corner_of_top_left(orient_of(0, 1, 0)), 1);
	CHECK_INT(corner_of_top_left(orient_of(0, 0, 1)), 2);
	CHECK_INT(corner_of_top_left(orient_of(0, 1, 1)), 3);
	/* a mirrored quarter turn is a transpose: corners on the diagonal */
	CHECK_INT(corner_of_top_left(orient_of(90, 1, 0)) % 3, 0);
	CHECK(orient_of(90, 1, 0).transpose);
}

static void check_fit(int sw, int sh, int sn, int sd, struct geom_orient o,
		      int x, int y, int w, int h)
{
	struct geom_rect r;

	CHECK_INT(geom_fit(sw, sh, sn, sd, o, 1280, 720, &r), 0);
	CHECK_INT(r.x, x);
	CHECK_INT(r.y, y);
	CHECK_INT(r.w, w);
	CHECK_INT(r.h, h);
}

static void test_geometry_fit_and_pad(void)
{
	struct geom_orient up = { 0, 0, 0 }, turned = { 1, 1, 0 };
	struct geom_rect r;
	int dw, dh;

	check_fit(1920, 1080, 1, 1, up, 0, 0, 1280, 720);
	check_fit(640, 480, 0, 1, up, 160, 0, 960, 720);	/* 4:3 */
	check_fit(840, 360, 1, 1, up, 0, 86, 1280, 548);	/* 21:9 */
	check_fit(1440, 1080, 4, 3, up, 0, 0, 1280, 720);	/* anamorphic */
	check_fit(1917, 1079, 1, 1, up, 0, 0, 1280, 720);	/* odd */
	check_fit(1920, 1080, 1, 1, turned, 436, 0, 406, 720);	/* portrait */
	check_fit(1080, 1920, 1, 1, up, 436, 0, 406, 720);
	check_fit(2, 2, 1, 1, up, 280, 0, 720, 720);		/* upscale */
	check_fit(1, 1000, 1, 1, up, 638, 0, 2, 720);		/* sliver */
	CHECK_INT(geom_fit(0, 1080, 1, 1, up, 1280, 720, &r), -1);
	geom_display_size(1440, 1080, 4, 3, turned, &dw, &dh);
	CHECK_INT(dw, 1080);
	CHECK_INT(dh, 1920);
}

const struct unit_test test_geometry_suite[] = {
	UNIT_TEST(test_geometry_no_matrix_is_upright),
	UNIT_TEST(test_geometry_rotations_turn_the_right_way),
	UNIT_TEST(test_geometry_mirrors),
	UNIT_TEST(test_geometry_fit_and_pad),
	{ NULL, NULL }
};
