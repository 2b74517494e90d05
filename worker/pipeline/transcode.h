/*
 * transcode.h - one source video in, one contest clip and poster out.
 *
 * The pipeline: demux and decode the best video stream (the default
 * track, never cover art or a still: probe.h; everything else is
 * discarded unread), judge the duration it really has, deinterlace an
 * interlaced source (deint.h), keep at most TRANSCODE_MAX_SECONDS, turn
 * it upright, fit and pad it to 1280x720 (an HDR source tone-mapped to
 * BT.709 SDR on the way: tonemap.h), watermark it, add the opening and
 * closing cards, encode H.264 at a constant frame rate into an MP4 with
 * its index first, and write a JPEG poster; optionally the same frames as
 * HLS renditions (hls.h).  One pass, FFmpeg's
 * libraries only.
 *
 * Invariants: a struct transcode owns every FFmpeg context of its job; no
 * state is shared between jobs, so jobs may run in parallel threads, one
 * struct each.  Outputs appear under their final names only on success
 * (written to "<name>.partial" and renamed); on failure no file is left.
 *
 * Life cycle: transcode_new() (decodes the logo), transcode_run() once or
 * more, transcode_report_json() / transcode_message() about the last run,
 * transcode_free().
 */
#ifndef SC_TRANSCODE_H
#define SC_TRANSCODE_H

#include "buf.h"
#include "config.h"
#include "error.h"
#include "reason.h"

#define TRANSCODE_OUT_W 1280
#define TRANSCODE_OUT_H 720

struct transcode_hooks {
	/* Fraction 0..1 of the output frames done, after every frame. */
	void (*progress)(double done, void *arg);
	/* Non-zero: stop now; the run ends with TC_CANCELLED. */
	int (*cancelled)(void *arg);
	void *arg;
};

struct transcode;

/*
 * A transcoder with the pipeline and policy settings of cfg, which must
 * outlive it.  On failure err says why (a logo that cannot be read is
 * SC_ERR_CONFIG).
 */
enum sc_err transcode_new(const struct config *cfg, struct transcode **out,
			  struct buf *err);
void transcode_free(struct transcode *t);

/*
 * Turn the file at in into out (MP4) and, if poster is not NULL, a JPEG.
 * hooks may be NULL.  Returns TC_OK or why not; transcode_message() then
 * has a sentence for people.
 */
enum tc_reason transcode_run(struct transcode *t, const char *in,
			     const char *out, const char *poster,
			     const struct transcode_hooks *hooks);

/*
 * Also write the HLS renditions (hls.h: master.m3u8, <name>.m3u8 and
 * <name>.m4s per rendition) into the directory dir on the next runs,
 * unless HLS_LADDER is "off"; NULL: none.  dir is the caller's and must
 * outlive the runs.  On a failed run the HLS files are removed too.
 */
void transcode_set_hls(struct transcode *t, const char *dir);

/* The last run's outcome in words ("the video is 10.0 s long; ..."). */
const char *transcode_message(const struct transcode *t);

/*
 * The last run's report as one JSON object: outcome, source (container,
 * codec, size, duration and where it came from, the stream used and why,
 * HDR, field order, rotation, fps, ...), what was done (trimmed,
 * deinterlaced, tone-mapped, frames), output (size, duration,
 * self-check) and milliseconds per stage.  Appends to out.
 */
enum sc_err transcode_report_json(const struct transcode *t, struct buf *out);

/* Route libav* messages into the project's log (errors at debug level:
 * the pipeline reports what matters itself).  Once per process. */
void transcode_log_init(void);

#endif
