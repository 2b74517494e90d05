/*
 * probe.h - which video stream of a source to use, and how long it is.
 *
 * Stream choice follows libavformat's av_find_best_stream() and the
 * ffmpeg tool: the default track first, then the one with the most
 * frames; unlike them it never takes cover art or a still (an attached
 * picture, a track marked still, or a one-frame track of a picture codec,
 * such as the MJPEG or PNG "poster" tracks some editors write first).
 *
 * Duration: a container's header may not know it.  ISO/IEC 14496-12
 * (8.3.2.3, 8.4.2.3) lets mvhd, tkhd and mdhd carry all ones when "the
 * duration cannot be determined", which fragmented MP4 from recorders
 * (OBS, browsers, phones) does; others leave it zero or out (Matroska
 * from a live recorder), and libavformat then guesses from the bit rate.
 * None of those may be believed.  The real duration then comes from the
 * fragments' index (libavformat reads every moof's sample table when it
 * opens a seekable MP4) or, for other containers, from a scan of the
 * stream's packets, never from decoding.
 *
 * Invariants: the choice and the classification are pure functions of
 * what they are given (unit-tested); probe_duration() reads the file
 * and leaves the demuxer back at the start.
 */
#ifndef SC_PROBE_H
#define SC_PROBE_H

#include <stdint.h>

#include <libavformat/avformat.h>

/* What the container says about one video stream. */
struct probe_track {
	int attached_pic;	/* cover art (AV_DISPOSITION_ATTACHED_PIC) */
	int still_image;	/* AV_DISPOSITION_STILL_IMAGE */
	int is_default;		/* AV_DISPOSITION_DEFAULT */
	int intra_only;		/* every frame a picture of its own: MJPEG,
				 * PNG, ... (AV_CODEC_PROP_INTRA_ONLY) */
	int64_t frames;		/* frames the header counts; 0: not known */
	double seconds;		/* the header's duration; <= 0: not known */
	double fps;		/* average or base rate; <= 0: not known */
};

/* Why a stream was taken, or left. */
enum probe_why {
	PROBE_NONE,		/* no usable video stream */
	PROBE_ONLY,		/* the only video stream that is not a still */
	PROBE_DEFAULT,		/* the default track (the one with the most
				 * frames among several defaults) */
	PROBE_MOST_FRAMES,	/* no default: the one with the most frames */
	PROBE_FIRST,		/* no default, frame counts unknown: the first */
	PROBE_COVER_ART,	/* left: an attached picture */
	PROBE_STILL,		/* left: marked still, or one picture */
	PROBE_OTHER,		/* left: another track was better */
};

/* "default", "most_frames", "cover_art", ...; never NULL. */
const char *probe_why_name(enum probe_why w);

/*
 * Choose among the n video streams v[0..n-1] (n >= 0).  Returns the
 * position in v of the one to use, or -1 when every one is cover art or
 * a still (the file then has no video).  *why says why it was taken
 * (PROBE_NONE with -1); left, if not NULL, gets n entries: for each
 * stream why it was left (PROBE_NONE for the one taken).
 */
int probe_pick(const struct probe_track *v, int n, enum probe_why *why,
	       enum probe_why *left);

/* What a header's duration field says, in the stream's time base. */
enum probe_header {
	PROBE_HDR_KNOWN,	/* a positive, believable value */
	PROBE_HDR_MISSING,	/* AV_NOPTS_VALUE or negative */
	PROBE_HDR_ZERO,
	PROBE_HDR_UNKNOWN,	/* all ones: 0xFFFFFFFF (a version 0 box)
				 * or all 64 bits (version 1, read as -1) */
};

/* "known", "missing", "zero", "unknown"; never NULL. */
const char *probe_header_name(enum probe_header h);

/* Classify a stream's duration as libavformat gives it (ticks). */
enum probe_header probe_header_duration(int64_t ticks);

/* Where the duration that was used came from. */
enum probe_source {
	PROBE_FROM_HEADER,	/* the stream's or the container's header */
	PROBE_FROM_INDEX,	/* the container's sample index (an MP4's
				 * fragments' index) */
	PROBE_FROM_PACKETS,	/* a scan of the stream's packets */
};

/* "header", "index", "packets"; never NULL. */
const char *probe_source_name(enum probe_source s);

/*
 * The real duration of stream st of in, in seconds, for a header that
 * cannot be believed: from the demuxer's sample index when the
 * container is MP4/MOV (complete once the file is open: libavformat
 * reads every fragment's moof), otherwise by reading the stream's
 * packets to the end of the file without decoding them (other streams'
 * packets are dropped by the demuxer).  On success *seconds > 0, *from
 * says which way, and the demuxer is back at the start (seeked; packets
 * read ahead by avformat_find_stream_info() are dropped, which is why
 * this runs before the first av_read_frame() of the run).  Returns 0, or
 * a negative AVERROR: no packet with a timestamp (AVERROR_INVALIDDATA),
 * or the seek back failed.
 */
int probe_duration(AVFormatContext *in, AVStream *st, double *seconds,
		   enum probe_source *from);

#endif
