/*
 * deint.c - the bwdif step: buffer -> [idet ->] bwdif -> buffersink.
 *
 * The graph runs on the calling thread alone (one filter thread): the
 * decoder's and the encoder's threads keep the other cores busy, and
 * the step's cost is then its time in the report.  Frames keep their
 * timestamps through it: the sink's time base is the source's, halved
 * when every field becomes a frame, and pull() rescales back.
 */
#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/mathematics.h>
#include <libavutil/pixdesc.h>

#include "deint.h"

struct deint {
	struct deint_opts o;
	AVFilterGraph *graph;
	AVFilterContext *src, *sink;
	AVRational sink_tb;
	int64_t one_out;		/* an output frame, in o.time_base */
};

void deint_free(struct deint *d)
{
	if (!d)
		return;
	avfilter_graph_free(&d->graph);
	av_free(d);
}

/* Create one filter of the graph; 0 or an AVERROR. */
static int add(struct deint *d, AVFilterContext **fc, const char *filter,
	       const char *name, const char *args)
{
	const AVFilter *f = avfilter_get_by_name(filter);

	if (!f)
		return AVERROR_FILTER_NOT_FOUND;
	return avfilter_graph_create_filter(fc, f, name, args, NULL, d->graph);
}

enum sc_err deint_new(const struct deint_opts *o, struct deint **out,
		      struct buf *err)
{
	AVFilterContext *bwdif = NULL, *idet = NULL;
	struct deint *d;
	char args[256];
	AVRational field;
	int ret;

	*out = NULL;
	d = av_mallocz(sizeof(*d));
	if (!d)
		return SC_ERR_NOMEM;
	d->o = *o;
	d->graph = avfilter_graph_alloc();
	if (!d->graph)
		goto out_nomem;
	d->graph->nb_threads = 1;
	snprintf(args, sizeof(args),
		 "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d",
		 o->width, o->height, o->pix_fmt, o->time_base.num,
		 o->time_base.den, o->sar.num > 0 ? o->sar.num : 0,
		 o->sar.den > 0 ? o->sar.den : 1);
	if ((ret = add(d, &d->src, "buffer", "in", args)) < 0)
		goto out_fail;
	snprintf(args, sizeof(args), "mode=%s:parity=%s:deint=%s",
		 o->per_field ? "send_field" : "send_frame",
		 o->parity < 0 || o->detect ? "auto" : o->parity ? "bff" : "tff",
		 o->flagged_only || o->detect ? "interlaced" : "all");
	if ((ret = add(d, &bwdif, "bwdif", "deint", args)) < 0)
		goto out_fail;
	if ((ret = add(d, &d->sink, "buffersink", "out", NULL)) < 0)
		goto out_fail;
	if (o->detect && (ret = add(d, &idet, "idet", "detect", NULL)) < 0)
		goto out_fail;
	if ((ret = avfilter_link(d->src, 0, idet ? idet : bwdif, 0)) < 0 ||
	    (idet && (ret = avfilter_link(idet, 0, bwdif, 0)) < 0) ||
	    (ret = avfilter_link(bwdif, 0, d->sink, 0)) < 0 ||
	    (ret = avfilter_graph_config(d->graph, NULL)) < 0)
		goto out_fail;
	d->sink_tb = av_buffersink_get_time_base(d->sink);
	field = o->frame_rate;
	if (field.num <= 0 || field.den <= 0)
		field = (AVRational){ 25, 1 };
	if (o->per_field)
		field.num *= 2;
	d->one_out = av_rescale_q(1, av_inv_q(field), o->time_base);
	*out = d;
	return SC_OK;
out_nomem:
	deint_free(d);
	return SC_ERR_NOMEM;
out_fail:
	buf_appendf(err, "cannot deinterlace %s %dx%d: %s",
		    av_get_pix_fmt_name(o->pix_fmt) ? av_get_pix_fmt_name(o->pix_fmt) : "?",
		    o->width, o->height, av_err2str(ret));
	deint_free(d);
	return ret == AVERROR(ENOMEM) ? SC_ERR_NOMEM : SC_ERR_INVALID;
}

int deint_push(struct deint *d, AVFrame *f)
{
	/* a reference of our own: the filter may keep it for the next field */
	return av_buffersrc_write_frame(d->src, f);
}

int deint_pull(struct deint *d, AVFrame *out)
{
	int ret = av_buffersink_get_frame(d->sink, out);

	if (ret < 0)
		return ret;
	if (out->pts != AV_NOPTS_VALUE)
		out->pts = av_rescale_q(out->pts, d->sink_tb, d->o.time_base);
	out->best_effort_timestamp = out->pts;
	out->pkt_duration = d->one_out;
	/* what comes out is progressive */
	out->interlaced_frame = 0;
	out->top_field_first = 0;
	return 0;
}
