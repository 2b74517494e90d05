/*
 * hls.c - HLS renditions beside the MP4 (see hls.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "hls.h"
#include "m3u8.h"

#define HLS_RENDITIONS (1 + HLS_LADDER_MAX)
/* a media playlist of a clip is a few hundred bytes */
#define PLAYLIST_MAX (1 << 20)
#define PATH_CAP 1100

/* One rendition: the 720p one (enc NULL: the caller's encoder) or a rung. */
struct rendition {
	char name[HLS_NAME_MAX];
	int width, height;
	AVFormatContext *mux;
	AVStream *st;
	AVRational enc_tb;		/* the timestamps of its packets */
	AVCodecContext *enc;		/* the ladder's own; NULL for 720p */
	struct SwsContext *sws;
	AVFrame *pic;			/* the scaled picture */
	int open;			/* header written, trailer not yet */
};

struct hls {
	struct hls_opts o;
	AVRational fps;
	int n;
	struct rendition r[HLS_RENDITIONS];
	AVPacket *pkt;
	long long cpu_us;
};

static long long thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static void path_of(const char *dir, const char *name, const char *ext,
		    char *out)
{
	snprintf(out, PATH_CAP, "%s/%s%s", dir, name, ext);
}

/* Error text for libav's code ret, after what. */
static enum sc_err av_fail(struct buf *err, const char *what, int ret)
{
	buf_appendf(err, "%s: %s", what, av_err2str(ret));
	return ret == AVERROR(ENOMEM) ? SC_ERR_NOMEM : SC_ERR_IO;
}

/* A rung's encoder: the 720p one's rate, format and colour tags. */
static enum sc_err open_rung_encoder(struct hls *h, struct rendition *r,
				     int kbps, struct buf *err)
{
	const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
	const AVCodecContext *top = h->o.top;
	AVDictionary *opts = NULL;
	int ret;

	if (!codec) {
		buf_appends(err, "this FFmpeg has no libx264 encoder");
		return SC_ERR_CONFIG;
	}
	r->enc = avcodec_alloc_context3(codec);
	if (!r->enc)
		return SC_ERR_NOMEM;
	r->enc->width = r->width;
	r->enc->height = r->height;
	r->enc->pix_fmt = AV_PIX_FMT_YUV420P;
	r->enc->sample_aspect_ratio = (AVRational){ 1, 1 };
	r->enc->time_base = top->time_base;
	r->enc->framerate = top->framerate;
	r->enc->color_range = top->color_range;
	r->enc->color_primaries = top->color_primaries;
	r->enc->color_trc = top->color_trc;
	r->enc->colorspace = top->colorspace;
	r->enc->thread_count = 0;
	/* the SPS in extradata: the fMP4 init section and CODECS need it */
	r->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	/* a capped average: segments stay near the advertised BANDWIDTH */
	r->enc->bit_rate = (int64_t)kbps * 1000;
	r->enc->rc_max_rate = r->enc->bit_rate * 11 / 10;
	r->enc->rc_buffer_size = (int)(r->enc->bit_rate * 2);
	av_dict_set(&opts, "preset", h->o.preset, 0);
	av_dict_set(&opts, "forced-idr", "1", 0);
	ret = avcodec_open2(r->enc, codec, &opts);
	av_dict_free(&opts);
	if (ret < 0)
		return av_fail(err, "cannot open the H.264 encoder of a rendition", ret);
	r->enc_tb = r->enc->time_base;
	r->sws = sws_getContext(top->width, top->height, AV_PIX_FMT_YUV420P,
				r->width, r->height, AV_PIX_FMT_YUV420P,
				SWS_BILINEAR, NULL, NULL, NULL);
	r->pic = av_frame_alloc();
	if (!r->sws || !r->pic)
		return SC_ERR_NOMEM;
	r->pic->format = AV_PIX_FMT_YUV420P;
	r->pic->width = r->width;
	r->pic->height = r->height;
	if ((ret = av_frame_get_buffer(r->pic, 0)) < 0)
		return av_fail(err, "cannot allocate a picture", ret);
	return SC_OK;
}

/* A rendition's hls muxer: fMP4 in one file, VOD, segment_s segments. */
static enum sc_err open_muxer(struct hls *h, struct rendition *r,
			      const AVCodecContext *enc, struct buf *err)
{
	char path[PATH_CAP], seg[16];
	AVDictionary *opts = NULL;
	int ret;

	path_of(h->o.dir, r->name, ".m3u8", path);
	ret = avformat_alloc_output_context2(&r->mux, NULL, "hls", path);
	if (ret < 0)
		return av_fail(err, "cannot set up HLS output", ret);
	r->st = avformat_new_stream(r->mux, NULL);
	if (!r->st)
		return SC_ERR_NOMEM;
	if ((ret = avcodec_parameters_from_context(r->st->codecpar, enc)) < 0)
		return av_fail(err, "cannot set up HLS output", ret);
	r->st->time_base = enc->time_base;
	r->st->avg_frame_rate = enc->framerate;
	snprintf(seg, sizeof(seg), "%d", h->o.segment_s);
	av_dict_set(&opts, "hls_time", seg, 0);
	av_dict_set(&opts, "hls_segment_type", "fmp4", 0);
	av_dict_set(&opts, "hls_flags", "single_file", 0);
	av_dict_set(&opts, "hls_playlist_type", "vod", 0);
	ret = avformat_write_header(r->mux, &opts);
	av_dict_free(&opts);
	if (ret < 0)
		return av_fail(err, "cannot start an HLS rendition", ret);
	r->open = 1;
	return SC_OK;
}

enum sc_err hls_new(const struct hls_opts *o, struct hls **out,
		    struct buf *err)
{
	struct hls *h;
	struct rendition *r;
	enum sc_err rc;
	int i;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return SC_ERR_NOMEM;
	h->o = *o;
	h->fps = o->top->framerate;
	h->pkt = av_packet_alloc();
	if (!h->pkt) {
		rc = SC_ERR_NOMEM;
		goto out_free;
	}
	r = &h->r[0];
	snprintf(r->name, sizeof(r->name), "%s", HLS_TOP_NAME);
	r->width = o->top->width;
	r->height = o->top->height;
	r->enc_tb = o->top->time_base;
	h->n = 1;
	if ((rc = open_muxer(h, r, o->top, err)))
		goto out_free;
	for (i = 0; i < o->ladder->n; i++) {
		const struct hls_rung *g = &o->ladder->rung[i];

		r = &h->r[h->n++];
		snprintf(r->name, sizeof(r->name), "%s", g->name);
		r->width = g->width;
		r->height = g->height;
		if ((rc = open_rung_encoder(h, r, g->kbps, err)) ||
		    (rc = open_muxer(h, r, r->enc, err)))
			goto out_free;
	}
	*out = h;
	return SC_OK;
out_free:
	hls_free(h);
	return rc;
}

void hls_free(struct hls *h)
{
	int i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++) {
		struct rendition *r = &h->r[i];

		/* hls opens its files itself (AVFMT_NOFILE) and closes them
		 * only in its trailer: a run that failed half-way still
		 * writes one, and its files are removed (hls_remove) */
		if (r->open)
			av_write_trailer(r->mux);
		avformat_free_context(r->mux);
		avcodec_free_context(&r->enc);
		sws_freeContext(r->sws);
		av_frame_free(&r->pic);
	}
	av_packet_free(&h->pkt);
	free(h);
}

int hls_keyframe(const struct hls *h, int64_t n)
{
	/* segment of frame n: floor(n / fps / segment_s) */
	int64_t per = (int64_t)h->fps.num * h->o.segment_s, den = h->fps.den;

	return n == 0 || (n * den) / per != ((n - 1) * den) / per;
}

/* Write pkt (timestamps in r->enc_tb) to r's muxer; takes pkt's data. */
static enum sc_err mux(struct rendition *r, AVPacket *pkt, struct buf *err)
{
	int ret;

	av_packet_rescale_ts(pkt, r->enc_tb, r->st->time_base);
	pkt->stream_index = r->st->index;
	ret = av_interleaved_write_frame(r->mux, pkt);
	if (ret < 0)
		return av_fail(err, "cannot write an HLS segment", ret);
	return SC_OK;
}

enum sc_err hls_top_packet(struct hls *h, const AVPacket *pkt, AVRational tb,
			   struct buf *err)
{
	int ret = av_packet_ref(h->pkt, pkt);

	if (ret < 0)
		return av_fail(err, "cannot copy a packet", ret);
	h->r[0].enc_tb = tb;
	return mux(&h->r[0], h->pkt, err);
}

/* Send pic (NULL: flush) to rung r's encoder and mux what comes out. */
static enum sc_err encode_rung(struct hls *h, struct rendition *r,
			       AVFrame *pic, struct buf *err)
{
	enum sc_err rc;
	int ret = avcodec_send_frame(r->enc, pic);

	if (ret < 0)
		return av_fail(err, "a rendition's encoder refused a frame", ret);
	for (;;) {
		ret = avcodec_receive_packet(r->enc, h->pkt);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return SC_OK;
		if (ret < 0)
			return av_fail(err, "a rendition's encoder failed", ret);
		if ((rc = mux(r, h->pkt, err)))
			return rc;
	}
}

enum sc_err hls_picture(struct hls *h, const AVFrame *pic, struct buf *err)
{
	long long c0 = thread_cpu_us();
	enum sc_err rc = SC_OK;
	struct rendition *r;
	int i, ret;

	for (i = 1; i < h->n && !rc; i++) {
		r = &h->r[i];
		/* the encoder may still hold the last one */
		if ((ret = av_frame_make_writable(r->pic)) < 0) {
			rc = av_fail(err, "cannot allocate a picture", ret);
			break;
		}
		sws_scale(r->sws, (const uint8_t *const *)pic->data, pic->linesize,
			  0, pic->height, r->pic->data, r->pic->linesize);
		r->pic->pts = pic->pts;
		r->pic->pict_type = hls_keyframe(h, pic->pts) ? AV_PICTURE_TYPE_I
							      : AV_PICTURE_TYPE_NONE;
		r->pic->color_range = pic->color_range;
		r->pic->color_primaries = pic->color_primaries;
		r->pic->color_trc = pic->color_trc;
		r->pic->colorspace = pic->colorspace;
		rc = encode_rung(h, r, r->pic, err);
	}
	h->cpu_us += thread_cpu_us() - c0;
	return rc;
}

long long hls_ladder_cpu_us(const struct hls *h)
{
	return h ? h->cpu_us : 0;
}

enum sc_err hls_avc_codecs(const uint8_t *x, int size, char *out, size_t cap)
{
	const uint8_t *sps = NULL;
	int i;

	if (size >= 4 && x[0] == 1) {	/* avcC: ISO/IEC 14496-15 5.3.3.1 */
		sps = x + 1;
	} else {			/* Annex B: start code, NAL type 7 */
		for (i = 0; i + 6 < size; i++)
			if (x[i] == 0 && x[i + 1] == 0 && x[i + 2] == 1 &&
			    (x[i + 3] & 0x1f) == 7) {
				sps = x + i + 4;
				break;
			}
	}
	if (!sps)
		return SC_ERR_INVALID;
	snprintf(out, cap, "avc1.%02x%02x%02x", sps[0], sps[1], sps[2]);
	return SC_OK;
}

/* The master playlist's entry for rendition r (its media playlist read
 * back for the segments' rates). */
static enum sc_err add_variant(struct hls *h, const struct rendition *r,
			       struct buf *m, struct buf *err)
{
	const AVCodecContext *enc = r->enc ? r->enc : h->o.top;
	struct buf pl = BUF_INIT(PLAYLIST_MAX);
	char path[PATH_CAP], codecs[32];
	long long peak, avg;
	enum sc_err rc;

	path_of(h->o.dir, r->name, ".m3u8", path);
	if ((rc = buf_read_file(&pl, path, err)))
		goto out;
	if ((rc = m3u8_media_rates(pl.data, &peak, &avg))) {
		buf_appendf(err, "%s has a segment without duration or byte range",
			    path);
		goto out;
	}
	if ((rc = hls_avc_codecs(enc->extradata, enc->extradata_size, codecs,
				 sizeof(codecs)))) {
		buf_appendf(err, "no SPS in the %s encoder's extradata", r->name);
		goto out;
	}
	rc = buf_appendf(m,
			 "#EXT-X-STREAM-INF:BANDWIDTH=%lld,AVERAGE-BANDWIDTH=%lld,"
			 "CODECS=\"%s\",RESOLUTION=%dx%d,FRAME-RATE=%.3f\n%s.m3u8\n",
			 peak, avg, codecs, r->width, r->height, av_q2d(h->fps),
			 r->name);
out:
	buf_release(&pl);
	return rc;
}

/* master.m3u8, through a temporary name: it appears whole or not at all. */
static enum sc_err write_master(struct hls *h, struct buf *err)
{
	struct buf m = BUF_INIT(64 * 1024);
	char path[PATH_CAP], tmp[PATH_CAP + 16];
	enum sc_err rc;
	FILE *f;
	int i, ok;

	/* version 7: fMP4 segments (RFC 8216 section 7); the segments of
	 * every rendition start with an IDR frame */
	rc = buf_appends(&m, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n");
	for (i = 0; i < h->n && !rc; i++)
		rc = add_variant(h, &h->r[i], &m, err);
	if (rc)
		goto out;
	path_of(h->o.dir, "master", ".m3u8", path);
	snprintf(tmp, sizeof(tmp), "%s.partial", path);
	f = fopen(tmp, "w");
	ok = f && fwrite(m.data, 1, m.len, f) == m.len;
	if (f && fclose(f))
		ok = 0;
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		buf_appendf(err, "cannot write %s", path);
		rc = SC_ERR_IO;
	}
out:
	buf_release(&m);
	return rc;
}

enum sc_err hls_finish(struct hls *h, struct buf *err)
{
	long long c0 = thread_cpu_us();
	enum sc_err rc = SC_OK;
	int i, ret;

	for (i = 1; i < h->n && !rc; i++)
		rc = encode_rung(h, &h->r[i], NULL, err);
	h->cpu_us += thread_cpu_us() - c0;
	for (i = 0; i < h->n && !rc; i++) {
		h->r[i].open = 0;
		ret = av_write_trailer(h->r[i].mux);
		if (ret < 0)
			rc = av_fail(err, "cannot finish an HLS rendition", ret);
	}
	return rc ? rc : write_master(h, err);
}

void hls_remove(const char *dir, const struct hls_ladder *ladder)
{
	char path[PATH_CAP];
	int i;

	path_of(dir, "master", ".m3u8", path);
	unlink(path);
	for (i = -1; i < ladder->n; i++) {
		const char *name = i < 0 ? HLS_TOP_NAME : ladder->rung[i].name;

		path_of(dir, name, ".m3u8", path);
		unlink(path);
		path_of(dir, name, ".m4s", path);
		unlink(path);
	}
}
