/*
 * probe.c - stream choice and the duration a source really has.
 *
 * The choice ranks like av_find_best_stream(): default disposition
 * first, then more frames (where the header counts them, or duration
 * times rate), then the earlier stream.  Stills are out before ranking.
 */
#include <stdint.h>

#include <libavutil/avstring.h>

#include "probe.h"

static const char *const why_names[] = {
	[PROBE_NONE] = "none",
	[PROBE_ONLY] = "only",
	[PROBE_DEFAULT] = "default",
	[PROBE_MOST_FRAMES] = "most_frames",
	[PROBE_FIRST] = "first",
	[PROBE_COVER_ART] = "cover_art",
	[PROBE_STILL] = "still",
	[PROBE_OTHER] = "other",
};

const char *probe_why_name(enum probe_why w)
{
	if ((unsigned)w >= sizeof(why_names) / sizeof(why_names[0]))
		return "none";
	return why_names[w];
}

/* Frames of a track: counted by the header, else duration times rate. */
static double frames_of(const struct probe_track *t)
{
	if (t->frames > 0)
		return (double)t->frames;
	if (t->seconds > 0 && t->fps > 0)
		return t->seconds * t->fps;
	return 0;
}

static enum probe_why left_why(const struct probe_track *t)
{
	if (t->attached_pic)
		return PROBE_COVER_ART;
	if (t->still_image || (t->frames == 1 && t->intra_only))
		return PROBE_STILL;
	return PROBE_NONE;
}

int probe_pick(const struct probe_track *v, int n, enum probe_why *why,
	       enum probe_why *left)
{
	int i, best = -1, candidates = 0, any_default = 0, any_count = 0;
	double best_frames = -1, f;

	for (i = 0; i < n; i++) {
		if (left_why(&v[i]) != PROBE_NONE)
			continue;
		candidates++;
		any_default |= v[i].is_default;
		any_count |= frames_of(&v[i]) > 0;
	}
	for (i = 0; i < n; i++) {
		if (left_why(&v[i]) != PROBE_NONE)
			continue;
		if (any_default && !v[i].is_default)
			continue;
		f = frames_of(&v[i]);
		if (f > best_frames) {	/* ties: the earlier stream */
			best = i;
			best_frames = f;
		}
	}
	*why = best < 0		    ? PROBE_NONE
	       : candidates == 1    ? PROBE_ONLY
	       : any_default	    ? PROBE_DEFAULT
	       : any_count	    ? PROBE_MOST_FRAMES
				    : PROBE_FIRST;
	if (left)
		for (i = 0; i < n; i++)
			left[i] = i == best ? PROBE_NONE
				  : left_why(&v[i]) != PROBE_NONE ? left_why(&v[i])
								  : PROBE_OTHER;
	return best;
}

static const char *const header_names[] = {
	[PROBE_HDR_KNOWN] = "known",
	[PROBE_HDR_MISSING] = "missing",
	[PROBE_HDR_ZERO] = "zero",
	[PROBE_HDR_UNKNOWN] = "unknown",
};

const char *probe_header_name(enum probe_header h)
{
	if ((unsigned)h >= sizeof(header_names) / sizeof(header_names[0]))
		return "missing";
	return header_names[h];
}

enum probe_header probe_header_duration(int64_t ticks)
{
	/* a version 1 box's all-ones duration arrives as -1 */
	if (ticks == (int64_t)UINT32_MAX || ticks == -1)
		return PROBE_HDR_UNKNOWN;
	if (ticks == AV_NOPTS_VALUE || ticks < 0)
		return PROBE_HDR_MISSING;
	if (ticks == 0)
		return PROBE_HDR_ZERO;
	return PROBE_HDR_KNOWN;
}

static const char *const source_names[] = {
	[PROBE_FROM_HEADER] = "header",
	[PROBE_FROM_INDEX] = "index",
	[PROBE_FROM_PACKETS] = "packets",
};

const char *probe_source_name(enum probe_source s)
{
	if ((unsigned)s >= sizeof(source_names) / sizeof(source_names[0]))
		return "header";
	return source_names[s];
}

/* One frame of st in its time base, from its rate; 0 when unknown. */
static int64_t frame_ticks(const AVStream *st)
{
	AVRational r = st->avg_frame_rate;

	if (r.num <= 0 || r.den <= 0)
		r = st->r_frame_rate;
	if (r.num <= 0 || r.den <= 0)
		return 0;
	return av_rescale_q(1, av_inv_q(r), st->time_base);
}

/*
 * MP4/MOV: the demuxer's sample index covers every sample, fragments
 * included, once the file is open.  Its entries are decoding times; the
 * last sample lasts as long as the one before it.
 */
static int from_index(AVStream *st, double *seconds)
{
	int n = avformat_index_get_entries_count(st);
	const AVIndexEntry *first, *last, *prev;
	int64_t end;

	if (n < 2)
		return AVERROR(EAGAIN);
	first = avformat_index_get_entry(st, 0);
	prev = avformat_index_get_entry(st, n - 2);
	last = avformat_index_get_entry(st, n - 1);
	if (!first || !prev || !last || last->timestamp <= first->timestamp ||
	    last->timestamp < prev->timestamp)
		return AVERROR(EAGAIN);
	end = last->timestamp + (last->timestamp - prev->timestamp);
	*seconds = (end - first->timestamp) * av_q2d(st->time_base);
	return *seconds > 0 ? 0 : AVERROR(EAGAIN);
}

/* Read every packet of st to the end of the file; then back to start. */
static int from_packets(AVFormatContext *in, AVStream *st, double *seconds)
{
	AVPacket *pkt = av_packet_alloc();
	int64_t start = INT64_MAX, end = INT64_MIN, ts, one = frame_ticks(st);
	unsigned i;
	int ret;

	if (!pkt)
		return AVERROR(ENOMEM);
	for (i = 0; i < in->nb_streams; i++)
		if (in->streams[i] != st)
			in->streams[i]->discard = AVDISCARD_ALL;
	while ((ret = av_read_frame(in, pkt)) >= 0) {
		if (pkt->stream_index == st->index) {
			ts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
			if (ts != AV_NOPTS_VALUE) {
				if (ts < start)
					start = ts;
				ts += pkt->duration > 0 ? pkt->duration : one;
				if (ts > end)
					end = ts;
			}
		}
		av_packet_unref(pkt);
	}
	av_packet_free(&pkt);
	if (ret != AVERROR_EOF && end == INT64_MIN)
		return ret;
	if (end == INT64_MIN || end <= start)
		return AVERROR_INVALIDDATA;
	*seconds = (end - start) * av_q2d(st->time_base);
	ret = av_seek_frame(in, st->index,
			    st->start_time != AV_NOPTS_VALUE ? st->start_time : start,
			    AVSEEK_FLAG_BACKWARD);
	return ret < 0 ? ret : 0;
}

int probe_duration(AVFormatContext *in, AVStream *st, double *seconds,
		   enum probe_source *from)
{
	*seconds = 0;
	if (in->iformat && av_match_name("mov", in->iformat->name) &&
	    from_index(st, seconds) == 0) {
		*from = PROBE_FROM_INDEX;
		return 0;
	}
	*from = PROBE_FROM_PACKETS;
	return from_packets(in, st, seconds);
}
