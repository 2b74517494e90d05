/*
 * geometry.h - where the source picture lands on the 1280x720 canvas.
 *
 * Pure arithmetic, no FFmpeg state: the orientation a display matrix asks
 * for, and the rectangle that fits the upright, square-pixel picture into
 * the output keeping its aspect ratio (the rest is padding).
 *
 * Invariants: a struct geom_rect from geom_fit() has even x, y, w and h
 * (4:2:0 chroma), w, h >= 2, and lies inside the output.
 */
#ifndef SC_GEOMETRY_H
#define SC_GEOMETRY_H

#include <stdint.h>

/*
 * How to turn the stored picture S into the upright picture U: first swap
 * the axes if `transpose`, then mirror left-right if `flip_x`, then
 * top-bottom if `flip_y`.  These eight cases are every rotation by a
 * multiple of 90 degrees, with or without a mirror.
 */
struct geom_orient {
	int transpose;
	int flip_x;
	int flip_y;
};

struct geom_rect {
	int x, y, w, h;
};

/*
 * The orientation a display matrix (9 x int32, FFmpeg's layout) asks for;
 * NULL means none.  Angles that are not a multiple of 90 degrees snap to
 * the nearest one.
 */
struct geom_orient geom_orient_from_matrix(const int32_t *matrix);

/*
 * The turn of o in degrees counter-clockwise (0, 90, 180, 270), the number
 * ffprobe prints as the display matrix's rotation; mirrors ignored.
 */
int geom_orient_degrees(struct geom_orient o);

/*
 * Fit a stored picture of sw x sh pixels, each sar_num:sar_den wide
 * (0:x or x:0 means square), turned by o, into ow x oh.  Returns 0, or -1
 * if a size is not positive.
 */
int geom_fit(int sw, int sh, int sar_num, int sar_den, struct geom_orient o,
	     int ow, int oh, struct geom_rect *r);

/* The upright display size (square pixels) of the same picture. */
void geom_display_size(int sw, int sh, int sar_num, int sar_den,
		       struct geom_orient o, int *dw, int *dh);

#endif
