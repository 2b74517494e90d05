/*
 * deint.h - interlaced source frames to progressive ones, before scaling.
 *
 * The method is libavfilter's bwdif ("Bob Weaver"): motion-adaptive, it
 * keeps the lines of the field being output, and where the picture moves
 * it fills the other field's lines from the field's own neighbours
 * (a cubic through four lines) corrected by the temporal difference of
 * the surrounding fields, and where it is still it weaves the other
 * field back in; w3fdif's filter shape, yadif's spatial check.  It is
 * the only libavfilter step the pipeline has (DESIGN: a rarer source's
 * step may use a well-kept library), in a graph of three or four filters:
 * buffer -> [idet ->] bwdif -> buffersink.
 *
 * Field order: per frame from the decoder (AVFrame.interlaced_frame and
 * top_field_first, as H.264 and HEVC code them), else the one the caller
 * gives (from the container or the codec parameters), else, when neither
 * says anything, detected per frame by idet (buffer -> idet -> bwdif).
 *
 * Rates: one output frame per source frame (the first field's instant,
 * like bwdif=mode=send_frame), or one per field (mode=send_field: the
 * field rate's motion, at twice the frame rate) when the caller's rate
 * cap allows it.
 *
 * Life cycle: deint_new() with the first frame's format, deint_push() each
 * decoded frame (NULL at the end), deint_pull() until it says EAGAIN (or
 * AVERROR_EOF after the end), deint_free().
 */
#ifndef SC_DEINT_H
#define SC_DEINT_H

#include <libavutil/frame.h>
#include <libavutil/rational.h>

#include "buf.h"
#include "error.h"

struct deint_opts {
	int width, height;	/* of every frame pushed (pixels) */
	int pix_fmt;		/* enum AVPixelFormat of every frame pushed */
	AVRational sar;		/* sample aspect ratio, 0/1 when unknown */
	AVRational time_base;	/* of the frames' pts */
	AVRational frame_rate;	/* of the source frames (for the field rate) */
	int parity;		/* -1: each frame's own flags; 0: top field
				 * first; 1: bottom field first */
	int per_field;		/* 1: a frame per field; 0: per frame */
	int flagged_only;	/* 1: deinterlace only the frames the decoder
				 * marks interlaced, pass the others through
				 * (mixed sources); 0: every frame */
	int detect;		/* 1: nothing says whether the source is
				 * interlaced: libavfilter's idet looks at
				 * each frame first and marks those whose
				 * lines comb (with their field order);
				 * only those are deinterlaced */
};

struct deint;

/*
 * A deinterlacer for frames of o.  On SC_OK *out is the caller's, freed
 * with deint_free().  SC_ERR_NOMEM, or SC_ERR_INVALID with err set when
 * libavfilter refuses the format (it takes 8- to 16-bit planar YUV and
 * grey).
 */
enum sc_err deint_new(const struct deint_opts *o, struct deint **out,
		      struct buf *err);
void deint_free(struct deint *d);

/*
 * Give one decoded frame (pts in o.time_base; AV_NOPTS_VALUE is taken as
 * the previous one plus a frame), or NULL when the source has ended.
 * The frame is not changed: the filter takes its own reference.  0, or a
 * negative AVERROR.
 */
int deint_push(struct deint *d, AVFrame *f);

/*
 * The next progressive frame into out (which must be empty; the caller
 * unrefs it), its pts in o.time_base (field instants rounded to it) and
 * pkt_duration the frame's or field's length.  0, AVERROR(EAGAIN) when
 * more input is needed, AVERROR_EOF after the end, or another AVERROR.
 */
int deint_pull(struct deint *d, AVFrame *out);

#endif
