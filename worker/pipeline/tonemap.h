/*
 * tonemap.h - HDR (PQ, HLG) pictures to BT.709 SDR, after scaling.
 *
 * Per pixel, on the picture already scaled to its place on the canvas
 * (so at most 1280x720 pixels a frame, whatever the source size):
 *
 *   1. Y'CbCr to non-linear R'G'B' with the source's coefficients
 *      (ITU-R BT.2020 non-constant luminance, or BT.709);
 *   2. to display light with the source's transfer, per ITU-R BT.2100:
 *      PQ's EOTF (Table 4, SMPTE ST 2084) in cd/m2; HLG's EOTF (Table 5:
 *      the inverse OETF, then the OOTF with gamma 1.2 and alpha 1000
 *      cd/m2 for the nominal display), with the OOTF applied to each
 *      component rather than through the luminance Ys: that is how
 *      zimg (ffmpeg's zscale) applies it, and so how the HLG that
 *      today's tools make from SDR material was encoded; the luminance
 *      form would desaturate those colours (a 75% red bar by 3.3 CIEDE2000).
 *      Divided by the SDR reference white (TONEMAP_SDR_WHITE_NITS), so
 *      1.0 is SDR white;
 *   3. BT.2020 primaries to BT.709 with a 3x3 matrix in linear light
 *      (ITU-R BT.2087, derived here from the two sets of primaries and
 *      D65); colours outside BT.709 (a component below 0 by more than
 *      coding noise) are moved towards the grey of the same BT.709
 *      luminance until they fit, so their hue (the line from white
 *      through the colour) and their luminance are kept and only their
 *      saturation is reduced;
 *   4. highlights above SDR white are tone-mapped with Mobius's curve on
 *      max(R, G, B): the identity up to a knee (TONEMAP_KNEE), then a
 *      rational roll-off that reaches 1.0 at the peak, with matching
 *      slope at the knee; the three components are scaled by the same
 *      factor, so hue and saturation stay.  The peak is the pictures'
 *      own brightest (a high percentile of each picture, applied from
 *      the next one, smoothed), between SDR white and the nominal or
 *      declared peak: content that stays within SDR range comes out as
 *      it was mastered, and only real highlights are compressed;
 *   5. BT.709's display encoding (the inverse of the BT.1886 EOTF,
 *      gamma 2.4, for an ideal display) and BT.709 Y'CbCr, 8-bit
 *      limited range, chroma averaged over 2x2 pixels (4:2:0).
 *
 * Steps 2 and 5 go through 1D tables (4096 entries); the rest is a
 * handful of multiply-adds a pixel, written for the compiler's
 * vectoriser.  Why Mobius rather than BT.2390's EETF or Hable's filmic
 * curve: docs/architecture.md ("Colour").
 *
 * Life cycle: tonemap_new() once per source, tonemap_picture() per frame
 * (one thread at a time: it keeps its row buffers), tonemap_free().
 */
#ifndef SC_TONEMAP_H
#define SC_TONEMAP_H

#include <stdint.h>

#include "error.h"

/* SDR white, cd/m2: HDR content at this level comes out at 100%. */
#define TONEMAP_SDR_WHITE_NITS 100.0
/* Mobius's knee, linear light relative to SDR white: the identity below
 * (75% bars, 0.51, and everything darker stay as they were mastered). */
#define TONEMAP_KNEE 0.6
/* HLG's nominal display peak (BT.2100 Table 5), and PQ's default peak
 * when the stream says nothing of its mastering or content light. */
#define TONEMAP_HLG_PEAK_NITS 1000.0
#define TONEMAP_PQ_DEFAULT_PEAK_NITS 1000.0

enum tonemap_transfer {
	TONEMAP_PQ,		/* SMPTE ST 2084, BT.2100 PQ */
	TONEMAP_HLG,		/* ARIB STD-B67, BT.2100 HLG */
};

struct tonemap_opts {
	enum tonemap_transfer transfer;
	int primaries_2020;	/* BT.2020 primaries; 0: BT.709's */
	int matrix_2020;	/* BT.2020 NCL Y'CbCr; 0: BT.709's */
	double peak_nits;	/* brightest in the source (PQ: MaxCLL or
				 * the mastering display's); 0: default */
};

struct tonemap;

/* On SC_OK *out is the caller's (tonemap_free()); SC_ERR_NOMEM. */
enum sc_err tonemap_new(const struct tonemap_opts *o, struct tonemap **out);
void tonemap_free(struct tonemap *tm);

/* The highest peak (cd/m2) the roll-off has ended at so far (before
 * the first picture: the nominal or declared peak). */
double tonemap_peak_nits(const struct tonemap *tm);

/*
 * Map one linear BT.709 RGB value (1.0 = SDR white, components >= 0
 * after gamut mapping) through the highlight curve; exposed for tests.
 */
double tonemap_curve(const struct tonemap *tm, double x);

/*
 * Convert a w x h picture (w and h even) of 16-bit 4:2:0 Y'CbCr planes,
 * limited range at 16 bits (AV_PIX_FMT_YUV420P16 as swscale writes it:
 * black 4096, white 60160, neutral chroma 32768; each chroma sample
 * serves its 2x2 pixels) into 8-bit BT.709 limited-range 4:2:0 planes
 * (dst[1], dst[2] are w/2 x h/2).  Line sizes in bytes.  Nothing is
 * allocated.
 */
void tonemap_picture(struct tonemap *tm, uint8_t *const src[3],
		     const int src_ls[3], uint8_t *const dst[3],
		     const int dst_ls[3], int w, int h);

/* The widest picture tonemap_picture() takes (its row buffers). */
#define TONEMAP_MAX_W 4096

#endif
