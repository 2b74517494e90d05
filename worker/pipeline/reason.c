/*
 * reason.c - names of transcode outcomes.
 */
#include "reason.h"

static const char *const names[TC__COUNT] = {
	[TC_OK] = "ok",
	[TC_EMPTY] = "empty",
	[TC_CORRUPT] = "corrupt",
	[TC_UNSUPPORTED_CONTAINER] = "unsupported_container",
	[TC_NO_VIDEO_STREAM] = "no_video_stream",
	[TC_UNSUPPORTED_CODEC] = "unsupported_codec",
	[TC_TOO_LARGE] = "too_large",
	[TC_TOO_SHORT] = "too_short",
	[TC_TOO_LONG] = "too_long",
	[TC_LOW_RESOLUTION] = "low_resolution",
	[TC_CANCELLED] = "cancelled",
	[TC_OUTPUT_CHECK] = "output_check",
	[TC_INTERNAL] = "internal",
	[TC_PICTURE_TOO_LARGE] = "picture_too_large",
};

const char *tc_reason_name(enum tc_reason r)
{
	if ((unsigned)r >= TC__COUNT)
		return "internal";
	return names[r];
}

int tc_reason_exit(enum tc_reason r)
{
	if ((unsigned)r >= TC__COUNT)
		r = TC_INTERNAL;
	return r == TC_OK ? 0 : 10 + (int)r;
}

enum tc_reason tc_reason_from_exit(int status)
{
	if (status == 0)
		return TC_OK;
	if (status > 10 && status < 10 + TC__COUNT)
		return (enum tc_reason)(status - 10);
	return TC__COUNT;
}

int tc_reason_permanent(enum tc_reason r)
{
	return (unsigned)r < TC__COUNT && r != TC_OK && r != TC_CANCELLED &&
	       r != TC_OUTPUT_CHECK && r != TC_INTERNAL;
}
