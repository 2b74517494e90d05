/*
 * geometry.c - orientation from display matrices and fit-and-pad rectangles.
 *
 * A display matrix [a b u; c d v; x y w] maps a stored pixel (x, y) to
 * (a*x + c*y, b*x + d*y) plus a translation.  For the axis-aligned cases
 * either b = c = 0 (no transpose; the signs of a and d say which axis is
 * mirrored) or a = d = 0 (transpose; c and b carry the mirrors).  FFmpeg
 * exports the matrix so that b > 0, c < 0 is what its own player turns
 * clockwise (transpose=clock); these rules agree with it on all eight
 * cases, which the unit tests pin down.
 */
#include <math.h>

#include "geometry.h"

struct geom_orient geom_orient_from_matrix(const int32_t *m)
{
	struct geom_orient o = { 0, 0, 0 };
	double a, b, c, d;

	if (!m)
		return o;
	a = m[0], b = m[1], c = m[3], d = m[4];
	if (fabs(a) + fabs(d) >= fabs(b) + fabs(c)) {
		o.flip_x = a < 0;
		o.flip_y = d < 0;
	} else {
		o.transpose = 1;
		o.flip_x = c < 0;
		o.flip_y = b < 0;
	}
	return o;
}

int geom_orient_degrees(struct geom_orient o)
{
	/* transpose+flip_y is a counter-clockwise quarter turn,
	 * transpose+flip_x a clockwise one, flip_x+flip_y a half turn */
	if (o.transpose)
		return o.flip_y ? 90 : o.flip_x ? 270 : 0;
	return o.flip_x && o.flip_y ? 180 : 0;
}

/* Upright size in square pixels, unrounded. */
static void upright(int sw, int sh, int sar_num, int sar_den,
		    struct geom_orient o, double *w, double *h)
{
	double t;

	*w = sw;
	*h = sh;
	/* the pixel aspect stretches the stored x axis, before any turn */
	if (sar_num > 0 && sar_den > 0)
		*w = *w * sar_num / sar_den;
	if (o.transpose) {
		t = *w;
		*w = *h;
		*h = t;
	}
}

void geom_display_size(int sw, int sh, int sar_num, int sar_den,
		       struct geom_orient o, int *dw, int *dh)
{
	double w, h;

	upright(sw, sh, sar_num, sar_den, o, &w, &h);
	*dw = (int)lround(w);
	*dh = (int)lround(h);
}

static int even(double v, int max)
{
	int n = 2 * (int)lround(v / 2);

	if (n < 2)
		n = 2;
	return n > max ? max : n;
}

int geom_fit(int sw, int sh, int sar_num, int sar_den, struct geom_orient o,
	     int ow, int oh, struct geom_rect *r)
{
	double w, h, scale;

	if (sw <= 0 || sh <= 0 || ow < 2 || oh < 2)
		return -1;
	upright(sw, sh, sar_num, sar_den, o, &w, &h);
	scale = fmin(ow / w, oh / h);
	r->w = even(w * scale, ow);
	r->h = even(h * scale, oh);
	r->x = ((ow - r->w) / 2) & ~1;
	r->y = ((oh - r->h) / 2) & ~1;
	return 0;
}
