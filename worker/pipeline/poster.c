/*
 * poster.c - one picture through libavcodec's MJPEG encoder.
 *
 * JPEG wants full-range samples, so the picture is converted first; the
 * quality (qscale 3) keeps a 1280x720 poster around 100 KB.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>

#include "poster.h"

#define POSTER_QSCALE 3

static enum sc_err to_full_range(const AVFrame *in, AVFrame *out)
{
	struct SwsContext *sws;
	const int *coef = sws_getCoefficients(SWS_CS_ITU709);
	int ret;

	out->format = AV_PIX_FMT_YUVJ420P;
	out->width = in->width;
	out->height = in->height;
	out->color_range = AVCOL_RANGE_JPEG;
	if (av_frame_get_buffer(out, 0) < 0)
		return SC_ERR_NOMEM;
	sws = sws_getContext(in->width, in->height, in->format, in->width,
			     in->height, AV_PIX_FMT_YUVJ420P, SWS_POINT, NULL,
			     NULL, NULL);
	if (!sws)
		return SC_ERR_NOMEM;
	sws_setColorspaceDetails(sws, coef, 0, coef, 1, 0, 1 << 16, 1 << 16);
	ret = sws_scale(sws, (const uint8_t *const *)in->data, in->linesize, 0,
			in->height, out->data, out->linesize);
	sws_freeContext(sws);
	return ret == in->height ? SC_OK : SC_ERR_INVALID;
}

static enum sc_err save(const AVPacket *pkt, const char *path, struct buf *err)
{
	FILE *f = fopen(path, "wb");

	if (!f) {
		buf_appendf(err, "cannot create %s: %s", path, strerror(errno));
		return SC_ERR_IO;
	}
	if (fwrite(pkt->data, 1, (size_t)pkt->size, f) != (size_t)pkt->size) {
		buf_appendf(err, "cannot write %s: %s", path, strerror(errno));
		fclose(f);
		return SC_ERR_IO;
	}
	if (fclose(f)) {
		buf_appendf(err, "cannot write %s: %s", path, strerror(errno));
		return SC_ERR_IO;
	}
	return SC_OK;
}

enum sc_err poster_write(const AVFrame *pic, const char *path, struct buf *err)
{
	const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
	AVCodecContext *ctx = NULL;
	AVFrame *full = av_frame_alloc();
	AVPacket *pkt = av_packet_alloc();
	enum sc_err rc = SC_ERR_NOMEM;
	int ret;

	if (!codec || !full || !pkt || !(ctx = avcodec_alloc_context3(codec)))
		goto out_free;
	if ((rc = to_full_range(pic, full)))
		goto out_free;
	ctx->width = pic->width;
	ctx->height = pic->height;
	ctx->pix_fmt = AV_PIX_FMT_YUVJ420P;
	ctx->color_range = AVCOL_RANGE_JPEG;
	ctx->time_base = (AVRational){ 1, 1 };
	ctx->flags |= AV_CODEC_FLAG_QSCALE;
	ctx->global_quality = FF_QP2LAMBDA * POSTER_QSCALE;
	full->quality = ctx->global_quality;
	full->pts = 0;
	rc = SC_ERR_INVALID;
	if ((ret = avcodec_open2(ctx, codec, NULL)) < 0 ||
	    (ret = avcodec_send_frame(ctx, full)) < 0 ||
	    (ret = avcodec_send_frame(ctx, NULL)) < 0 ||
	    (ret = avcodec_receive_packet(ctx, pkt)) < 0) {
		buf_appendf(err, "cannot encode the poster: %s", av_err2str(ret));
		goto out_free;
	}
	rc = save(pkt, path, err);
out_free:
	avcodec_free_context(&ctx);
	av_packet_free(&pkt);
	av_frame_free(&full);
	return rc;
}
