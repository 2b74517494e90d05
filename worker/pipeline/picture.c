/*
 * picture.c - fill, turn and blend 4:2:0 pictures.
 *
 * The hot paths are pic_orient_copy() (every frame of a turned source) and
 * pic_blend() (every frame, over the logo's rectangle only); both are
 * plain loops the compiler vectorises where it can.
 */
#include <stdlib.h>
#include <string.h>

#include "picture.h"

struct pic_overlay {
	int w, h;
	uint8_t *y, *a;		/* w x h */
	uint8_t *u, *v, *ac;	/* w/2 x h/2; ac: alpha at chroma resolution */
};

static uint8_t clamp8(double v)
{
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)(v + 0.5);
}

struct pic_color pic_rgb(int r, int g, int b)
{
	double y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
	struct pic_color c;

	c.y = clamp8(16 + y * 219 / 255);
	c.u = clamp8(128 + (b - y) / 1.8556 * 224 / 255);
	c.v = clamp8(128 + (r - y) / 1.5748 * 224 / 255);
	return c;
}

static void fill_plane(uint8_t *p, int ls, int x, int y, int w, int h,
		       uint8_t v)
{
	int i;

	for (i = 0; i < h; i++)
		memset(p + (size_t)(y + i) * ls + x, v, w);
}

void pic_fill(AVFrame *f, struct geom_rect r, struct pic_color c)
{
	fill_plane(f->data[0], f->linesize[0], r.x, r.y, r.w, r.h, c.y);
	fill_plane(f->data[1], f->linesize[1], r.x / 2, r.y / 2, r.w / 2,
		   r.h / 2, c.u);
	fill_plane(f->data[2], f->linesize[2], r.x / 2, r.y / 2, r.w / 2,
		   r.h / 2, c.v);
}

/*
 * Destination pixel (X, Y) of a w x h rectangle comes from stored pixel
 * (X', Y') after undoing the mirrors, read as (Y', X') when transposed.
 */
static void orient_plane(uint8_t *dst, int dls, int w, int h,
			 const uint8_t *src, int sls, struct geom_orient o)
{
	ptrdiff_t step;
	const uint8_t *s;
	uint8_t *d;
	int X, Y, sy;

	for (Y = 0; Y < h; Y++) {
		sy = o.flip_y ? h - 1 - Y : Y;
		d = dst + (size_t)Y * dls;
		if (!o.transpose) {
			s = src + (size_t)sy * sls;
			if (!o.flip_x) {
				memcpy(d, s, w);
				continue;
			}
			for (X = 0; X < w; X++)
				d[X] = s[w - 1 - X];
			continue;
		}
		/* transposed: walk down column sy of the stored picture */
		s = src + sy;
		step = sls;
		if (o.flip_x) {
			s += (ptrdiff_t)(w - 1) * sls;
			step = -step;
		}
		for (X = 0; X < w; X++, s += step)
			d[X] = *s;
	}
}

void pic_orient_copy(AVFrame *dst, struct geom_rect r, const AVFrame *src,
		     struct geom_orient o)
{
	int p, sh;

	for (p = 0; p < 3; p++) {
		sh = p ? 1 : 0;
		orient_plane(dst->data[p] + (size_t)(r.y >> sh) * dst->linesize[p] +
				     (r.x >> sh),
			     dst->linesize[p], r.w >> sh, r.h >> sh, src->data[p],
			     src->linesize[p], o);
	}
}

static void pack_plane(uint8_t *dst, const uint8_t *src, int ls, int w, int h)
{
	int i;

	for (i = 0; i < h; i++)
		memcpy(dst + (size_t)i * w, src + (size_t)i * ls, w);
}

struct pic_overlay *pic_overlay_new(const AVFrame *f, int opacity)
{
	struct pic_overlay *ov;
	size_t n, c;
	int i, j, cw;

	ov = calloc(1, sizeof(*ov));
	if (!ov)
		return NULL;
	ov->w = f->width & ~1;
	ov->h = f->height & ~1;
	cw = ov->w / 2;
	n = (size_t)ov->w * ov->h;
	c = n / 4;
	ov->y = malloc(2 * n + 3 * c);
	if (!ov->y) {
		free(ov);
		return NULL;
	}
	ov->a = ov->y + n;
	ov->u = ov->a + n;
	ov->v = ov->u + c;
	ov->ac = ov->v + c;
	pack_plane(ov->y, f->data[0], f->linesize[0], ov->w, ov->h);
	pack_plane(ov->u, f->data[1], f->linesize[1], cw, ov->h / 2);
	pack_plane(ov->v, f->data[2], f->linesize[2], cw, ov->h / 2);
	pack_plane(ov->a, f->data[3], f->linesize[3], ov->w, ov->h);
	for (i = 0; i < (int)n; i++)
		ov->a[i] = (uint8_t)((ov->a[i] * opacity + 50) / 100);
	for (i = 0; i < ov->h / 2; i++) {
		for (j = 0; j < cw; j++) {
			const uint8_t *a = ov->a + (size_t)2 * i * ov->w + 2 * j;

			ov->ac[(size_t)i * cw + j] =
				(uint8_t)((a[0] + a[1] + a[ov->w] + a[ov->w + 1] + 2) / 4);
		}
	}
	return ov;
}

void pic_overlay_free(struct pic_overlay *ov)
{
	if (!ov)
		return;
	free(ov->y);
	free(ov);
}

int pic_overlay_width(const struct pic_overlay *ov)
{
	return ov->w;
}

int pic_overlay_height(const struct pic_overlay *ov)
{
	return ov->h;
}

/* d = (s * a + d * (255 - a)) / 255, rounded, without a division */
static void blend_plane(uint8_t *dst, int dls, const uint8_t *src,
			const uint8_t *alpha, int w, int h)
{
	unsigned v;
	int i, j;

	for (i = 0; i < h; i++) {
		uint8_t *d = dst + (size_t)i * dls;
		const uint8_t *s = src + (size_t)i * w, *a = alpha + (size_t)i * w;

		for (j = 0; j < w; j++) {
			v = s[j] * a[j] + d[j] * (255u - a[j]) + 128;
			d[j] = (uint8_t)((v + (v >> 8)) >> 8);
		}
	}
}

void pic_blend(AVFrame *f, int x, int y, const struct pic_overlay *ov)
{
	int cw = ov->w / 2, ch = ov->h / 2;

	blend_plane(f->data[0] + (size_t)y * f->linesize[0] + x, f->linesize[0],
		    ov->y, ov->a, ov->w, ov->h);
	blend_plane(f->data[1] + (size_t)(y / 2) * f->linesize[1] + x / 2,
		    f->linesize[1], ov->u, ov->ac, cw, ch);
	blend_plane(f->data[2] + (size_t)(y / 2) * f->linesize[2] + x / 2,
		    f->linesize[2], ov->v, ov->ac, cw, ch);
}
