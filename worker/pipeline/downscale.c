/*
 * downscale.c - exact 3:2 plane reduction.
 *
 * Two passes per pair of output rows: three input rows become two rows of
 * 16-bit sums (weights 2:1 and 1:2), then every three sums across become
 * two pixels (weights 2:1 and 1:2 again), divided by 9 with rounding.
 * Both loops are written for the compiler's vectoriser; on x86-64 they
 * are also built for the v2 (SSSE3 shuffles) and v3 (AVX2) levels and the
 * best one is picked at load time, since the across pass only vectorises
 * well with byte shuffles that the x86-64 baseline lacks.
 */
#include <stddef.h>

#include "downscale.h"

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define CLONES __attribute__((target_clones("default", "arch=x86-64-v2", \
					     "arch=x86-64-v3")))
#endif
#endif
#ifndef CLONES
#define CLONES
#endif

int downscale_3to2_fits(int sw, int sh, int dw, int dh)
{
	return dw > 0 && dh > 0 && !(dw & 1) && !(dh & 1) &&
	       (long)sw * 2 == (long)dw * 3 && (long)sh * 2 == (long)dh * 3;
}

CLONES static void down_rows(uint16_t *restrict v0, uint16_t *restrict v1,
			     const uint8_t *restrict a, const uint8_t *restrict b,
			     const uint8_t *restrict c, int w)
{
	int x;

	for (x = 0; x < w; x++) {
		v0[x] = (uint16_t)(2 * a[x] + b[x]);
		v1[x] = (uint16_t)(b[x] + 2 * c[x]);
	}
}

/* (s + 4) / 9 for s <= 9 * 255, as a multiply and shift */
#define DIV9(s) ((uint8_t)(((s) + 4u) * 7282u >> 16))

CLONES static void across(uint8_t *restrict d, const uint16_t *restrict v,
			  int dw)
{
	int x;

	for (x = 0; x < dw / 2; x++) {
		const uint16_t *s = v + 3 * x;

		d[2 * x] = DIV9(2u * s[0] + s[1]);
		d[2 * x + 1] = DIV9(s[1] + 2u * s[2]);
	}
}

void downscale_3to2(uint8_t *dst, int dls, const uint8_t *src, int sls,
		    int dw, int dh, uint16_t *tmp)
{
	int sw = dw / 2 * 3, y;
	uint16_t *v0 = tmp, *v1 = tmp + sw;

	for (y = 0; y < dh / 2; y++) {
		const uint8_t *a = src + (size_t)3 * y * sls;

		down_rows(v0, v1, a, a + sls, a + 2 * (size_t)sls, sw);
		across(dst + (size_t)2 * y * dls, v0, dw);
		across(dst + (size_t)(2 * y + 1) * dls, v1, dw);
	}
}
