/*
 * test_downscale.c - the 3:2 fast path against the formula it implements.
 */
#include <stdint.h>
#include <stdlib.h>

#include "downscale.h"
#include "unit.h"

/* Input index i of a plane n long, edges repeated. */
static int clampi(int i, int n)
{
	return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/*
 * Output (x, y): the stretched triangle kernel, weights 1:5:3 (even
 * outputs, around input 3m) and 3:5:1 (odd, around 3m + 2) in each
 * direction, over 81, rounded.
 */
static int expect(const uint8_t *src, int sls, int sw, int sh, int x, int y)
{
	static const int w[2][3] = { { 1, 5, 3 }, { 3, 5, 1 } };
	int sx = x / 2 * 3 + 2 * (x & 1) - 1, sy = y / 2 * 3 + 2 * (y & 1) - 1;
	int i, j, sum = 0;

	for (i = 0; i < 3; i++)
		for (j = 0; j < 3; j++)
			sum += w[y & 1][i] * w[x & 1][j] *
			       src[clampi(sy + i, sh) * sls + clampi(sx + j, sw)];
	return (sum + 40) / 81;
}

static void check_size(int dw, int dh, int sls, int dls)
{
	int sw = dw * 3 / 2, sh = dh * 3 / 2, x, y, bad = 0;
	uint8_t *src = malloc((size_t)sls * sh), *dst = malloc((size_t)dls * dh);
	uint16_t *tmp = malloc(2 * ((size_t)sw + 2) * sizeof(uint16_t));

	for (x = 0; x < sls * sh; x++)
		src[x] = (uint8_t)(rand() % 4 ? rand() : (x & 1) * 255);
	downscale_3to2(dst, dls, src, sls, dw, dh, tmp);
	for (y = 0; y < dh; y++)
		for (x = 0; x < dw; x++)
			bad += dst[y * dls + x] != expect(src, sls, sw, sh, x, y);
	CHECK_INT(bad, 0);
	free(tmp);
	free(dst);
	free(src);
}

static void test_downscale_matches_the_formula(void)
{
	srand(7);
	check_size(1280, 720, 1920 + 64, 1280 + 32);
	check_size(640, 360, 960, 640);
	check_size(2, 2, 3, 2);
	check_size(34, 6, 51, 40);	/* not a multiple of any vector */
	/* the division by 81 is exact over the whole range (all 255) */
	check_size(4, 4, 6, 4);
}

static void test_downscale_fits_only_3_to_2(void)
{
	CHECK(downscale_3to2_fits(1920, 1080, 1280, 720));
	CHECK(downscale_3to2_fits(960, 540, 640, 360));
	CHECK(!downscale_3to2_fits(1920, 1080, 1280, 718));
	CHECK(downscale_3to2_fits(1440, 1080, 960, 720));
	CHECK(downscale_3to2_fits(3, 3, 2, 2));
	CHECK(!downscale_3to2_fits(1917, 1079, 1278, 719));
	CHECK(!downscale_3to2_fits(0, 0, 0, 0));
}

const struct unit_test test_downscale_suite[] = {
	UNIT_TEST(test_downscale_matches_the_formula),
	UNIT_TEST(test_downscale_fits_only_3_to_2),
	{ NULL, NULL }
};
