/*
 * logo.c - decode and scale the watermark image.
 *
 * The image is decoded with libavcodec's PNG or MJPEG decoder straight
 * from memory (no demuxer: a logo is one picture), converted to YUVA420P
 * with BT.709 coefficients at its final size, and kept as an overlay.
 */
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include "logo.h"
#include "logo_data.h"

#define LOGO_MAX_BYTES (16 << 20)

/* The logo's bytes, from path or built in, in a padded packet. */
static enum sc_err load_bytes(const char *path, AVPacket *pkt, struct buf *err)
{
	struct buf file = BUF_INIT(LOGO_MAX_BYTES);
	const void *data = sc_logo_png;
	size_t n = logo_data_size();
	enum sc_err rc = SC_OK;

	if (path && path[0]) {
		rc = buf_read_file(&file, path, err);
		if (!rc && !file.len) {
			buf_appendf(err, "logo %s is empty", path);
			rc = SC_ERR_INVALID;
		}
		data = file.data;
		n = file.len;
	}
	if (!rc && av_new_packet(pkt, (int)n) < 0)
		rc = SC_ERR_NOMEM;
	if (!rc)
		memcpy(pkt->data, data, n);
	buf_release(&file);
	return rc;
}

static enum sc_err decode(const AVPacket *pkt, AVFrame *frame, struct buf *err)
{
	static const uint8_t png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
					      0x1a, '\n' };
	const AVCodec *codec;
	AVCodecContext *ctx = NULL;
	enum AVCodecID id;
	enum sc_err rc = SC_ERR_INVALID;
	int ret;

	if (pkt->size >= 8 && !memcmp(pkt->data, png_magic, 8))
		id = AV_CODEC_ID_PNG;
	else if (pkt->size >= 3 && pkt->data[0] == 0xff && pkt->data[1] == 0xd8)
		id = AV_CODEC_ID_MJPEG;
	else {
		buf_appends(err, "logo is neither PNG nor JPEG");
		return SC_ERR_INVALID;
	}
	codec = avcodec_find_decoder(id);
	if (!codec || !(ctx = avcodec_alloc_context3(codec))) {
		buf_appends(err, "no decoder for the logo");
		return SC_ERR_NOMEM;
	}
	ctx->thread_count = 1;
	if ((ret = avcodec_open2(ctx, codec, NULL)) < 0 ||
	    (ret = avcodec_send_packet(ctx, pkt)) < 0 ||
	    (ret = avcodec_send_packet(ctx, NULL)) < 0 ||
	    (ret = avcodec_receive_frame(ctx, frame)) < 0) {
		buf_appendf(err, "cannot decode the logo: %s", av_err2str(ret));
		goto out_free;
	}
	rc = SC_OK;
out_free:
	avcodec_free_context(&ctx);
	return rc;
}

/* Scale the decoded picture to w x h YUVA420P, BT.709 limited range. */
static enum sc_err convert(const AVFrame *in, int w, int h, AVFrame *out,
			   struct buf *err)
{
	struct SwsContext *sws;
	const int *coef = sws_getCoefficients(SWS_CS_ITU709);
	int ret;

	out->format = AV_PIX_FMT_YUVA420P;
	out->width = w;
	out->height = h;
	if (av_frame_get_buffer(out, 0) < 0)
		return SC_ERR_NOMEM;
	sws = sws_getContext(in->width, in->height, in->format, w, h,
			     AV_PIX_FMT_YUVA420P, SWS_BICUBIC | SWS_ACCURATE_RND,
			     NULL, NULL, NULL);
	if (!sws) {
		buf_appendf(err, "cannot convert the logo from %s",
			    av_get_pix_fmt_name(in->format));
		return SC_ERR_INVALID;
	}
	sws_setColorspaceDetails(sws, coef, 1, coef, 0, 0, 1 << 16, 1 << 16);
	ret = sws_scale(sws, (const uint8_t *const *)in->data, in->linesize, 0,
			in->height, out->data, out->linesize);
	sws_freeContext(sws);
	if (ret != h) {
		buf_appends(err, "cannot scale the logo");
		return SC_ERR_INVALID;
	}
	return SC_OK;
}

enum sc_err logo_load(const char *path, const struct logo_size *sizes, int n,
		      struct pic_overlay **out, struct buf *err)
{
	AVPacket *pkt = av_packet_alloc();
	AVFrame *img = av_frame_alloc(), *yuva = NULL;
	enum sc_err rc = SC_ERR_NOMEM;
	int i, w, h;

	for (i = 0; i < n; i++)
		out[i] = NULL;
	if (!pkt || !img)
		goto out_free;
	if ((rc = load_bytes(path, pkt, err)) || (rc = decode(pkt, img, err)))
		goto out_free;
	/* decoded once, scaled once per size */
	for (i = 0; i < n && !rc; i++) {
		h = sizes[i].height & ~1;
		w = (int)((long long)img->width * h / img->height) & ~1;
		if (h < 2 || w < 2) {
			buf_appendf(err, "logo %dx%d cannot be made %d high", img->width,
				    img->height, h);
			rc = SC_ERR_INVALID;
			break;
		}
		yuva = av_frame_alloc();
		rc = yuva ? convert(img, w, h, yuva, err) : SC_ERR_NOMEM;
		if (!rc && !(out[i] = pic_overlay_new(yuva, sizes[i].opacity)))
			rc = SC_ERR_NOMEM;
		av_frame_free(&yuva);
	}
out_free:
	if (rc) {
		for (i = 0; i < n; i++) {
			pic_overlay_free(out[i]);
			out[i] = NULL;
		}
	}
	av_frame_free(&img);
	av_packet_free(&pkt);
	return rc;
}
