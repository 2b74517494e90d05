/*
 * picture.h - drawing on 8-bit 4:2:0 pictures (AV_PIX_FMT_YUV420P).
 *
 * Invariants: every rectangle and position handed in is even (the chroma
 * planes are half size) and inside the picture; callers get them from
 * geometry.h.  Colours are BT.709 limited range, like the output.
 *
 * An overlay is a picture with straight alpha, kept as tightly packed
 * planes with its alpha also at chroma resolution, so blending reads
 * nothing twice.  Opacity is folded into the alpha when it is made.
 */
#ifndef SC_PICTURE_H
#define SC_PICTURE_H

#include <stdint.h>

#include <libavutil/frame.h>

#include "geometry.h"

struct pic_color {
	uint8_t y, u, v;
};

struct pic_overlay;

/* 8-bit sRGB to BT.709 limited-range YCbCr. */
struct pic_color pic_rgb(int r, int g, int b);

void pic_fill(AVFrame *f, struct geom_rect r, struct pic_color c);

/*
 * Copy src (YUV420P) into the rectangle r of dst, turned by o; the turned
 * size of src must be r.w x r.h.
 */
void pic_orient_copy(AVFrame *dst, struct geom_rect r, const AVFrame *src,
		     struct geom_orient o);

/*
 * Make an overlay from a YUVA420P frame of even size, opacity 0..100.
 * Returns NULL when out of memory; the caller frees it with
 * pic_overlay_free().
 */
struct pic_overlay *pic_overlay_new(const AVFrame *yuva, int opacity);
void pic_overlay_free(struct pic_overlay *ov);
int pic_overlay_width(const struct pic_overlay *ov);
int pic_overlay_height(const struct pic_overlay *ov);

/* Alpha-blend ov onto f with its top-left corner at (x, y). */
void pic_blend(AVFrame *f, int x, int y, const struct pic_overlay *ov);

#endif
