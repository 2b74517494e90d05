/*
 * test_tonemap.c - HDR to SDR: the curve, and whole pictures of one level.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "tonemap.h"
#include "unit.h"

#define W 16
#define H 4

/* Convert a W x H picture of one 16-bit Y'CbCr value; the output's Y, Cb,
 * Cr of its first pixel. */
static void one_level(struct tonemap *tm, int y, int cb, int cr, int out[3])
{
	static uint16_t py[W * H], pu[W * H / 4], pv[W * H / 4];
	static uint8_t oy[W * H], ou[W * H / 4], ov[W * H / 4];
	uint8_t *src[3] = { (uint8_t *)py, (uint8_t *)pu, (uint8_t *)pv };
	uint8_t *dst[3] = { oy, ou, ov };
	int sls[3] = { 2 * W, W, W }, dls[3] = { W, W / 2, W / 2 }, i;

	for (i = 0; i < W * H; i++)
		py[i] = (uint16_t)y;
	for (i = 0; i < W * H / 4; i++) {
		pu[i] = (uint16_t)cb;
		pv[i] = (uint16_t)cr;
	}
	tonemap_picture(tm, src, sls, dst, dls, W, H);
	out[0] = oy[W * H - 1];
	out[1] = ou[0];
	out[2] = ov[0];
}

/* 10-bit limited-range code v at 16 bits */
#define C10(v) ((v) << 6)

static void test_tonemap_levels_within_sdr_range_are_kept(void)
{
	struct tonemap_opts o = { TONEMAP_PQ, 1, 1, 0 };
	struct tonemap *tm;
	int out[3];

	CHECK_INT(tonemap_new(&o, &tm), SC_OK);
	/* PQ 100 cd/m2 (signal 0.5081: 10-bit 509) is SDR white */
	one_level(tm, C10(509), C10(512), C10(512), out);
	CHECK_INT(out[0], 235);
	CHECK_INT(out[1], 128);
	CHECK_INT(out[2], 128);
	/* black */
	one_level(tm, C10(64), C10(512), C10(512), out);
	CHECK_INT(out[0], 16);
	/* 50 cd/m2 (signal 0.4400: 449): half of SDR white's light,
	 * 16 + 219 * 0.5^(1/2.4) = 180 */
	one_level(tm, C10(449), C10(512), C10(512), out);
	CHECK(abs(out[0] - 180) <= 1);
	tonemap_free(tm);

	/* HLG: 75% grey of the SDR bars (zimg's HLG of it: 10-bit 498) */
	o.transfer = TONEMAP_HLG;
	CHECK_INT(tonemap_new(&o, &tm), SC_OK);
	one_level(tm, C10(498), C10(512), C10(512), out);
	CHECK(abs(out[0] - 180) <= 1);
	CHECK_INT(out[1], 128);
	CHECK(tonemap_peak_nits(tm) == 100.0);	/* nothing above white */
	tonemap_free(tm);
	tonemap_free(NULL);
}

static void test_tonemap_curve_rolls_off_highlights(void)
{
	struct tonemap_opts o = { TONEMAP_HLG, 1, 1, 0 };
	struct tonemap *tm;
	double x, prev = -1, f;
	int out[3];

	CHECK_INT(tonemap_new(&o, &tm), SC_OK);
	/* before any picture: the nominal peak, 1000 cd/m2 (10x white) */
	CHECK(tonemap_peak_nits(tm) == 1000.0);
	CHECK(tonemap_curve(tm, 0.3) == 0.3);		/* identity below */
	CHECK(tonemap_curve(tm, TONEMAP_KNEE) == TONEMAP_KNEE);
	CHECK(fabs(tonemap_curve(tm, 10.0) - 1.0) < 1e-6);	/* the peak */
	for (x = 0; x <= 10.0; x += 0.01) {
		f = tonemap_curve(tm, x);
		CHECK(f > prev);		/* strictly increasing */
		CHECK(f <= 1.0);
		prev = f;
	}
	/* slope 1 at the knee: no kink */
	CHECK(fabs((tonemap_curve(tm, TONEMAP_KNEE + 1e-4) - TONEMAP_KNEE) / 1e-4 - 1) < 1e-2);
	/* a picture at HLG's top (1000 cd/m2) comes out as white, and the
	 * peak now follows it */
	one_level(tm, C10(940), C10(512), C10(512), out);
	CHECK_INT(out[0], 235);
	CHECK(tonemap_peak_nits(tm) > 900);
	tonemap_free(tm);
}

static void test_tonemap_out_of_gamut_keeps_hue(void)
{
	struct tonemap_opts o = { TONEMAP_PQ, 1, 1, 0 };
	struct tonemap *tm;
	int out[3];

	CHECK_INT(tonemap_new(&o, &tm), SC_OK);
	/* BT.2020's green primary at 50 cd/m2, far outside BT.709: it stays
	 * green, between BT.709's green and cyan (Cb below neutral, Cr well
	 * below), and keeps most of its light */
	one_level(tm, C10((int)(64 + 0.678 * 0.44 * 876)),
		  C10((int)(512 - 0.3604 * 0.44 * 896)),
		  C10((int)(512 - 0.4598 * 0.44 * 896)), out);
	CHECK(out[1] < 128);
	CHECK(out[2] < 80);
	CHECK(out[0] > 120);
	tonemap_free(tm);
}

const struct unit_test test_tonemap_suite[] = {
	UNIT_TEST(test_tonemap_levels_within_sdr_range_are_kept),
	UNIT_TEST(test_tonemap_curve_rolls_off_highlights),
	UNIT_TEST(test_tonemap_out_of_gamut_keeps_hue),
	{ NULL, NULL }
};
