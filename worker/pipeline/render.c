/*
 * render.c - scale, turn, pad and watermark one picture.
 *
 * Per source frame: swscale straight into the canvas when the picture is
 * upright (no copy), or into a scratch picture that pic_orient_copy() turns
 * into place.  Padding is painted when the geometry changes; per frame only
 * the watermark's rectangle is repainted before blending, so the logo never
 * blends onto itself where it overlaps the padding.
 */
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "clock.h"
#include "render.h"

/* margin between the watermark and the canvas edge, pixels */
#define MARK_MARGIN 24

struct render {
	struct render_opts o;
	struct SwsContext *sws;
	AVFrame *canvas;
	AVFrame *scratch;		/* the scaled picture before turning */
	AVFrame *hdr;			/* HDR: the scaled 16-bit picture */
	long long tonemap_us;		/* time spent in tonemap_picture() */
	long long tonemap_cpu_us;	/* the calling thread's CPU time there */
	AVFrame *card;
	struct geom_rect rect;		/* the source's place on the canvas */
	struct geom_rect mark;		/* the watermark's */
	int src_w, src_h, src_fmt, src_full, sar_num, sar_den;	/* for rect */
};

static AVFrame *new_picture(int w, int h)
{
	AVFrame *f = av_frame_alloc();

	if (!f)
		return NULL;
	f->format = AV_PIX_FMT_YUV420P;
	f->width = w;
	f->height = h;
	f->color_range = AVCOL_RANGE_MPEG;
	f->color_primaries = AVCOL_PRI_BT709;
	f->color_trc = AVCOL_TRC_BT709;
	f->colorspace = AVCOL_SPC_BT709;
	if (av_frame_get_buffer(f, 0) < 0)
		av_frame_free(&f);
	return f;
}

enum sc_err render_new(const struct render_opts *o, struct render **out)
{
	struct render *r;
	int mw, mh;

	*out = NULL;
	r = av_mallocz(sizeof(*r));
	if (!r)
		return SC_ERR_NOMEM;
	r->o = *o;
	r->src_fmt = AV_PIX_FMT_NONE;
	r->canvas = new_picture(o->out_w, o->out_h);
	if (!r->canvas) {
		render_free(r);
		return SC_ERR_NOMEM;
	}
	if (o->mark) {
		mw = pic_overlay_width(o->mark);
		mh = pic_overlay_height(o->mark);
		r->mark.w = mw;
		r->mark.h = mh;
		r->mark.x = o->corner == RENDER_TOP_LEFT ||
					    o->corner == RENDER_BOTTOM_LEFT
				    ? MARK_MARGIN
				    : (o->out_w - MARK_MARGIN - mw) & ~1;
		r->mark.y = o->corner == RENDER_TOP_LEFT ||
					    o->corner == RENDER_TOP_RIGHT
				    ? MARK_MARGIN
				    : (o->out_h - MARK_MARGIN - mh) & ~1;
		if (r->mark.x < 0 || r->mark.y < 0) {
			render_free(r);
			return SC_ERR_INVALID;
		}
	}
	*out = r;
	return SC_OK;
}

void render_free(struct render *r)
{
	if (!r)
		return;
	sws_freeContext(r->sws);
	av_frame_free(&r->card);
	av_frame_free(&r->scratch);
	av_frame_free(&r->hdr);
	av_frame_free(&r->canvas);
	av_free(r);
}

AVFrame *render_canvas(struct render *r)
{
	return r->canvas;
}

long long render_tonemap_us(const struct render *r, int cpu)
{
	return !r ? 0 : cpu ? r->tonemap_cpu_us : r->tonemap_us;
}

/* CPU time of the calling thread, microseconds. */
static long long thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int full_range(const AVFrame *f)
{
	switch (f->format) {
	case AV_PIX_FMT_YUVJ420P:
	case AV_PIX_FMT_YUVJ422P:
	case AV_PIX_FMT_YUVJ444P:
	case AV_PIX_FMT_YUVJ440P:
		return 1;
	default:
		return f->color_range == AVCOL_RANGE_JPEG;
	}
}

/* The source's size, format or aspect changed (or this is the first
 * frame): new rectangle, new scaler, fresh padding. */
static enum sc_err regeometry(struct render *r, const AVFrame *src,
			      struct buf *err)
{
	const struct geom_orient o = r->o.orient;
	struct geom_rect all = { 0, 0, r->o.out_w, r->o.out_h };
	const int *coef;
	int tw, th;

	if (geom_fit(src->width, src->height, src->sample_aspect_ratio.num,
		     src->sample_aspect_ratio.den, o, r->o.out_w, r->o.out_h,
		     &r->rect) < 0) {
		buf_appendf(err, "picture size %dx%d", src->width, src->height);
		return SC_ERR_INVALID;
	}
	tw = o.transpose ? r->rect.h : r->rect.w;
	th = o.transpose ? r->rect.w : r->rect.h;
	sws_freeContext(r->sws);
	/* bilinear: for the downscales this does (mostly 1.5x) it is as
	 * sharp as bicubic to the eye and cheaper */
	r->sws = sws_getContext(src->width, src->height, src->format, tw, th,
				r->o.tonemap ? AV_PIX_FMT_YUV420P16 : AV_PIX_FMT_YUV420P,
				SWS_BILINEAR, NULL, NULL, NULL);
	if (!r->sws) {
		buf_appendf(err, "cannot convert %s %dx%d",
			    av_get_pix_fmt_name(src->format), src->width,
			    src->height);
		return SC_ERR_INVALID;
	}
	coef = sws_getCoefficients(SWS_CS_ITU709);
	sws_setColorspaceDetails(r->sws, coef, full_range(src), coef, 0, 0,
				 1 << 16, 1 << 16);
	av_frame_free(&r->hdr);
	if (r->o.tonemap) {
		if (tw > TONEMAP_MAX_W) {
			buf_appendf(err, "picture width %d", tw);
			return SC_ERR_INVALID;
		}
		r->hdr = av_frame_alloc();
		if (!r->hdr)
			return SC_ERR_NOMEM;
		r->hdr->format = AV_PIX_FMT_YUV420P16;
		r->hdr->width = tw;
		r->hdr->height = th;
		if (av_frame_get_buffer(r->hdr, 0) < 0)
			return SC_ERR_NOMEM;
	}
	av_frame_free(&r->scratch);
	if (o.transpose || o.flip_x || o.flip_y) {
		r->scratch = new_picture(tw, th);
		if (!r->scratch)
			return SC_ERR_NOMEM;
	}
	if (av_frame_make_writable(r->canvas) < 0)
		return SC_ERR_NOMEM;
	pic_fill(r->canvas, all, pic_rgb(RENDER_PAD_RGB));
	r->src_w = src->width;
	r->src_h = src->height;
	r->src_fmt = src->format;
	r->src_full = full_range(src);
	r->sar_num = src->sample_aspect_ratio.num;
	r->sar_den = src->sample_aspect_ratio.den;
	return SC_OK;
}

enum sc_err render_frame(struct render *r, const AVFrame *src, AVFrame **pic,
			 struct buf *err)
{
	AVFrame *c = r->canvas, *t = r->scratch;
	uint8_t *dst[4];
	int ls[4], p, sh;
	long long t0, c0;
	enum sc_err rc;

	*pic = NULL;
	if (src->width != r->src_w || src->height != r->src_h ||
	    src->format != r->src_fmt || full_range(src) != r->src_full ||
	    src->sample_aspect_ratio.num != r->sar_num ||
	    src->sample_aspect_ratio.den != r->sar_den) {
		if ((rc = regeometry(r, src, err)))
			return rc;
		t = r->scratch;
	}
	if (av_frame_make_writable(c) < 0)
		return SC_ERR_NOMEM;
	if (r->o.mark)
		pic_fill(c, r->mark, pic_rgb(RENDER_PAD_RGB));
	if (t) {
		for (p = 0; p < 3; p++) {
			dst[p] = t->data[p];
			ls[p] = t->linesize[p];
		}
	} else {
		for (p = 0; p < 3; p++) {
			sh = p ? 1 : 0;
			dst[p] = c->data[p] + (size_t)(r->rect.y >> sh) * c->linesize[p] +
				 (r->rect.x >> sh);
			ls[p] = c->linesize[p];
		}
	}
	dst[3] = NULL;
	ls[3] = 0;
	if (r->hdr) {
		/* HDR: scale at 16 bits, then to SDR at the output size */
		if (sws_scale(r->sws, (const uint8_t *const *)src->data,
			      src->linesize, 0, src->height, r->hdr->data,
			      r->hdr->linesize) <= 0) {
			buf_appendf(err, "cannot scale a %s frame",
				    av_get_pix_fmt_name(src->format));
			return SC_ERR_INVALID;
		}
		t0 = clock_us();
		c0 = thread_cpu_us();
		tonemap_picture(r->o.tonemap, r->hdr->data, r->hdr->linesize,
				dst, ls, r->hdr->width, r->hdr->height);
		r->tonemap_us += clock_us() - t0;
		r->tonemap_cpu_us += thread_cpu_us() - c0;
	} else if (sws_scale(r->sws, (const uint8_t *const *)src->data,
			     src->linesize, 0, src->height, dst, ls) <= 0) {
		buf_appendf(err, "cannot scale a %s frame",
			    av_get_pix_fmt_name(src->format));
		return SC_ERR_INVALID;
	}
	if (t)
		pic_orient_copy(c, r->rect, t, r->o.orient);
	if (r->o.mark)
		pic_blend(c, r->mark.x, r->mark.y, r->o.mark);
	*pic = c;
	return SC_OK;
}

enum sc_err render_card(struct render *r, AVFrame **pic)
{
	struct geom_rect all = { 0, 0, r->o.out_w, r->o.out_h };
	const struct pic_overlay *logo = r->o.card_logo;
	int x, y;

	*pic = NULL;
	if (!r->card) {
		r->card = new_picture(r->o.out_w, r->o.out_h);
		if (!r->card)
			return SC_ERR_NOMEM;
		pic_fill(r->card, all, pic_rgb(RENDER_CARD_RGB));
		if (logo) {
			x = ((r->o.out_w - pic_overlay_width(logo)) / 2) & ~1;
			y = ((r->o.out_h - pic_overlay_height(logo)) / 2) & ~1;
			pic_blend(r->card, x, y, logo);
		}
	}
	if (av_frame_make_writable(r->card) < 0)
		return SC_ERR_NOMEM;
	*pic = r->card;
	return SC_OK;
}
