/*
 * outcheck.c - probe a finished MP4.
 *
 * The box order is read from the file's top-level box headers directly:
 * libavformat hides it, and it is the property that matters for streaming.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libavformat/avformat.h>

#include "outcheck.h"

/* Does the MP4 at path have its moov box before its mdat box?  1, 0, or
 * -1 when neither is found or the file cannot be read. */
static int moov_first(const char *path)
{
	unsigned char h[16];
	uint64_t size;
	FILE *f;
	int rc = -1;
	long long off = 0;

	f = fopen(path, "rb");
	if (!f)
		return -1;
	while (fseeko(f, off, SEEK_SET) == 0 && fread(h, 1, 8, f) == 8) {
		size = (uint64_t)h[0] << 24 | h[1] << 16 | h[2] << 8 | h[3];
		if (size == 1) {
			/* 64-bit size follows the type */
			if (fread(h + 8, 1, 8, f) != 8)
				break;
			size = 0;
			for (int i = 8; i < 16; i++)
				size = size << 8 | h[i];
		}
		if (!memcmp(h + 4, "moov", 4)) {
			rc = 1;
			break;
		}
		if (!memcmp(h + 4, "mdat", 4)) {
			rc = 0;
			break;
		}
		if (size < 8)	/* 0 means "to the end"; neither box follows */
			break;
		off += (long long)size;
	}
	fclose(f);
	return rc;
}

enum sc_err outcheck_mp4(const char *path, const struct outcheck_expect *want,
			 struct outcheck_found *found, struct buf *err)
{
	AVFormatContext *fmt = NULL;
	AVCodecParameters *par = NULL;
	struct stat st;
	unsigned i;
	int ret;

	memset(found, 0, sizeof(*found));
	found->duration = -1;
	if ((ret = avformat_open_input(&fmt, path, NULL, NULL)) < 0 ||
	    (ret = avformat_find_stream_info(fmt, NULL)) < 0) {
		buf_appendf(err, "cannot read the output back: %s", av_err2str(ret));
		avformat_close_input(&fmt);
		return SC_ERR_IO;
	}
	found->streams = (int)fmt->nb_streams;
	for (i = 0; i < fmt->nb_streams; i++) {
		AVCodecParameters *p = fmt->streams[i]->codecpar;

		if (p->codec_type == AVMEDIA_TYPE_AUDIO)
			found->audio_streams++;
		else if (p->codec_type == AVMEDIA_TYPE_VIDEO && !par)
			par = p;
	}
	if (par) {
		found->width = par->width;
		found->height = par->height;
		found->codec = avcodec_get_name(par->codec_id);
	}
	if (fmt->duration != AV_NOPTS_VALUE)
		found->duration = fmt->duration / (double)AV_TIME_BASE;
	avformat_close_input(&fmt);
	found->moov_first = moov_first(path) == 1;
	if (stat(path, &st) == 0)
		found->bytes = st.st_size;

	if (!par || found->streams != 1)
		buf_appendf(err, "want one video stream, found %d streams (%d audio)",
			    found->streams, found->audio_streams);
	else if (strcmp(found->codec, "h264"))
		buf_appendf(err, "want h264, found %s", found->codec);
	else if (found->width != want->width || found->height != want->height)
		buf_appendf(err, "want %dx%d, found %dx%d", want->width,
			    want->height, found->width, found->height);
	else if (found->duration < want->min_s || found->duration > want->max_s)
		buf_appendf(err, "want %.3f to %.3f s, found %.3f s", want->min_s,
			    want->max_s, found->duration);
	else if (!found->moov_first)
		buf_appends(err, "the index (moov) is not before the media (mdat)");
	else
		return SC_OK;
	return SC_ERR_INVALID;
}
