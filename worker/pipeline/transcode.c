/*
 * transcode.c - the pipeline's driver: probe, decode, pace, render, encode.
 *
 * Pacing: the output has a constant frame rate R (the source's, capped).
 * Output slot n (time n/R) shows the last source frame that started at or
 * before the middle of the slot, so a variable-rate or faster source maps
 * onto R without drift.  A source frame is only scaled and watermarked if
 * some slot shows it (60 to 30 fps renders half the frames), and a frame
 * shown in several slots is rendered once.
 *
 * Trimming: reading stops as soon as the slots up to the limit are filled;
 * nothing after the first TRANSCODE_MAX_SECONDS is decoded beyond the
 * decoder's own delay.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/dovi_meta.h>
#include <libavutil/mastering_display_metadata.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>

#include "clock.h"
#include "deint.h"
#include "geometry.h"
#include "hls.h"
#include "log.h"
#include "logo.h"
#include "outcheck.h"
#include "policy.h"
#include "poster.h"
#include "probe.h"
#include "render.h"
#include "tonemap.h"
#include "transcode.h"

/* the cards' logo, percent of the output height */
#define CARD_LOGO_SIZE 45
/* a source this much shorter than it claims is cut off */
#define TRUNCATED_SLACK_S 1.0
/* at most this many video streams are considered (and reported) */
#define MAX_VIDEO_STREAMS 16

enum stage { ST_PROBE, ST_DECODE, ST_DEINTERLACE, ST_RENDER, ST_TONEMAP,
	     ST_ENCODE, ST_LADDER, ST_FINISH, ST_CHECK, ST_POSTER, ST__COUNT };

/* "tonemap" is the HDR conversion inside rendering, counted apart */
static const char *const stage_names[ST__COUNT] = {
	"probe", "decode", "deinterlace", "render", "tonemap", "encode",
	"ladder", "finish", "check", "poster"
};

/* What the last run found and did, for the report. */
struct report {
	enum tc_reason reason;
	long long src_bytes;
	char container[64];
	char codec[32];
	char pix_fmt[32];
	int src_w, src_h, disp_w, disp_h;
	int sar_num, sar_den;
	int rotation, mirrored;
	double src_duration, src_fps;
	int hdr;			/* PQ or HLG transfer */
	enum tonemap_transfer hdr_transfer;
	int tone_mapped;
	double hdr_peak_nits;		/* where the roll-off ends */
	int dovi_profile, dovi_compat;	/* Dolby Vision; profile 0: none */
	const char *field_order;	/* the container's or codec's */
	int deinterlaced;		/* bwdif ran */
	int deint_per_field;		/* one frame per field */
	const char *deint_parity_from;	/* "frames" or "stream" */
	int video_streams;		/* in the file (up to MAX_VIDEO_STREAMS) */
	int stream_index;		/* the one used; -1: none */
	enum probe_why stream_why;
	struct {
		int index;
		enum probe_why why;
	} skipped[MAX_VIDEO_STREAMS];
	int nskipped;
	enum probe_header header_duration;	/* what the header said */
	enum probe_source duration_from;
	int bit_depth;
	int trimmed;
	double fps_num, fps_den;
	long long frames_decoded, frames_rendered, decode_errors;
	long long content_frames, card_frames;
	double content_s;
	struct outcheck_found out;
	int poster_written;
	long long stage_us[ST__COUNT];
	long long deint_cpu_us, tonemap_cpu_us;	/* the two steps' thread CPU */
	long long ladder_cpu_us;	/* scaling and encoding the HLS ladder */
	int hls;			/* HLS renditions written */
	long long total_us;
};

struct transcode {
	/* settings, kept for the life of the transcoder */
	const struct config *cfg;	/* the caller's; outlives the transcoder */
	struct policy policy;
	struct pic_overlay *mark, *card_logo;
	struct hls_ladder ladder;	/* from HLS_LADDER */
	const char *hls_dir;		/* the caller's; NULL: no HLS */

	/* one run */
	const struct transcode_hooks *hooks;
	AVIOContext *in_io;		/* the source file; ours, not in's */
	AVFormatContext *in;
	AVCodecContext *dec;
	AVStream *ist;
	AVFormatContext *out;
	AVCodecContext *enc;
	AVStream *ost;
	struct render *render;
	struct hls *hls;		/* NULL: no HLS this run */
	struct tonemap *tonemap;	/* NULL: an SDR source */
	struct deint *deint;		/* NULL: progressive source */
	AVFrame *dframe;		/* a deinterlaced frame */
	int field_parity;		/* the stream's: -1 progressive or
					 * unknown, 0 top first, 1 bottom */
	int per_field;			/* output rate is the field rate */
	AVPacket *pkt;
	AVFrame *frame;
	AVFrame *held;			/* the source frame slots show now */
	int held_on_canvas;		/* the canvas already shows held */
	int has_held;
	AVRational fps;			/* output frame rate */
	int64_t t0;			/* source time of output time 0 */
	int64_t slot, max_slots;	/* next content slot, slots wanted */
	int64_t pts;			/* next output frame */
	int64_t total_frames;		/* expected, for progress */
	int64_t card_frames;		/* of each card */
	int64_t poster_slot;
	const char *poster_path;
	char *tmp_out, *tmp_poster;
	struct buf msg;
	struct report rep;
};

/* ---------------------------------------------------------------- setup */

enum sc_err transcode_new(const struct config *cfg, struct transcode **out,
			  struct buf *err)
{
	struct logo_size sizes[2];
	struct pic_overlay *logos[2];
	struct transcode *t;
	char why[160];
	enum sc_err rc;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return SC_ERR_NOMEM;
	buf_init(&t->msg, 4096);
	t->cfg = cfg;
	policy_from_config(&t->policy, cfg);
	if (hls_ladder_parse(cfg->hls_ladder, &t->ladder, why, sizeof(why))) {
		buf_appendf(err, "HLS_LADDER: %s", why);
		rc = SC_ERR_CONFIG;
		goto out_free;
	}

	sizes[0].height = TRANSCODE_OUT_H * cfg->watermark_size / 100;
	sizes[0].opacity = cfg->watermark_opacity;
	sizes[1].height = TRANSCODE_OUT_H * CARD_LOGO_SIZE / 100;
	sizes[1].opacity = 100;
	rc = logo_load(cfg->watermark_logo, sizes, 2, logos, err);
	t->mark = logos[0];
	t->card_logo = logos[1];
	if (rc) {
		rc = rc == SC_ERR_NOMEM ? rc : SC_ERR_CONFIG;
		goto out_free;
	}
	*out = t;
	return SC_OK;
out_free:
	transcode_free(t);
	return rc;
}

void transcode_free(struct transcode *t)
{
	if (!t)
		return;
	pic_overlay_free(t->card_logo);
	pic_overlay_free(t->mark);
	buf_release(&t->msg);
	free(t);
}

void transcode_set_hls(struct transcode *t, const char *dir)
{
	t->hls_dir = dir;
}

const char *transcode_message(const struct transcode *t)
{
	return t->msg.len ? t->msg.data : "";
}

static void av_log_to_log(void *avcl, int level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)avcl;
	if (level > AV_LOG_ERROR)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	log_debug("libav: %s", line);
}

void transcode_log_init(void)
{
	av_log_set_callback(av_log_to_log);
}

/* Finish the run with reason r and a message; returns r. */
static enum tc_reason fail(struct transcode *t, enum tc_reason r,
			   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum tc_reason fail(struct transcode *t, enum tc_reason r,
			   const char *fmt, ...)
{
	va_list ap;

	if (!t->msg.len) {
		va_start(ap, fmt);
		buf_vappendf(&t->msg, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* CPU time of the calling thread, microseconds. */
static long long thread_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Stage timing: call with the stage's start time. */
static void took(struct transcode *t, enum stage s, long long since)
{
	t->rep.stage_us[s] += clock_us() - since;
}

/* ---------------------------------------------------------------- input */

/*
 * The video stream to use (probe.h: the default track, never cover art
 * or a still, then the most frames), or NULL.  The choice and why the
 * others were left go into the report.
 */
static const AVStream *best_video(struct transcode *t)
{
	struct probe_track v[MAX_VIDEO_STREAMS] = { { 0 } };
	enum probe_why left[MAX_VIDEO_STREAMS], why;
	const AVCodecDescriptor *desc;
	int at[MAX_VIDEO_STREAMS] = { 0 }, n = 0, k, i;
	unsigned s;

	for (s = 0; s < t->in->nb_streams && n < MAX_VIDEO_STREAMS; s++) {
		const AVStream *st = t->in->streams[s];
		AVRational r = st->avg_frame_rate;

		if (st->codecpar->codec_type != AVMEDIA_TYPE_VIDEO)
			continue;
		if (r.num <= 0 || r.den <= 0)
			r = st->r_frame_rate;
		v[n].attached_pic = !!(st->disposition & AV_DISPOSITION_ATTACHED_PIC);
		v[n].still_image = !!(st->disposition & AV_DISPOSITION_STILL_IMAGE);
		v[n].is_default = !!(st->disposition & AV_DISPOSITION_DEFAULT);
		desc = avcodec_descriptor_get(st->codecpar->codec_id);
		v[n].intra_only = desc && (desc->props & AV_CODEC_PROP_INTRA_ONLY);
		v[n].frames = st->nb_frames;
		v[n].seconds = probe_header_duration(st->duration) == PROBE_HDR_KNOWN
				       ? st->duration * av_q2d(st->time_base)
				       : 0;
		v[n].fps = r.num > 0 && r.den > 0 ? av_q2d(r) : 0;
		at[n++] = (int)s;
	}
	k = probe_pick(v, n, &why, left);
	t->rep.video_streams = n;
	t->rep.stream_index = k >= 0 ? at[k] : -1;
	t->rep.stream_why = why;
	t->rep.nskipped = 0;
	for (i = 0; i < n; i++) {
		if (i == k)
			continue;
		t->rep.skipped[t->rep.nskipped].index = at[i];
		t->rep.skipped[t->rep.nskipped].why = left[i];
		t->rep.nskipped++;
	}
	return k >= 0 ? t->in->streams[at[k]] : NULL;
}

static struct geom_orient stream_orient(const AVStream *st)
{
	const int32_t *m;
	size_t size = 0;

	m = (const int32_t *)av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX,
						     &size);
	return geom_orient_from_matrix(m && size >= 9 * sizeof(int32_t) ? m : NULL);
}

/*
 * The source's frame rate.  r_frame_rate is the base rate every timestamp
 * fits (30 for a phone's variable-rate 30 fps video whose average is
 * 29.3), so the output keeps the nominal rate; the average is the
 * fallback when the base rate is missing or absurd.
 */
static AVRational source_rate(const AVStream *st)
{
	AVRational r = st->r_frame_rate;

	if (r.num <= 0 || r.den <= 0 || av_q2d(r) > 1000)
		r = st->avg_frame_rate;
	return r;
}

/* Which field comes first by the stream's parameters: 0 top, 1 bottom,
 * -1 progressive or not said. */
static int field_parity(enum AVFieldOrder fo)
{
	switch (fo) {
	case AV_FIELD_TT:
	case AV_FIELD_TB:
		return 0;
	case AV_FIELD_BB:
	case AV_FIELD_BT:
		return 1;
	default:
		return -1;
	}
}

static const char *field_order_name(enum AVFieldOrder fo)
{
	switch (fo) {
	case AV_FIELD_PROGRESSIVE: return "progressive";
	case AV_FIELD_TT: return "tt";
	case AV_FIELD_BB: return "bb";
	case AV_FIELD_TB: return "tb";
	case AV_FIELD_BT: return "bt";
	default: return "unknown";
	}
}

/* Dolby Vision's configuration record, for the report. */
static void dolby_vision(struct transcode *t, const AVStream *st)
{
	const AVDOVIDecoderConfigurationRecord *dv;
	size_t size = 0;

	dv = (const AVDOVIDecoderConfigurationRecord *)av_stream_get_side_data(
		st, AV_PKT_DATA_DOVI_CONF, &size);
	if (!dv || size < sizeof(*dv))
		return;
	t->rep.dovi_profile = dv->dv_profile;
	t->rep.dovi_compat = dv->dv_bl_signal_compatibility_id;
}

/* The header rules on what is known so far; TC_OK or the refusal. */
static enum tc_reason check_header(struct transcode *t,
				   const struct policy_source *src)
{
	struct buf why = BUF_INIT(512);
	enum tc_reason r = policy_check_header(&t->policy, src, &why);

	if (r != TC_OK)
		fail(t, r, "%s", why.data ? why.data : "");
	buf_release(&why);
	return r;
}

/*
 * Open the source as one of the accepted containers, and nothing else.
 *
 * The format is probed here, on the file alone, before any demuxer runs:
 * a playlist (HLS), a concat script or an image sequence named .mp4 is
 * refused as the container it is, and its demuxer never reads it, so the
 * files or URLs it names are never opened.  The demuxer then gets the
 * same whitelist (POLICY_CONTAINERS: av_match_list() matches any name of
 * a demuxer's list, "mp4" matches "mov,mp4,m4a,3gp,3g2,mj2", as
 * strlist_meet() does in the policy), may open local files only, and
 * the MP4 demuxer does not follow data references to other files.
 */
static enum tc_reason open_source(struct transcode *t, const char *path,
				  struct policy_source *src)
{
	AVDictionary *opts = NULL;
	const AVInputFormat *fmt = NULL;
	enum tc_reason r;
	int ret;

	av_dict_set(&opts, "protocol_whitelist", "file", 0);
	ret = avio_open2(&t->in_io, path, AVIO_FLAG_READ, NULL, &opts);
	av_dict_free(&opts);
	if (ret < 0)
		return fail(t, TC_INTERNAL, "cannot open %s: %s", path,
			    av_err2str(ret));
	if ((ret = av_probe_input_buffer2(t->in_io, &fmt, path, NULL, 0, 0)) < 0)
		return fail(t, TC_CORRUPT, "the file cannot be read as a video: %s",
			    av_err2str(ret));
	snprintf(t->rep.container, sizeof(t->rep.container), "%s", fmt->name);
	src->container = fmt->name;
	if ((r = check_header(t, src)))
		return r;

	t->in = avformat_alloc_context();
	if (!t->in)
		return fail(t, TC_INTERNAL, "out of memory");
	t->in->pb = t->in_io;
	av_dict_set(&opts, "format_whitelist", t->policy.containers, 0);
	av_dict_set(&opts, "protocol_whitelist", "file", 0);
	av_dict_set(&opts, "enable_drefs", "0", 0);
	ret = avformat_open_input(&t->in, path, fmt, &opts);
	av_dict_free(&opts);
	if (ret < 0)	/* t->in was freed */
		return fail(t, TC_CORRUPT, "the file cannot be read as a video: %s",
			    av_err2str(ret));
	return TC_OK;
}

/*
 * The streams' parameters.  This decodes a few packets of each stream,
 * so the decoders it opens get the picture size limit too: a header
 * that claims a small picture cannot make them decode a huge one.
 */
static enum tc_reason find_stream_info(struct transcode *t)
{
	AVDictionary **opts;
	unsigned i, n = t->in->nb_streams;
	int ret;

	opts = av_calloc(n ? n : 1, sizeof(*opts));
	if (!opts)
		return fail(t, TC_INTERNAL, "out of memory");
	for (i = 0; i < n; i++)
		av_dict_set_int(&opts[i], "max_pixels", t->policy.max_pixels, 0);
	ret = avformat_find_stream_info(t->in, opts);
	for (i = 0; i < n; i++)
		av_dict_free(&opts[i]);
	av_free(opts);
	if (ret < 0)
		return fail(t, TC_CORRUPT, "the file's streams cannot be read: %s",
			    av_err2str(ret));
	return TC_OK;
}

/*
 * How long the chosen stream really is, in seconds.  The stream's own
 * header duration counts; failing that the container's, unless
 * libavformat only guessed it from the bit rate.  A duration that is
 * missing, zero or all ones ("unknown") is read from the sample index
 * or the packets instead (probe.h), before the policy sees it.
 */
static enum tc_reason source_duration(struct transcode *t, double *seconds)
{
	const AVStream *st = t->ist;
	enum probe_header h = probe_header_duration(st->duration);
	int ret;

	t->rep.header_duration = h;
	t->rep.duration_from = PROBE_FROM_HEADER;
	if (h == PROBE_HDR_KNOWN) {
		*seconds = st->duration * av_q2d(st->time_base);
		return TC_OK;
	}
	if (h != PROBE_HDR_UNKNOWN && t->in->duration != AV_NOPTS_VALUE &&
	    t->in->duration > 0 &&
	    t->in->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE) {
		*seconds = t->in->duration / (double)AV_TIME_BASE;
		return TC_OK;
	}
	ret = probe_duration(t->in, t->ist, seconds, &t->rep.duration_from);
	if (ret < 0)
		return fail(t, TC_CORRUPT, "the video's duration cannot be read: %s",
			    av_err2str(ret));
	return TC_OK;
}

/* Open the source, learn what it is, apply the policy. */
static enum tc_reason probe(struct transcode *t, const char *path)
{
	struct policy_source src = { 0 };
	struct buf why = BUF_INIT(512);
	const AVStream *st;
	const AVCodecParameters *par;
	const AVPixFmtDescriptor *desc;
	struct geom_orient o;
	struct stat sb;
	enum tc_reason r;

	if (stat(path, &sb) < 0)
		return fail(t, TC_INTERNAL, "cannot read %s: %s", path,
			    strerror(errno));
	t->rep.src_bytes = sb.st_size;
	if (sb.st_size == 0)
		return fail(t, TC_EMPTY, "the file is empty");
	src.bytes = sb.st_size;
	if ((r = open_source(t, path, &src)))
		return r;
	/* the size the header claims, before anything is decoded */
	st = best_video(t);
	if (st) {
		src.coded_w = st->codecpar->width;
		src.coded_h = st->codecpar->height;
		t->rep.src_w = src.coded_w;
		t->rep.src_h = src.coded_h;
		if ((r = check_header(t, &src)))
			return r;
	}
	if ((r = find_stream_info(t)))
		return r;

	st = best_video(t);
	if (st) {
		par = st->codecpar;
		t->ist = t->in->streams[st->index];
		src.codec = avcodec_get_name(par->codec_id);
		src.coded_w = par->width;
		src.coded_h = par->height;
		o = stream_orient(st);
		geom_display_size(par->width, par->height,
				  par->sample_aspect_ratio.num,
				  par->sample_aspect_ratio.den, o, &src.width,
				  &src.height);
		snprintf(t->rep.codec, sizeof(t->rep.codec), "%s", src.codec);
		desc = av_pix_fmt_desc_get(par->format);
		snprintf(t->rep.pix_fmt, sizeof(t->rep.pix_fmt), "%s",
			 desc ? desc->name : "unknown");
		t->rep.bit_depth = desc ? desc->comp[0].depth : 0;
		t->rep.hdr = par->color_trc == AVCOL_TRC_SMPTE2084 ||
			     par->color_trc == AVCOL_TRC_ARIB_STD_B67;
		t->rep.hdr_transfer = par->color_trc == AVCOL_TRC_ARIB_STD_B67
					      ? TONEMAP_HLG : TONEMAP_PQ;
		dolby_vision(t, st);
		t->rep.src_w = par->width;
		t->rep.src_h = par->height;
		t->rep.disp_w = src.width;
		t->rep.disp_h = src.height;
		t->rep.sar_num = par->sample_aspect_ratio.num;
		t->rep.sar_den = par->sample_aspect_ratio.den;
		t->rep.rotation = geom_orient_degrees(o);
		t->rep.mirrored = o.transpose ? o.flip_x == o.flip_y
					      : o.flip_x != o.flip_y;
		t->rep.src_fps = av_q2d(source_rate(st));
		t->rep.field_order = field_order_name(par->field_order);
		/* a scan for the duration only for a source that could pass */
		r = policy_check_format(&t->policy, &src, &why);
		if (r == TC_OK && (r = source_duration(t, &src.duration)))
			goto out;
		t->rep.src_duration = src.duration;
	}
	r = policy_check(&t->policy, &src, &why);
out:
	if (r != TC_OK)
		fail(t, r, "%s", why.data ? why.data : "");	/* first one wins */
	buf_release(&why);
	return r;
}

static enum tc_reason open_decoder(struct transcode *t)
{
	const AVCodec *codec;
	unsigned i;
	int ret;

	/* the demuxer skips every other stream's packets */
	for (i = 0; i < t->in->nb_streams; i++)
		if (t->in->streams[i] != t->ist)
			t->in->streams[i]->discard = AVDISCARD_ALL;
	codec = avcodec_find_decoder(t->ist->codecpar->codec_id);
	if (!codec)
		return fail(t, TC_UNSUPPORTED_CODEC, "no decoder for %s",
			    t->rep.codec);
	t->dec = avcodec_alloc_context3(codec);
	if (!t->dec)
		return fail(t, TC_INTERNAL, "out of memory");
	if ((ret = avcodec_parameters_to_context(t->dec, t->ist->codecpar)) < 0)
		return fail(t, TC_CORRUPT, "bad stream parameters: %s",
			    av_err2str(ret));
	t->dec->pkt_timebase = t->ist->time_base;
	t->dec->thread_count = 0;
	t->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
	/* the policy checked the header; the stream may still disagree */
	t->dec->max_pixels = t->policy.max_pixels;
	if ((ret = avcodec_open2(t->dec, codec, NULL)) < 0)
		return fail(t, TC_UNSUPPORTED_CODEC, "cannot decode %s: %s",
			    t->rep.codec, av_err2str(ret));
	return TC_OK;
}

/* --------------------------------------------------------------- output */

static enum tc_reason open_encoder(struct transcode *t)
{
	const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
	AVDictionary *opts = NULL;
	char crf[16];
	int ret;

	if (!codec)
		return fail(t, TC_INTERNAL, "this FFmpeg has no libx264 encoder");
	t->enc = avcodec_alloc_context3(codec);
	if (!t->enc)
		return fail(t, TC_INTERNAL, "out of memory");
	t->enc->width = TRANSCODE_OUT_W;
	t->enc->height = TRANSCODE_OUT_H;
	t->enc->pix_fmt = AV_PIX_FMT_YUV420P;
	t->enc->sample_aspect_ratio = (AVRational){ 1, 1 };
	t->enc->time_base = av_inv_q(t->fps);
	t->enc->framerate = t->fps;
	t->enc->color_range = AVCOL_RANGE_MPEG;
	t->enc->color_primaries = AVCOL_PRI_BT709;
	t->enc->color_trc = AVCOL_TRC_BT709;
	t->enc->colorspace = AVCOL_SPC_BT709;
	t->enc->thread_count = 0;
	if (t->out->oformat->flags & AVFMT_GLOBALHEADER)
		t->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	snprintf(crf, sizeof(crf), "%d", t->cfg->transcode_crf);
	av_dict_set(&opts, "preset", t->cfg->transcode_preset, 0);
	av_dict_set(&opts, "crf", crf, 0);
	/* HLS segments start with IDR frames, in the MP4 too (hls.h) */
	if (t->hls_dir && t->ladder.enabled)
		av_dict_set(&opts, "forced-idr", "1", 0);
	ret = avcodec_open2(t->enc, codec, &opts);
	av_dict_free(&opts);
	if (ret < 0)
		return fail(t, TC_INTERNAL, "cannot open the H.264 encoder: %s",
			    av_err2str(ret));
	return TC_OK;
}

/* The HLS renditions beside the MP4, when asked for and not "off". */
static enum tc_reason open_hls(struct transcode *t)
{
	struct hls_opts o = { 0 };
	struct buf why = BUF_INIT(512);
	enum tc_reason r = TC_OK;
	enum sc_err rc;

	if (!t->hls_dir || !t->ladder.enabled)
		return TC_OK;
	o.dir = t->hls_dir;
	o.ladder = &t->ladder;
	o.segment_s = t->cfg->hls_segment_s;
	o.preset = t->cfg->transcode_preset;
	o.top = t->enc;
	if ((rc = hls_new(&o, &t->hls, &why)))
		r = fail(t, TC_INTERNAL, "cannot set up HLS: %s",
			 why.data ? why.data : sc_strerror(rc));
	buf_release(&why);
	return r;
}

/* An HLS step failed: the run fails with why. */
static enum tc_reason hls_failed(struct transcode *t, struct buf *why)
{
	enum tc_reason r = fail(t, TC_INTERNAL, "HLS: %s",
				why->data ? why->data : "failed");

	buf_release(why);
	return r;
}

static enum tc_reason open_output(struct transcode *t)
{
	AVDictionary *opts = NULL;
	enum tc_reason r;
	int ret;

	ret = avformat_alloc_output_context2(&t->out, NULL, "mp4", t->tmp_out);
	if (ret < 0)
		return fail(t, TC_INTERNAL, "cannot set up MP4 output: %s",
			    av_err2str(ret));
	if ((r = open_encoder(t)))
		return r;
	t->ost = avformat_new_stream(t->out, NULL);
	if (!t->ost)
		return fail(t, TC_INTERNAL, "out of memory");
	if ((ret = avcodec_parameters_from_context(t->ost->codecpar, t->enc)) < 0)
		return fail(t, TC_INTERNAL, "%s", av_err2str(ret));
	t->ost->time_base = t->enc->time_base;
	t->ost->avg_frame_rate = t->fps;
	if ((ret = avio_open(&t->out->pb, t->tmp_out, AVIO_FLAG_WRITE)) < 0)
		return fail(t, TC_INTERNAL, "cannot create %s: %s", t->tmp_out,
			    av_err2str(ret));
	/* faststart: the muxer moves the index to the front when done */
	av_dict_set(&opts, "movflags", "+faststart", 0);
	ret = avformat_write_header(t->out, &opts);
	av_dict_free(&opts);
	if (ret < 0)
		return fail(t, TC_INTERNAL, "cannot write the MP4 header: %s",
			    av_err2str(ret));
	return open_hls(t);
}

/* Send one picture (NULL: flush) and write what the encoder gives back. */
static enum tc_reason encode(struct transcode *t, AVFrame *pic)
{
	struct buf why = BUF_INIT(512);
	long long t_enc = clock_us();
	int ret;

	if (pic) {
		pic->pts = t->pts++;
		pic->pict_type = t->hls && hls_keyframe(t->hls, pic->pts)
					 ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
	}
	ret = avcodec_send_frame(t->enc, pic);
	if (ret < 0)
		return fail(t, TC_INTERNAL, "encoder refused a frame: %s",
			    av_err2str(ret));
	for (;;) {
		ret = avcodec_receive_packet(t->enc, t->pkt);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			break;
		if (ret < 0)
			return fail(t, TC_INTERNAL, "encoder failed: %s",
				    av_err2str(ret));
		if (t->hls && hls_top_packet(t->hls, t->pkt, t->enc->time_base, &why))
			return hls_failed(t, &why);
		av_packet_rescale_ts(t->pkt, t->enc->time_base, t->ost->time_base);
		t->pkt->stream_index = t->ost->index;
		ret = av_interleaved_write_frame(t->out, t->pkt);
		if (ret < 0)
			return fail(t, TC_INTERNAL, "cannot write %s: %s",
				    t->tmp_out, av_err2str(ret));
	}
	took(t, ST_ENCODE, t_enc);
	if (pic && t->hls) {
		t_enc = clock_us();
		if (hls_picture(t->hls, pic, &why))
			return hls_failed(t, &why);
		took(t, ST_LADDER, t_enc);
	}
	if (pic && t->hooks) {
		/* a source longer than it claimed would go past 1 */
		if (t->hooks->progress)
			t->hooks->progress(t->total_frames > 0
						   ? fmin(1.0, (double)t->pts / t->total_frames)
						   : 0,
					   t->hooks->arg);
		if (t->hooks->cancelled && t->hooks->cancelled(t->hooks->arg))
			return fail(t, TC_CANCELLED, "cancelled");
	}
	return TC_OK;
}

static enum tc_reason emit_cards(struct transcode *t, int64_t n)
{
	enum tc_reason r;
	AVFrame *pic;

	while (n-- > 0) {
		if (render_card(t->render, &pic))
			return fail(t, TC_INTERNAL, "out of memory");
		if ((r = encode(t, pic)))
			return r;
		t->rep.card_frames++;
	}
	return TC_OK;
}

/* ---------------------------------------------------------------- pacing */

/* Show the held frame in the next slot: render it if not yet on canvas. */
static enum tc_reason emit_held(struct transcode *t)
{
	struct buf why = BUF_INIT(256);
	long long t_ren;
	AVFrame *pic = NULL;
	enum tc_reason r;
	enum sc_err rc;

	if (t->held_on_canvas) {
		/* shown in the slot before too: the canvas has it already */
		pic = render_canvas(t->render);
	} else {
		t_ren = clock_us();
		rc = render_frame(t->render, t->held, &pic, &why);
		if (rc) {
			r = fail(t, rc == SC_ERR_NOMEM ? TC_INTERNAL : TC_UNSUPPORTED_CODEC,
				 "cannot convert the picture: %s", why.data ? why.data : "");
			buf_release(&why);
			return r;
		}
		buf_release(&why);
		t->held_on_canvas = 1;
		t->rep.frames_rendered++;
		took(t, ST_RENDER, t_ren);
	}
	if (t->slot == t->poster_slot && t->poster_path) {
		struct buf perr = BUF_INIT(256);

		t_ren = clock_us();
		if (poster_write(pic, t->tmp_poster, &perr)) {
			r = fail(t, TC_INTERNAL, "%s", perr.data ? perr.data : "");
			buf_release(&perr);
			return r;
		}
		buf_release(&perr);
		t->rep.poster_written = 1;
		took(t, ST_POSTER, t_ren);
	}
	t->slot++;
	t->rep.content_frames++;
	return encode(t, pic);
}

/* Start time of slot n's second half, in source time base units. */
static int64_t slot_edge(const struct transcode *t, int64_t n)
{
	/* (n + 1/2) / fps seconds */
	AVRational half = { (int)(t->fps.den), (int)(2 * t->fps.num) };

	return t->t0 + av_rescale_q(2 * n + 1, half, t->ist->time_base);
}

/* A decoded frame arrived: fill the slots before it, then hold it. */
static enum tc_reason take_frame(struct transcode *t, AVFrame *f)
{
	int64_t ts = f->best_effort_timestamp;
	enum tc_reason r;

	if (ts == AV_NOPTS_VALUE)
		ts = f->pts;
	if (ts == AV_NOPTS_VALUE)	/* no timing at all: one frame per slot */
		ts = slot_edge(t, t->slot);
	if (t->t0 == AV_NOPTS_VALUE)
		t->t0 = t->ist->start_time != AV_NOPTS_VALUE ? t->ist->start_time : ts;
	if (ts < t->t0)
		return TC_OK;	/* before the start (edit lists) */
	t->rep.frames_decoded++;
	if (!t->has_held) {
		/* the first frame also covers any gap before it */
		av_frame_move_ref(t->held, f);
		t->has_held = 1;
		t->held_on_canvas = 0;
		return TC_OK;
	}
	while (t->slot < t->max_slots && slot_edge(t, t->slot) <= ts) {
		if ((r = emit_held(t)))
			return r;
	}
	av_frame_unref(t->held);
	av_frame_move_ref(t->held, f);
	t->held_on_canvas = 0;
	return TC_OK;
}

/* The source ended: the held frame lasts until its end. */
static enum tc_reason drain_held(struct transcode *t)
{
	int64_t end;
	enum tc_reason r;

	if (!t->has_held)
		return TC_OK;
	end = t->held->best_effort_timestamp != AV_NOPTS_VALUE
		      ? t->held->best_effort_timestamp
		      : slot_edge(t, t->slot);
	end += t->held->pkt_duration > 0
		       ? t->held->pkt_duration
		       : av_rescale_q(1, av_inv_q(t->fps), t->ist->time_base);
	while (t->slot < t->max_slots && slot_edge(t, t->slot) < end) {
		if ((r = emit_held(t)))
			return r;
	}
	return TC_OK;
}

/*
 * The first frame decides whether the source is interlaced: the stream's
 * field order (container or codec parameters) or the decoder's flag on
 * the frame.  Then bwdif is set up for the frames' own format.
 */
static enum tc_reason start_deint(struct transcode *t, const AVFrame *f)
{
	struct deint_opts o = { 0 };
	struct buf why = BUF_INIT(256);
	enum tc_reason r = TC_OK;
	enum sc_err rc;

	/* nothing says: idet looks, when the stream does not even say
	 * progressive (MPEG-4 part 2, ...) */
	o.detect = t->field_parity < 0 && !f->interlaced_frame &&
		   t->ist->codecpar->field_order == AV_FIELD_UNKNOWN;
	if (t->field_parity < 0 && !f->interlaced_frame && !o.detect)
		return TC_OK;
	o.width = f->width;
	o.height = f->height;
	o.pix_fmt = f->format;
	o.sar = f->sample_aspect_ratio;
	o.time_base = t->ist->time_base;
	o.frame_rate = source_rate(t->ist);
	/* the decoder's flags first, frame by frame; else the stream's */
	o.parity = f->interlaced_frame ? -1 : t->field_parity;
	o.flagged_only = f->interlaced_frame;
	o.per_field = t->per_field;
	rc = deint_new(&o, &t->deint, &why);
	if (rc)
		r = fail(t, rc == SC_ERR_NOMEM ? TC_INTERNAL : TC_UNSUPPORTED_CODEC,
			 "%s", why.data ? why.data : "cannot deinterlace");
	buf_release(&why);
	t->rep.deinterlaced = rc == SC_OK;
	t->rep.deint_per_field = t->per_field;
	t->rep.deint_parity_from = f->interlaced_frame ? "frames"
				   : o.detect		? "detection"
							: "stream";
	return r;
}

/* Progressive frames out of the deinterlacer, into the pacing. */
static enum tc_reason pull_deint(struct transcode *t)
{
	enum tc_reason r;
	long long t_dei, c_dei;
	int ret;

	for (;;) {
		t_dei = clock_us();
		c_dei = thread_cpu_us();
		ret = deint_pull(t->deint, t->dframe);
		took(t, ST_DEINTERLACE, t_dei);
		t->rep.deint_cpu_us += thread_cpu_us() - c_dei;
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return TC_OK;
		if (ret < 0)
			return fail(t, TC_INTERNAL, "deinterlacing failed: %s",
				    av_err2str(ret));
		r = take_frame(t, t->dframe);
		av_frame_unref(t->dframe);
		if (r || t->slot >= t->max_slots)
			return r;
	}
}

/* A decoded frame (NULL: the end) on its way to the pacing. */
static enum tc_reason take_decoded(struct transcode *t, AVFrame *f)
{
	enum tc_reason r;
	long long t_dei, c_dei;
	int ret;

	if (f && !t->deint && !t->rep.frames_decoded && !t->has_held &&
	    (r = start_deint(t, f)))
		return r;
	if (!t->deint)
		return f ? take_frame(t, f) : TC_OK;
	if (f) {
		if (f->best_effort_timestamp != AV_NOPTS_VALUE)
			f->pts = f->best_effort_timestamp;
	}
	t_dei = clock_us();
	c_dei = thread_cpu_us();
	ret = deint_push(t->deint, f);
	took(t, ST_DEINTERLACE, t_dei);
	t->rep.deint_cpu_us += thread_cpu_us() - c_dei;
	if (ret < 0)
		return fail(t, TC_INTERNAL, "deinterlacing failed: %s",
			    av_err2str(ret));
	return pull_deint(t);
}

static enum tc_reason receive_frames(struct transcode *t)
{
	long long t_dec;
	enum tc_reason r;
	int ret;

	for (;;) {
		t_dec = clock_us();
		ret = avcodec_receive_frame(t->dec, t->frame);
		took(t, ST_DECODE, t_dec);
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			return TC_OK;
		if (ret < 0) {
			t->rep.decode_errors++;
			return TC_OK;
		}
		r = take_decoded(t, t->frame);
		av_frame_unref(t->frame);
		if (r || t->slot >= t->max_slots)
			return r;
	}
}

static enum tc_reason decode_all(struct transcode *t)
{
	long long t_dec;
	enum tc_reason r;
	int ret;

	while (t->slot < t->max_slots) {
		t_dec = clock_us();
		ret = av_read_frame(t->in, t->pkt);
		if (ret < 0) {
			took(t, ST_DECODE, t_dec);
			if (ret != AVERROR_EOF)
				t->rep.decode_errors++;
			break;
		}
		if (t->pkt->stream_index != t->ist->index) {
			av_packet_unref(t->pkt);
			continue;
		}
		ret = avcodec_send_packet(t->dec, t->pkt);
		av_packet_unref(t->pkt);
		took(t, ST_DECODE, t_dec);
		if (ret < 0 && ret != AVERROR(EAGAIN))
			t->rep.decode_errors++;
		if ((r = receive_frames(t)))
			return r;
	}
	if (t->slot >= t->max_slots) {
		t->rep.trimmed = t->rep.src_duration > t->cfg->transcode_max_s;
		return TC_OK;
	}
	/* end of the source: flush the decoder, show the last frame */
	t_dec = clock_us();
	avcodec_send_packet(t->dec, NULL);
	took(t, ST_DECODE, t_dec);
	if ((r = receive_frames(t)))
		return r;
	if (t->slot < t->max_slots && (r = take_decoded(t, NULL)))
		return r;
	return drain_held(t);
}

/* ------------------------------------------------------------------ run */

static void reset_run(struct transcode *t)
{
	avformat_close_input(&t->in);
	avio_closep(&t->in_io);	/* a caller's AVIOContext: not closed above */
	avcodec_free_context(&t->dec);
	avcodec_free_context(&t->enc);
	if (t->out) {
		avio_closep(&t->out->pb);
		avformat_free_context(t->out);
		t->out = NULL;
	}
	if (t->hls) {
		t->rep.ladder_cpu_us = hls_ladder_cpu_us(t->hls);
		hls_free(t->hls);
		t->hls = NULL;
	}
	render_free(t->render);
	t->render = NULL;
	deint_free(t->deint);
	t->deint = NULL;
	tonemap_free(t->tonemap);
	t->tonemap = NULL;
	av_frame_free(&t->dframe);
	av_packet_free(&t->pkt);
	av_frame_free(&t->frame);
	av_frame_free(&t->held);
	t->ist = NULL;
	t->ost = NULL;
	t->has_held = 0;
	t->held_on_canvas = 0;
}

/* "<path>.partial", or NULL when out of memory. */
static char *partial_name(const char *path)
{
	struct buf b = BUF_INIT(8192);

	if (buf_appendf(&b, "%s.partial", path)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/*
 * An HDR source's conversion (tonemap.h): its transfer, primaries and
 * matrix, and for PQ the brightest it claims (MaxCLL, else the mastering
 * display's peak).  Unspecified primaries or matrix are taken as
 * BT.2020's, as HDR video has them.
 */
static enum sc_err tonemap_new_for(struct transcode *t)
{
	const AVCodecParameters *par = t->ist->codecpar;
	struct tonemap_opts o = { 0 };
	const AVContentLightMetadata *cll;
	const AVMasteringDisplayMetadata *md;
	size_t size = 0;
	enum sc_err rc;

	o.transfer = t->rep.hdr_transfer;
	o.primaries_2020 = par->color_primaries != AVCOL_PRI_BT709;
	o.matrix_2020 = par->color_space != AVCOL_SPC_BT709;
	cll = (const AVContentLightMetadata *)av_stream_get_side_data(
		t->ist, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, &size);
	if (cll && size >= sizeof(*cll) && cll->MaxCLL > 0)
		o.peak_nits = cll->MaxCLL;
	md = (const AVMasteringDisplayMetadata *)av_stream_get_side_data(
		t->ist, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, &size);
	if (!o.peak_nits && md && size >= sizeof(*md) && md->has_luminance &&
	    av_q2d(md->max_luminance) > 0)
		o.peak_nits = av_q2d(md->max_luminance);
	rc = tonemap_new(&o, &t->tonemap);
	t->rep.tone_mapped = rc == SC_OK;
	return rc;
}

static enum tc_reason set_up(struct transcode *t)
{
	struct render_opts ro = { 0 };
	AVRational src;
	double limit, content;
	enum tc_reason r;
	const char *pos = t->cfg->watermark_position;

	if ((r = open_decoder(t)))
		return r;
	/* constant output rate: the source's, capped; an interlaced
	 * source's field rate when the cap allows it */
	src = source_rate(t->ist);
	t->field_parity = field_parity(t->ist->codecpar->field_order);
	t->per_field = 0;
	if (t->field_parity >= 0 && src.num > 0 && src.den > 0 &&
	    av_q2d(src) * 2 <= t->cfg->transcode_max_fps + 1e-9) {
		src.num *= 2;
		t->per_field = 1;
	}
	t->fps = (AVRational){ t->cfg->transcode_max_fps, 1 };
	if (src.num > 0 && src.den > 0 && av_q2d(src) >= 1 &&
	    av_cmp_q(src, t->fps) <= 0)
		t->fps = src;
	t->rep.fps_num = t->fps.num;
	t->rep.fps_den = t->fps.den;
	limit = t->cfg->transcode_max_s;
	content = t->rep.src_duration > 0 && t->rep.src_duration < limit
			  ? t->rep.src_duration : limit;
	t->max_slots = (int64_t)floor(limit * av_q2d(t->fps) + 0.5);
	t->card_frames = (int64_t)floor(t->cfg->transcode_card_ms / 1000.0 *
					av_q2d(t->fps) + 0.5);
	t->total_frames = (int64_t)floor(content * av_q2d(t->fps) + 0.5) +
			  2 * t->card_frames;
	/* the poster: a third into the clip, where the action usually is */
	t->poster_slot = (int64_t)floor(content * av_q2d(t->fps) / 3);
	t->t0 = AV_NOPTS_VALUE;

	ro.out_w = TRANSCODE_OUT_W;
	ro.out_h = TRANSCODE_OUT_H;
	ro.orient = stream_orient(t->ist);
	ro.mark = t->mark;
	ro.corner = !strcmp(pos, "top-left")	  ? RENDER_TOP_LEFT
		    : !strcmp(pos, "top-right")	  ? RENDER_TOP_RIGHT
		    : !strcmp(pos, "bottom-left") ? RENDER_BOTTOM_LEFT
						  : RENDER_BOTTOM_RIGHT;
	ro.card_logo = t->card_logo;
	if (t->rep.hdr) {
		if (tonemap_new_for(t))
			return fail(t, TC_INTERNAL, "out of memory");
		ro.tonemap = t->tonemap;
	}
	if (render_new(&ro, &t->render))
		return fail(t, TC_INTERNAL, "cannot set up rendering");
	t->pkt = av_packet_alloc();
	t->frame = av_frame_alloc();
	t->held = av_frame_alloc();
	t->dframe = av_frame_alloc();
	if (!t->pkt || !t->frame || !t->held || !t->dframe)
		return fail(t, TC_INTERNAL, "out of memory");
	return open_output(t);
}

/* Finish the file, check it, and put the outputs in place. */
static enum tc_reason finish(struct transcode *t, const char *out)
{
	struct outcheck_expect want;
	struct buf why = BUF_INIT(512);
	long long t_fin = clock_us();
	double frame_s = av_q2d(av_inv_q(t->fps));
	enum tc_reason r;
	int ret;

	if ((r = encode(t, NULL)))
		return r;
	ret = av_write_trailer(t->out);
	if (ret >= 0)
		ret = avio_closep(&t->out->pb);
	if (ret < 0)
		return fail(t, TC_INTERNAL, "cannot finish %s: %s", t->tmp_out,
			    av_err2str(ret));
	if (t->hls && hls_finish(t->hls, &why))
		return hls_failed(t, &why);
	took(t, ST_FINISH, t_fin);

	t_fin = clock_us();
	want.width = TRANSCODE_OUT_W;
	want.height = TRANSCODE_OUT_H;
	want.min_s = (t->pts - 1) * frame_s;
	want.max_s = (t->pts + 1) * frame_s;
	if (outcheck_mp4(t->tmp_out, &want, &t->rep.out, &why)) {
		r = fail(t, TC_OUTPUT_CHECK, "the output failed its check: %s",
			 why.data ? why.data : "");
		buf_release(&why);
		return r;
	}
	buf_release(&why);
	took(t, ST_CHECK, t_fin);

	if (t->poster_path && !t->rep.poster_written)
		return fail(t, TC_INTERNAL, "no frame for the poster");
	if (rename(t->tmp_out, out) < 0)
		return fail(t, TC_INTERNAL, "cannot rename to %s: %s", out,
			    strerror(errno));
	if (t->poster_path && rename(t->tmp_poster, t->poster_path) < 0) {
		r = fail(t, TC_INTERNAL, "cannot rename to %s: %s", t->poster_path,
			 strerror(errno));
		unlink(out);
		return r;
	}
	return TC_OK;
}

enum tc_reason transcode_run(struct transcode *t, const char *in,
			     const char *out, const char *poster,
			     const struct transcode_hooks *hooks)
{
	long long t_start = clock_us(), t_probe;
	enum tc_reason r;

	memset(&t->rep, 0, sizeof(t->rep));
	buf_reset(&t->msg);
	t->hooks = hooks;
	t->poster_path = poster;
	t->slot = 0;
	t->pts = 0;
	t->tmp_out = partial_name(out);
	t->tmp_poster = poster ? partial_name(poster) : NULL;
	if (!t->tmp_out || (poster && !t->tmp_poster)) {
		r = fail(t, TC_INTERNAL, "out of memory");
		goto out_clean;
	}

	t_probe = clock_us();
	r = probe(t, in);
	took(t, ST_PROBE, t_probe);
	if (r)
		goto out_clean;
	if ((r = set_up(t)))
		goto out_clean;
	if ((r = emit_cards(t, t->card_frames)) || (r = decode_all(t)))
		goto out_clean;
	t->rep.content_s = t->rep.content_frames * av_q2d(av_inv_q(t->fps));
	if (t->rep.content_frames == 0) {
		r = fail(t, TC_CORRUPT, "no picture could be decoded");
		goto out_clean;
	}
	if (t->slot < t->max_slots && t->rep.src_duration > 0 &&
	    t->rep.content_s + TRUNCATED_SLACK_S <
		    fmin(t->rep.src_duration, t->cfg->transcode_max_s)) {
		r = fail(t, TC_CORRUPT, "the file ends after %.1f s of its %.1f s",
			 t->rep.content_s, t->rep.src_duration);
		goto out_clean;
	}
	if ((r = emit_cards(t, t->card_frames)) || (r = finish(t, out)))
		goto out_clean;
	fail(t, TC_OK, "%lld frames, %.2f s", (long long)t->pts,
	     t->pts * av_q2d(av_inv_q(t->fps)));
out_clean:
	if (t->tonemap)
		t->rep.hdr_peak_nits = tonemap_peak_nits(t->tonemap);
	t->rep.stage_us[ST_TONEMAP] = render_tonemap_us(t->render, 0);
	t->rep.tonemap_cpu_us = render_tonemap_us(t->render, 1);
	t->rep.stage_us[ST_RENDER] -= t->rep.stage_us[ST_TONEMAP];
	reset_run(t);
	if (r != TC_OK) {
		if (t->tmp_out)
			unlink(t->tmp_out);
		if (t->tmp_poster)
			unlink(t->tmp_poster);
		if (t->hls_dir && t->ladder.enabled)
			hls_remove(t->hls_dir, &t->ladder);
	} else {
		t->rep.hls = t->hls_dir && t->ladder.enabled;
	}
	free(t->tmp_out);
	free(t->tmp_poster);
	t->tmp_out = t->tmp_poster = NULL;
	t->rep.reason = r;
	t->rep.total_us = clock_us() - t_start;
	return r;
}

/* --------------------------------------------------------------- report */

static double ms(long long us)
{
	return floor(us / 100.0) / 10.0;
}

/* output.deinterlace: null, or how the fields became frames. */
static void add_deinterlace(cJSON *res, const struct report *p)
{
	cJSON *d;

	if (!p->deinterlaced) {
		cJSON_AddNullToObject(res, "deinterlace");
		return;
	}
	d = cJSON_AddObjectToObject(res, "deinterlace");
	if (!d)
		return;
	cJSON_AddStringToObject(d, "method", "bwdif");
	cJSON_AddStringToObject(d, "rate", p->deint_per_field ? "field" : "frame");
	cJSON_AddStringToObject(d, "field_order_from",
				p->deint_parity_from ? p->deint_parity_from : "stream");
}

/* source.stream: which video stream was used, why, and the others. */
static void add_stream_choice(cJSON *src, const struct report *p)
{
	cJSON *st, *left, *o;
	int i;

	st = cJSON_AddObjectToObject(src, "stream");
	if (!st)
		return;
	cJSON_AddNumberToObject(st, "index", p->stream_index);
	cJSON_AddStringToObject(st, "why", probe_why_name(p->stream_why));
	cJSON_AddNumberToObject(st, "video_streams", p->video_streams);
	left = cJSON_AddArrayToObject(st, "skipped");
	for (i = 0; left && i < p->nskipped; i++) {
		o = cJSON_CreateObject();
		if (!o)
			return;
		cJSON_AddNumberToObject(o, "index", p->skipped[i].index);
		cJSON_AddStringToObject(o, "why", probe_why_name(p->skipped[i].why));
		cJSON_AddItemToArray(left, o);
	}
}

enum sc_err transcode_report_json(const struct transcode *t, struct buf *out)
{
	const struct report *p = &t->rep;
	cJSON *root, *src, *res, *stages, *steps;
	enum sc_err rc = SC_ERR_NOMEM;
	char *text = NULL;
	int i;

	root = cJSON_CreateObject();
	if (!root)
		return SC_ERR_NOMEM;
	cJSON_AddStringToObject(root, "outcome", tc_reason_name(p->reason));
	cJSON_AddStringToObject(root, "message", transcode_message(t));
	src = cJSON_AddObjectToObject(root, "source");
	if (src) {
		cJSON_AddNumberToObject(src, "bytes", (double)p->src_bytes);
		cJSON_AddStringToObject(src, "container", p->container);
		cJSON_AddStringToObject(src, "codec", p->codec);
		cJSON_AddStringToObject(src, "pix_fmt", p->pix_fmt);
		cJSON_AddNumberToObject(src, "bit_depth", p->bit_depth);
		cJSON_AddStringToObject(src, "hdr", !p->hdr ? "none"
					: p->hdr_transfer == TONEMAP_HLG ? "hlg" : "pq");
		if (p->dovi_profile) {
			cJSON *dv = cJSON_AddObjectToObject(src, "dolby_vision");

			if (dv) {
				cJSON_AddNumberToObject(dv, "profile", p->dovi_profile);
				cJSON_AddNumberToObject(dv, "base_compatibility",
							p->dovi_compat);
			}
		}
		cJSON_AddNumberToObject(src, "width", p->src_w);
		cJSON_AddNumberToObject(src, "height", p->src_h);
		cJSON_AddNumberToObject(src, "sar_num", p->sar_num);
		cJSON_AddNumberToObject(src, "sar_den", p->sar_den);
		cJSON_AddNumberToObject(src, "display_width", p->disp_w);
		cJSON_AddNumberToObject(src, "display_height", p->disp_h);
		cJSON_AddNumberToObject(src, "rotation", p->rotation);
		cJSON_AddBoolToObject(src, "mirrored", p->mirrored);
		cJSON_AddNumberToObject(src, "duration", p->src_duration);
		cJSON_AddStringToObject(src, "duration_from",
					probe_source_name(p->duration_from));
		cJSON_AddStringToObject(src, "header_duration",
					probe_header_name(p->header_duration));
		add_stream_choice(src, p);
		cJSON_AddNumberToObject(src, "fps", p->src_fps);
		cJSON_AddStringToObject(src, "field_order",
					p->field_order ? p->field_order : "unknown");
	}
	res = cJSON_AddObjectToObject(root, "output");
	if (res) {
		cJSON_AddBoolToObject(res, "trimmed", p->trimmed);
		add_deinterlace(res, p);
		cJSON_AddBoolToObject(res, "tone_mapped", p->tone_mapped);
		if (p->tone_mapped)
			cJSON_AddNumberToObject(res, "hdr_peak_nits", p->hdr_peak_nits);
		cJSON_AddNumberToObject(res, "fps", p->fps_den ? p->fps_num / p->fps_den : 0);
		cJSON_AddNumberToObject(res, "frames_decoded", (double)p->frames_decoded);
		cJSON_AddNumberToObject(res, "frames_rendered", (double)p->frames_rendered);
		cJSON_AddNumberToObject(res, "decode_errors", (double)p->decode_errors);
		cJSON_AddNumberToObject(res, "content_frames", (double)p->content_frames);
		cJSON_AddNumberToObject(res, "card_frames", (double)p->card_frames);
		cJSON_AddNumberToObject(res, "content_seconds", p->content_s);
		cJSON_AddNumberToObject(res, "width", p->out.width);
		cJSON_AddNumberToObject(res, "height", p->out.height);
		cJSON_AddNumberToObject(res, "duration", p->out.duration);
		cJSON_AddNumberToObject(res, "bytes", (double)p->out.bytes);
		cJSON_AddNumberToObject(res, "audio_streams", p->out.audio_streams);
		cJSON_AddBoolToObject(res, "moov_first", p->out.moov_first);
		cJSON_AddBoolToObject(res, "poster", p->poster_written);
		cJSON_AddBoolToObject(res, "hls", p->hls);
	}
	stages = cJSON_AddObjectToObject(root, "stages_ms");
	if (stages) {
		for (i = 0; i < ST__COUNT; i++)
			cJSON_AddNumberToObject(stages, stage_names[i],
						ms(p->stage_us[i]));
		cJSON_AddNumberToObject(stages, "total", ms(p->total_us));
	}
	/* the steps for rarer sources, in CPU time of their thread (wall
	 * time above counts the waits of a busy machine too) */
	steps = cJSON_AddObjectToObject(root, "steps_cpu_ms");
	if (steps) {
		cJSON_AddNumberToObject(steps, "deinterlace", ms(p->deint_cpu_us));
		cJSON_AddNumberToObject(steps, "tonemap", ms(p->tonemap_cpu_us));
		cJSON_AddNumberToObject(steps, "ladder", ms(p->ladder_cpu_us));
	}
	if (src && res && stages && steps && (text = cJSON_PrintUnformatted(root)))
		rc = buf_appends(out, text);
	cJSON_free(text);
	cJSON_Delete(root);
	return rc;
}
