/*
 * hls.h - the HLS renditions of a transcode, written in the same pass as
 * the MP4 (RFC 8216; libavformat's hls muxer for the media playlists and
 * files, the master playlist written here).
 *
 * The 720p rendition takes the MP4 encoder's packets as they are (a second
 * muxer on the same encode: hls_top_packet()).  Each rendition of the
 * ladder (hls_ladder.h) scales the finished 1280x720 picture (watermark,
 * cards and all) with libswscale and encodes it once with libx264 at its
 * bit rate (hls_picture()).  Every encoder, the MP4's included, is told to
 * start a closed GOP (an IDR frame) on the first frame of each segment
 * (hls_keyframe()), so the muxers cut every rendition at the same frames.
 *
 * Files, in the directory given (names from hls_ladder.h):
 *   master.m3u8                 the variants: BANDWIDTH (peak segment rate),
 *                               AVERAGE-BANDWIDTH, CODECS (from each
 *                               encoder's SPS), RESOLUTION, FRAME-RATE
 *   <name>.m3u8, <name>.m4s     per rendition: a VOD media playlist and its
 *                               fMP4 file (init section and segments as
 *                               byte ranges of one file: single_file)
 *
 * Invariants: a struct hls owns its muxers, encoders and scalers; it never
 * frees the 720p encoder, which is the caller's.
 *
 * Life cycle: hls_new() once the 720p encoder is open; per output frame
 * hls_keyframe() before encoding it, hls_picture() with the picture and
 * hls_top_packet() with each packet of the 720p encoder; hls_finish()
 * after the 720p encoder is flushed; hls_free().  On failure,
 * hls_remove() takes the files away.
 */
#ifndef SC_HLS_H
#define SC_HLS_H

#include <libavcodec/avcodec.h>

#include "buf.h"
#include "error.h"
#include "hls_ladder.h"

#define HLS_MASTER "master.m3u8"
#define HLS_TOP_NAME "720p"

struct hls_opts {
	const char *dir;			/* the files' directory */
	const struct hls_ladder *ladder;	/* enabled; the caller's */
	int segment_s;				/* seconds */
	const char *preset;			/* x264's, for the ladder */
	const AVCodecContext *top;		/* the open 720p encoder;
						 * outlives the struct hls */
};

struct hls;

/*
 * Open every rendition's muxer (and the ladder's encoders and scalers)
 * for frames at top->framerate.  On SC_OK *out is the caller's (hls_free);
 * otherwise err says why.
 */
enum sc_err hls_new(const struct hls_opts *o, struct hls **out,
		    struct buf *err);
void hls_free(struct hls *h);

/* Does output frame n (counted from 0) start a segment?  Its encoders
 * must then make it an IDR frame. */
int hls_keyframe(const struct hls *h, int64_t n);

/*
 * A packet of the 720p encoder with timestamps in tb: written to the 720p
 * rendition too (a new reference; pkt stays the caller's, unchanged).
 */
enum sc_err hls_top_packet(struct hls *h, const AVPacket *pkt, AVRational tb,
			   struct buf *err);

/* Output frame pic (1280x720 YUV420P, pts the frame's number) for the
 * ladder's renditions; pic stays the caller's. */
enum sc_err hls_picture(struct hls *h, const AVFrame *pic, struct buf *err);

/* Flush the ladder's encoders, finish every media playlist, write the
 * master playlist. */
enum sc_err hls_finish(struct hls *h, struct buf *err);

/* Microseconds of this thread's CPU spent scaling and encoding the ladder. */
long long hls_ladder_cpu_us(const struct hls *h);

/* Remove the files a run with this ladder writes into dir (best effort). */
void hls_remove(const char *dir, const struct hls_ladder *ladder);

/*
 * The RFC 6381 codecs string of an H.264 stream ("avc1.PPCCLL": profile,
 * constraint flags and level of its SPS) from extradata in avcC or
 * Annex B form, into out (cap bytes).  SC_ERR_INVALID when there is no
 * SPS.
 */
enum sc_err hls_avc_codecs(const uint8_t *extradata, int size, char *out,
			   size_t cap);

#endif
