/*
 * reason.h - why a transcode ended, as a stable code.
 *
 * The name ("too_short") goes into the report, the job's error field and
 * logs; the exit code is showcase-transcode's.  Codes are never renumbered:
 * scripts and the queue worker rely on them.
 */
#ifndef SC_REASON_H
#define SC_REASON_H

enum tc_reason {
	TC_OK = 0,
	TC_EMPTY,			/* the source has no bytes */
	TC_CORRUPT,			/* unreadable, truncated or undecodable */
	TC_UNSUPPORTED_CONTAINER,	/* not one of POLICY_CONTAINERS */
	TC_NO_VIDEO_STREAM,
	TC_UNSUPPORTED_CODEC,		/* not in POLICY_CODECS or no decoder */
	TC_TOO_LARGE,			/* above POLICY_MAX_MB */
	TC_TOO_SHORT,			/* below POLICY_MIN_SECONDS */
	TC_TOO_LONG,			/* above POLICY_MAX_SECONDS */
	TC_LOW_RESOLUTION,		/* below POLICY_MIN_SHORT_SIDE */
	TC_CANCELLED,			/* the caller asked to stop */
	TC_OUTPUT_CHECK,		/* the output failed its self-check */
	TC_INTERNAL,			/* our side: memory, disk, encoder */
	TC_PICTURE_TOO_LARGE,		/* above POLICY_MAX_PIXELS */
	TC__COUNT
};

/* "too_short", ...; never NULL. */
const char *tc_reason_name(enum tc_reason r);

/*
 * Exit status of showcase-transcode for r: 0 for TC_OK, 10 + r otherwise
 * (1 and 2 stay for usage and configuration errors).
 */
int tc_reason_exit(enum tc_reason r);

/* The reason behind an exit status of showcase-transcode; TC__COUNT when
 * the status is none of tc_reason_exit()'s. */
enum tc_reason tc_reason_from_exit(int status);

/* Is r the source's fault (retrying cannot help)? */
int tc_reason_permanent(enum tc_reason r);

#endif
