/*
 * test_picture.c - blending and colours on 4:2:0 pictures.
 */
#include <string.h>

#include <libavutil/frame.h>

#include "picture.h"
#include "unit.h"

static AVFrame *picture(int fmt, int w, int h)
{
	AVFrame *f = av_frame_alloc();

	f->format = fmt;
	f->width = w;
	f->height = h;
	av_frame_get_buffer(f, 0);
	return f;
}

/* A 4x4 overlay of colour (y, u, v) with one alpha for every pixel. */
static struct pic_overlay *flat_overlay(int y, int u, int v, int a, int opacity)
{
	AVFrame *f = picture(AV_PIX_FMT_YUVA420P, 4, 4);
	struct pic_overlay *ov;
	int i;

	for (i = 0; i < 4; i++) {
		memset(f->data[0] + i * f->linesize[0], y, 4);
		memset(f->data[3] + i * f->linesize[3], a, 4);
	}
	for (i = 0; i < 2; i++) {
		memset(f->data[1] + i * f->linesize[1], u, 2);
		memset(f->data[2] + i * f->linesize[2], v, 2);
	}
	ov = pic_overlay_new(f, opacity);
	av_frame_free(&f);
	return ov;
}

static void test_picture_blend_follows_alpha(void)
{
	AVFrame *f = picture(AV_PIX_FMT_YUV420P, 16, 16);
	struct geom_rect all = { 0, 0, 16, 16 };
	struct pic_color grey = { 100, 128, 128 };
	struct pic_overlay *opaque = flat_overlay(200, 60, 90, 255, 100);
	struct pic_overlay *half = flat_overlay(200, 60, 90, 255, 50);
	struct pic_overlay *clear = flat_overlay(200, 60, 90, 0, 100);

	pic_fill(f, all, grey);
	pic_blend(f, 2, 4, opaque);
	CHECK_INT(f->data[0][4 * f->linesize[0] + 2], 200);
	CHECK_INT(f->data[1][2 * f->linesize[1] + 1], 60);
	CHECK_INT(f->data[2][2 * f->linesize[2] + 1], 90);
	CHECK_INT(f->data[0][4 * f->linesize[0] + 6], 100);	/* outside */
	CHECK_INT(f->data[0][3 * f->linesize[0] + 2], 100);

	pic_fill(f, all, grey);
	pic_blend(f, 8, 8, half);
	/* (200 * 128 + 100 * 127) / 255 */
	CHECK_INT(f->data[0][9 * f->linesize[0] + 9], 150);

	pic_fill(f, all, grey);
	pic_blend(f, 8, 8, clear);
	CHECK_INT(f->data[0][9 * f->linesize[0] + 9], 100);
	CHECK_INT(pic_overlay_width(opaque), 4);
	CHECK_INT(pic_overlay_height(opaque), 4);

	pic_overlay_free(opaque);
	pic_overlay_free(half);
	pic_overlay_free(clear);
	pic_overlay_free(NULL);
	av_frame_free(&f);
}

static void test_picture_bt709_colours(void)
{
	struct pic_color c;

	c = pic_rgb(0, 0, 0);
	CHECK(c.y == 16 && c.u == 128 && c.v == 128);
	c = pic_rgb(255, 255, 255);
	CHECK(c.y == 235 && c.u == 128 && c.v == 128);
	/* BT.709 red: Y 63, Cb 102, Cr 240 */
	c = pic_rgb(255, 0, 0);
	CHECK_INT(c.y, 63);
	CHECK_INT(c.u, 102);
	CHECK_INT(c.v, 240);
}

const struct unit_test test_picture_suite[] = {
	UNIT_TEST(test_picture_blend_follows_alpha),
	UNIT_TEST(test_picture_bt709_colours),
	{ NULL, NULL }
};
