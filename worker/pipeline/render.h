/*
 * render.h - source frames and cards onto the output canvas.
 *
 * Invariants: every picture the renderer hands out is YUV420P, out_w x
 * out_h, BT.709 limited range, the source fitted into its rectangle and
 * the rest padding, with the watermark blended on.  An HDR source (with
 * o.tonemap) is scaled to 16-bit 4:2:0 first and converted to SDR at the
 * output size (tonemap.h); an SDR source goes straight to 8 bits.  The padding is painted
 * once per geometry, not per frame.
 *
 * Life cycle: render_new(); render_frame() per source frame to be shown,
 * render_card() for the cards; render_free().  Pictures returned belong to
 * the renderer and stay valid until its next call (an encoder that keeps a
 * reference gets a fresh buffer next time: av_frame_make_writable()).
 */
#ifndef SC_RENDER_H
#define SC_RENDER_H

#include <libavutil/frame.h>

#include "buf.h"
#include "error.h"
#include "geometry.h"
#include "picture.h"
#include "tonemap.h"

enum render_corner {
	RENDER_TOP_LEFT,
	RENDER_TOP_RIGHT,
	RENDER_BOTTOM_LEFT,
	RENDER_BOTTOM_RIGHT
};

struct render_opts {
	int out_w, out_h;
	struct geom_orient orient;	/* from the stream's display matrix */
	const struct pic_overlay *mark;	/* watermark, or NULL */
	enum render_corner corner;
	const struct pic_overlay *card_logo;	/* big logo for the cards */
	struct tonemap *tonemap;	/* an HDR source's conversion to SDR,
					 * applied after scaling; NULL: none.
					 * The caller's; outlives the renderer */
};

struct render;

/* On SC_OK *out is the caller's, freed with render_free(). */
enum sc_err render_new(const struct render_opts *o, struct render **out);
void render_free(struct render *r);

/*
 * Draw src (any pixel format, size or sample aspect swscale knows) onto
 * the canvas.  *pic is the renderer's.  SC_ERR_INVALID with err set when
 * the format cannot be converted.
 */
enum sc_err render_frame(struct render *r, const AVFrame *src, AVFrame **pic,
			 struct buf *err);

/* The picture the last render_frame() drew (to show it again). */
AVFrame *render_canvas(struct render *r);

/* Microseconds render_frame() has spent converting HDR to SDR (a part
 * of its time): wall time, or with cpu the calling thread's CPU time;
 * 0 for NULL or an SDR source. */
long long render_tonemap_us(const struct render *r, int cpu);

/* The card shown before and after the clip: the logo on the brand colour. */
enum sc_err render_card(struct render *r, AVFrame **pic);

/* Background of the cards and colour of the padding. */
#define RENDER_CARD_RGB 18, 32, 64
#define RENDER_PAD_RGB 0, 0, 0

#endif
