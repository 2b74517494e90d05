/*
 * outcheck.h - the self-check a finished output must pass before success.
 *
 * It reads the file back as a player would: one H.264 video stream of the
 * expected size, no audio, a duration within bounds, and the index (moov)
 * before the media data (mdat) so playback over range requests starts at
 * once.
 */
#ifndef SC_OUTCHECK_H
#define SC_OUTCHECK_H

#include "buf.h"
#include "error.h"

struct outcheck_expect {
	int width, height;
	double min_s, max_s;
};

struct outcheck_found {
	int width, height;
	int streams, audio_streams;
	double duration;
	const char *codec;		/* static string from libavcodec */
	int moov_first;
	long long bytes;
};

/*
 * Probe path into *found; SC_OK if it meets *want, SC_ERR_INVALID with the
 * broken rule in err otherwise, SC_ERR_IO when it cannot be read.
 */
enum sc_err outcheck_mp4(const char *path, const struct outcheck_expect *want,
			 struct outcheck_found *found, struct buf *err);

#endif
