/*
 * tonemap.c - HDR to SDR: tables, one matrix, Mobius's roll-off.
 *
 * Two rows at a time (4:2:0 chroma covers two): each row goes through
 * float row buffers in passes that the vectoriser can take whole (the
 * table look-ups are plain loads, in loops of their own).  On x86-64 the
 * passes are also built for the v2 (SSE4.2) and v3 (AVX2) levels, the
 * best one picked at load time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tonemap.h"

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define CLONES __attribute__((target_clones("default", "arch=x86-64-v2", \
					     "arch=x86-64-v3")))
#endif
#endif
#ifndef CLONES
#define CLONES
#endif

/* min and max the vectoriser turns into minps/maxps */
#define MINF(a, b) ((a) < (b) ? (a) : (b))
#define MAXF(a, b) ((a) > (b) ? (a) : (b))

#define LUT_BITS 12
#define LUT_N (1 << LUT_BITS)

/* Peak detection: a histogram of sqrt(level) in 1/64 steps up to 100
 * (10,000 cd/m2); the top PEAK_IGNORE of pixels do not count, and a
 * peak within PEAK_SLACK of SDR white is SDR white. */
#define HIST_SCALE 64
#define HIST_N (10 * HIST_SCALE + 1)
#define PEAK_IGNORE 0.01
#define PEAK_SLACK 0.1

struct tonemap {
	struct tonemap_opts o;
	double peak;			/* where the roll-off ends now,
					 * relative to SDR white */
	double max_peak;		/* the nominal or declared peak */
	double peak_used;		/* the highest peak so far */
	long long frames;		/* pictures converted */
	/* Y'CbCr (normalised) to R'G'B': R = y + cr_r*cr, ... */
	float cr_r, cb_g, cr_g, cb_b;
	float m[9];			/* linear source RGB to BT.709 RGB */
	float knee, mob_a, mob_b, mob_scale;
	int hlg;
	/* signal 0..1 in LUT_N steps -> display light, relative to SDR
	 * white */
	float to_linear[LUT_N + 1];
	/* sqrt(linear) 0..1 in LUT_N steps -> BT.709 signal 0..1 */
	float to_signal[LUT_N + 1];
	/* rows */
	float r[2][TONEMAP_MAX_W], g[2][TONEMAP_MAX_W], b[2][TONEMAP_MAX_W];
	float cb[TONEMAP_MAX_W], cr[TONEMAP_MAX_W];
	int ix[3][TONEMAP_MAX_W];	/* table positions */
	/* sampled levels of the picture being converted */
	unsigned hist[HIST_N];
	long long hist_n;
};

/* ---------------------------------------------------------- transfer */

/* BT.2100 Table 4: PQ's EOTF, signal 0..1 to cd/m2. */
static double pq_eotf(double e)
{
	const double m1 = 2610.0 / 16384, m2 = 2523.0 / 4096 * 128;
	const double c1 = 3424.0 / 4096, c2 = 2413.0 / 4096 * 32,
		     c3 = 2392.0 / 4096 * 32;
	double p;

	if (e <= 0)
		return 0;
	p = pow(e, 1 / m2);
	return 10000 * pow(fmax(p - c1, 0) / (c2 - c3 * p), 1 / m1);
}

/* BT.2100 Table 5: HLG's inverse OETF, signal 0..1 to scene light 0..1. */
static double hlg_inverse_oetf(double e)
{
	const double a = 0.17883277, b = 1 - 4 * a, c = 0.5 - a * log(4 * a);

	if (e <= 0)
		return 0;
	if (e <= 0.5)
		return e * e / 3;
	return (exp((e - c) / a) + b) / 12;
}

/* ------------------------------------------------------------ colour */

/* RGB to XYZ of primaries (x, y) pairs r, g, b and white w (BT.709 /
 * BT.2020 chromaticities). */
static void npm(const double p[8], double out[9])
{
	double x[3], z[3], s[3], xw, zw, d;
	double inv[9], m[9];
	int i;

	for (i = 0; i < 3; i++) {
		x[i] = p[2 * i] / p[2 * i + 1];
		z[i] = (1 - p[2 * i] - p[2 * i + 1]) / p[2 * i + 1];
	}
	xw = p[6] / p[7];
	zw = (1 - p[6] - p[7]) / p[7];
	/* columns: (x, 1, z) per primary */
	m[0] = x[0]; m[1] = x[1]; m[2] = x[2];
	m[3] = 1;    m[4] = 1;    m[5] = 1;
	m[6] = z[0]; m[7] = z[1]; m[8] = z[2];
	d = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
	    m[2] * (m[3] * m[7] - m[4] * m[6]);
	inv[0] = (m[4] * m[8] - m[5] * m[7]) / d;
	inv[1] = (m[2] * m[7] - m[1] * m[8]) / d;
	inv[2] = (m[1] * m[5] - m[2] * m[4]) / d;
	inv[3] = (m[5] * m[6] - m[3] * m[8]) / d;
	inv[4] = (m[0] * m[8] - m[2] * m[6]) / d;
	inv[5] = (m[2] * m[3] - m[0] * m[5]) / d;
	inv[6] = (m[3] * m[7] - m[4] * m[6]) / d;
	inv[7] = (m[1] * m[6] - m[0] * m[7]) / d;
	inv[8] = (m[0] * m[4] - m[1] * m[3]) / d;
	for (i = 0; i < 3; i++)
		s[i] = inv[3 * i] * xw + inv[3 * i + 1] * 1 + inv[3 * i + 2] * zw;
	for (i = 0; i < 3; i++) {
		out[i] = m[i] * s[i];
		out[3 + i] = m[3 + i] * s[i];
		out[6 + i] = m[6 + i] * s[i];
	}
}

static void invert3(const double m[9], double out[9])
{
	double d = m[0] * (m[4] * m[8] - m[5] * m[7]) -
		   m[1] * (m[3] * m[8] - m[5] * m[6]) +
		   m[2] * (m[3] * m[7] - m[4] * m[6]);

	out[0] = (m[4] * m[8] - m[5] * m[7]) / d;
	out[1] = (m[2] * m[7] - m[1] * m[8]) / d;
	out[2] = (m[1] * m[5] - m[2] * m[4]) / d;
	out[3] = (m[5] * m[6] - m[3] * m[8]) / d;
	out[4] = (m[0] * m[8] - m[2] * m[6]) / d;
	out[5] = (m[2] * m[3] - m[0] * m[5]) / d;
	out[6] = (m[3] * m[7] - m[4] * m[6]) / d;
	out[7] = (m[1] * m[6] - m[0] * m[7]) / d;
	out[8] = (m[0] * m[4] - m[1] * m[3]) / d;
}

/* BT.709 and BT.2020 primaries and D65, as x, y pairs (R, G, B, W). */
static const double prim_709[8] = { 0.640, 0.330, 0.300, 0.600, 0.150, 0.060,
				    0.3127, 0.3290 };
static const double prim_2020[8] = { 0.708, 0.292, 0.170, 0.797, 0.131, 0.046,
				     0.3127, 0.3290 };

/* ------------------------------------------------------------- curve */

/*
 * Mobius (as in mpv and libplacebo): f(x) = x up to the knee j, then
 * scale * (x + a) / (x + b), with f(j) = j, f'(j) = 1, f(peak) = 1.
 */
static void mobius_init(struct tonemap *tm)
{
	double j = TONEMAP_KNEE, p = tm->peak, a, b;

	if (p <= 1.0) {		/* nothing above white: clip (f = 1) */
		tm->knee = 1;
		tm->mob_a = 0;
		tm->mob_b = 0;
		tm->mob_scale = 1;
		return;
	}
	a = -j * j * (p - 1) / (j * j - 2 * j + p);
	b = (j * j - 2 * j * p + p) / (p - 1);
	tm->knee = (float)j;
	tm->mob_a = (float)a;
	tm->mob_b = (float)b;
	tm->mob_scale = (float)((b * b + 2 * b * j + j * j) / (b - a));
}

double tonemap_curve(const struct tonemap *tm, double x)
{
	if (x <= tm->knee)
		return x;
	return fmin(1.0, tm->mob_scale * (x + tm->mob_a) / (x + tm->mob_b));
}

double tonemap_peak_nits(const struct tonemap *tm)
{
	return (tm->frames ? tm->peak_used : tm->max_peak) * TONEMAP_SDR_WHITE_NITS;
}

/* -------------------------------------------------------------- life */

enum sc_err tonemap_new(const struct tonemap_opts *o, struct tonemap **out)
{
	double kr, kb, to709[9], src[9], dst_inv[9], d709[9];
	struct tonemap *tm;
	double peak_nits;
	int i;

	*out = NULL;
	tm = calloc(1, sizeof(*tm));
	if (!tm)
		return SC_ERR_NOMEM;
	tm->o = *o;
	tm->hlg = o->transfer == TONEMAP_HLG;
	peak_nits = tm->hlg ? TONEMAP_HLG_PEAK_NITS
			    : o->peak_nits > 0 ? o->peak_nits : TONEMAP_PQ_DEFAULT_PEAK_NITS;
	tm->max_peak = peak_nits / TONEMAP_SDR_WHITE_NITS;
	tm->peak = tm->max_peak;
	mobius_init(tm);

	kr = o->matrix_2020 ? 0.2627 : 0.2126;
	kb = o->matrix_2020 ? 0.0593 : 0.0722;
	tm->cr_r = (float)(2 * (1 - kr));
	tm->cb_b = (float)(2 * (1 - kb));
	tm->cb_g = (float)(-2 * (1 - kb) * kb / (1 - kr - kb));
	tm->cr_g = (float)(-2 * (1 - kr) * kr / (1 - kr - kb));

	/* linear source RGB -> XYZ -> linear BT.709 RGB */
	npm(o->primaries_2020 ? prim_2020 : prim_709, src);
	npm(prim_709, d709);
	invert3(d709, dst_inv);
	for (i = 0; i < 9; i++) {
		int r = i / 3, c = i % 3;

		to709[i] = dst_inv[3 * r] * src[c] + dst_inv[3 * r + 1] * src[3 + c] +
			   dst_inv[3 * r + 2] * src[6 + c];
		tm->m[i] = (float)to709[i];
	}
	for (i = 0; i <= LUT_N; i++) {
		double e = (double)i / LUT_N, u = e;

		/* HLG: the OOTF (gamma 1.2, alpha the nominal peak) per
		 * component, as zimg applies it (see tonemap.h) */
		tm->to_linear[i] = (float)(tm->hlg ? TONEMAP_HLG_PEAK_NITS *
							     pow(hlg_inverse_oetf(e), 1.2)
						   : pq_eotf(e)) /
				   TONEMAP_SDR_WHITE_NITS;
		/* BT.1886 inverse EOTF (gamma 2.4) of x = u^2 */
		tm->to_signal[i] = (float)pow(u * u, 1 / 2.4);
	}
	*out = tm;
	return SC_OK;
}

void tonemap_free(struct tonemap *tm)
{
	free(tm);
}

/* ------------------------------------------------------------ passes */

/* A chroma row (w/2 samples, 16-bit limited range) to w normalised
 * values, each sample covering two pixels. */
CLONES static void row_chroma(float *restrict c, const uint16_t *restrict s,
			      int w)
{
	const float cs = 1.0f / (224 << 8);
	int x;

	for (x = 0; x < w / 2; x++) {
		float v = ((float)s[x] - 32768) * cs;

		c[2 * x] = v;
		c[2 * x + 1] = v;
	}
}

/*
 * Table look-ups: a plain scalar loop (one load a value).  Vectorised,
 * they become emulated gathers (lane extracts and inserts), three times
 * slower on the machines measured; built without the vectoriser.
 */
__attribute__((optimize("no-tree-vectorize")))
static void lookup3(const float *restrict lut, const int *restrict i0,
		    const int *restrict i1, const int *restrict i2,
		    float *restrict o0, float *restrict o1, float *restrict o2,
		    int w)
{
	int x;

	for (x = 0; x < w; x++) {
		o0[x] = lut[i0[x]];
		o1[x] = lut[i1[x]];
		o2[x] = lut[i2[x]];
	}
}

/* 16-bit limited-range Y' and normalised Cb, Cr to the table positions
 * of R', G', B'. */
CLONES static void row_to_index(const struct tonemap *tm, int *restrict ir,
				int *restrict ig, int *restrict ib,
				const uint16_t *restrict y,
				const float *restrict cb,
				const float *restrict cr, int w)
{
	const float ys = 1.0f / (219 << 8);
	const float cr_r = tm->cr_r, cb_g = tm->cb_g, cr_g = tm->cr_g,
		    cb_b = tm->cb_b;
	int x;

	for (x = 0; x < w; x++) {
		float yy = ((float)y[x] - 4096) * ys;
		float rr = yy + cr_r * cr[x], gg = yy + cb_g * cb[x] + cr_g * cr[x],
		      bb = yy + cb_b * cb[x];

		rr = MINF(MAXF(rr, 0.0f), 1.0f);
		gg = MINF(MAXF(gg, 0.0f), 1.0f);
		bb = MINF(MAXF(bb, 0.0f), 1.0f);
		ir[x] = (int)(rr * LUT_N + 0.5f);
		ig[x] = (int)(gg * LUT_N + 0.5f);
		ib[x] = (int)(bb * LUT_N + 0.5f);
	}
}

/*
 * To BT.709 primaries, into gamut keeping hue.  A component a little
 * below zero (within GAMUT_SLACK of the colour's luminance: coding noise
 * on an in-gamut colour) is clipped; a colour further out is first
 * moved towards the grey of its luminance until its lowest component is
 * at that slack, which keeps its hue and luminance.
 */
#define GAMUT_SLACK 0.1f

CLONES static void row_gamut(const struct tonemap *tm, float *restrict r,
			     float *restrict g, float *restrict b, int w)
{
	const float *m = tm->m;
	int x;

	for (x = 0; x < w; x++) {
		float rr = m[0] * r[x] + m[1] * g[x] + m[2] * b[x];
		float gg = m[3] * r[x] + m[4] * g[x] + m[5] * b[x];
		float bb = m[6] * r[x] + m[7] * g[x] + m[8] * b[x];
		float l = MAXF(0.2126f * rr + 0.7152f * gg + 0.0722f * bb, 0.0f);
		float lo = MINF(MINF(rr, gg), bb);
		float slack = GAMUT_SLACK * l;
		float t = lo < -slack ? (l + slack) / MAXF(l - lo, 1e-6f) : 1.0f;

		r[x] = MAXF(l + t * (rr - l), 0.0f);
		g[x] = MAXF(l + t * (gg - l), 0.0f);
		b[x] = MAXF(l + t * (bb - l), 0.0f);
	}
}

/* Highlights rolled off on max(R, G, B); the table positions of the
 * BT.709 signal values (the table is indexed by the square root). */
CLONES static void row_curve(const struct tonemap *tm, const float *restrict r,
			     const float *restrict g, const float *restrict b,
			     int *restrict ir, int *restrict ig, int *restrict ib,
			     int w)
{
	const float knee = tm->knee, ma = tm->mob_a, mb = tm->mob_b,
		    ms = tm->mob_scale;
	int x;

	for (x = 0; x < w; x++) {
		float hi = MAXF(MAXF(r[x], g[x]), b[x]);
		float k = hi > knee ? MINF(ms * (hi + ma) / (hi + mb), 1.0f) / hi : 1.0f;
		float rr = MINF(MAXF(r[x] * k, 0.0f), 1.0f);
		float gg = MINF(MAXF(g[x] * k, 0.0f), 1.0f);
		float bb = MINF(MAXF(b[x] * k, 0.0f), 1.0f);

		ir[x] = (int)(sqrtf(rr) * LUT_N + 0.5f);
		ig[x] = (int)(sqrtf(gg) * LUT_N + 0.5f);
		ib[x] = (int)(sqrtf(bb) * LUT_N + 0.5f);
	}
}

static uint8_t clamp8(float v)
{
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : (int)(v + 0.5f));
}

/* BT.709 R'G'B' of two rows to Y' (both) and Cb, Cr (their 2x2 means). */
CLONES static void rows_to_yuv(float *restrict r0, float *restrict g0,
			       float *restrict b0, float *restrict r1,
			       float *restrict g1, float *restrict b1,
			       uint8_t *restrict y0, uint8_t *restrict y1,
			       uint8_t *restrict u, uint8_t *restrict v, int w)
{
	int x;

	for (x = 0; x < w; x++) {
		y0[x] = clamp8(16 + 219 * (0.2126f * r0[x] + 0.7152f * g0[x] + 0.0722f * b0[x]));
		y1[x] = clamp8(16 + 219 * (0.2126f * r1[x] + 0.7152f * g1[x] + 0.0722f * b1[x]));
	}
	for (x = 0; x < w / 2; x++) {
		float rr = (r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1]) * 0.25f;
		float gg = (g0[2 * x] + g0[2 * x + 1] + g1[2 * x] + g1[2 * x + 1]) * 0.25f;
		float bb = (b0[2 * x] + b0[2 * x + 1] + b1[2 * x] + b1[2 * x + 1]) * 0.25f;
		float yy = 0.2126f * rr + 0.7152f * gg + 0.0722f * bb;

		u[x] = clamp8(128 + 224 * (bb - yy) / 1.8556f);
		v[x] = clamp8(128 + 224 * (rr - yy) / 1.5748f);
	}
}

/* Two rows of 16-bit Y'CbCr from row y (even) to linear BT.709 in the
 * row buffers. */
static void rows_linear(struct tonemap *tm, uint8_t *const src[3],
			const int src_ls[3], int y, int w)
{
	int i;

	row_chroma(tm->cb, (const uint16_t *)(src[1] + (size_t)(y / 2) * src_ls[1]), w);
	row_chroma(tm->cr, (const uint16_t *)(src[2] + (size_t)(y / 2) * src_ls[2]), w);
	for (i = 0; i < 2; i++) {
		row_to_index(tm, tm->ix[0], tm->ix[1], tm->ix[2],
			     (const uint16_t *)(src[0] + (size_t)(y + i) * src_ls[0]),
			     tm->cb, tm->cr, w);
		lookup3(tm->to_linear, tm->ix[0], tm->ix[1], tm->ix[2], tm->r[i],
			tm->g[i], tm->b[i], w);
		row_gamut(tm, tm->r[i], tm->g[i], tm->b[i], w);
	}
}

/* Count every other pixel of row buffer 0 into the histogram of
 * sqrt(max(R, G, B)). */
static void sample_row(struct tonemap *tm, int w)
{
	int x, bin;

	for (x = 0; x < w; x += 2) {
		float hi = MAXF(MAXF(tm->r[0][x], tm->g[0][x]), tm->b[0][x]);

		bin = (int)(sqrtf(hi) * HIST_SCALE);
		tm->hist[bin < HIST_N ? bin : HIST_N - 1]++;
		tm->hist_n++;
	}
}

/* The level below which all but PEAK_IGNORE of the sampled pixels lie. */
static double hist_peak(struct tonemap *tm)
{
	long long above = 0, allowed = (long long)(tm->hist_n * PEAK_IGNORE);
	double peak = 0, u;
	int i;

	for (i = HIST_N - 1; i >= 0; i--) {
		above += tm->hist[i];
		if (above > allowed) {
			u = (double)(i + 1) / HIST_SCALE;
			peak = u * u;
			break;
		}
	}
	memset(tm->hist, 0, sizeof(tm->hist));
	tm->hist_n = 0;
	return peak;
}

/*
 * The peak the roll-off ends at follows the pictures: their brightest
 * level but for the top PEAK_IGNORE of pixels (the overshoot of coding
 * and scaling at sharp edges), at most the nominal or declared peak; a
 * level within PEAK_SLACK of SDR white counts as SDR white (clipped, as
 * an SDR master would be).  Up quickly (half the way a frame, so new
 * highlights are clipped for a frame or two at most), down slowly (a
 * twentieth a frame, about a second), so a picture never pumps.  Below
 * the knee nothing depends on it.
 */
static void follow_peak(struct tonemap *tm, double frame_peak, int first)
{
	double want = frame_peak < 1.0 + PEAK_SLACK ? 1.0 : fmin(frame_peak, tm->max_peak);

	if (first)
		tm->peak = want;
	else
		tm->peak += (want - tm->peak) * (want > tm->peak ? 0.5 : 0.05);
	if (tm->peak > tm->peak_used)
		tm->peak_used = tm->peak;
	mobius_init(tm);
}

void tonemap_picture(struct tonemap *tm, uint8_t *const src[3],
		     const int src_ls[3], uint8_t *const dst[3],
		     const int dst_ls[3], int w, int h)
{
	int y, i;

	if (w > TONEMAP_MAX_W)
		w = TONEMAP_MAX_W;
	if (!tm->frames) {
		/* the first picture: measure it before mapping it */
		for (y = 0; y + 1 < h; y += 4) {
			rows_linear(tm, src, src_ls, y, w);
			sample_row(tm, w);
		}
		follow_peak(tm, hist_peak(tm), 1);
	}
	for (y = 0; y + 1 < h; y += 2) {
		rows_linear(tm, src, src_ls, y, w);
		if (!(y & 3))
			sample_row(tm, w);
		for (i = 0; i < 2; i++) {
			row_curve(tm, tm->r[i], tm->g[i], tm->b[i], tm->ix[0],
				  tm->ix[1], tm->ix[2], w);
			lookup3(tm->to_signal, tm->ix[0], tm->ix[1], tm->ix[2],
				tm->r[i], tm->g[i], tm->b[i], w);
		}
		rows_to_yuv(tm->r[0], tm->g[0], tm->b[0], tm->r[1], tm->g[1],
			    tm->b[1], dst[0] + (size_t)y * dst_ls[0],
			    dst[0] + (size_t)(y + 1) * dst_ls[0],
			    dst[1] + (size_t)(y / 2) * dst_ls[1],
			    dst[2] + (size_t)(y / 2) * dst_ls[2], w);
	}
	if (tm->frames++)
		follow_peak(tm, hist_peak(tm), 0);
	else
		hist_peak(tm);	/* reset */
}
