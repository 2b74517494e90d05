/*
 * pace.h - how long a request body may take.
 *
 * A body is held to three limits, all measured from the moment its
 * headers were in:
 *
 * - a deadline for the whole of it (API_BODY_TIMEOUT_S for JSON,
 *   API_UPLOAD_TIMEOUT_S for uploads), wall time;
 * - a minimum rate after a grace period: by time t the body must have
 *   brought (t - grace) x rate bytes, that is each byte buys 1/rate s
 *   beyond the grace (API_MIN_BODY_RATE_BPS after API_MIN_RATE_GRACE_S;
 *   Apache's mod_reqtimeout counts its MinRate the same way).  Time the
 *   request spent paused by the server (an upload waiting for a slot) is
 *   not held against it;
 * - once the request is refused, a short drain: at most drain_bytes more
 *   and drain_ms after the refusal.
 *
 * Invariants: pure functions of their arguments and the clock reading
 * given; the HTTP layer keeps a struct pace per request and turns the
 * deadline into libmicrohttpd's idle timeout of the connection, so a
 * client that sends nothing at all is cut at the same moment.
 */
#ifndef SC_PACE_H
#define SC_PACE_H

struct pace_limits {
	long total_ms;		/* the whole body */
	long grace_ms;		/* before the minimum rate applies */
	long long min_rate;	/* bytes per second; 0: no minimum */
	long long drain_bytes;	/* of a refused body */
	long drain_ms;
};

struct pace {
	long start_ms;		/* the headers were in */
	long paused_ms;		/* paused by the server: not counted */
	long long bytes;	/* body bytes taken */
	long refused_ms;	/* when the request was refused; 0: it is not */
	long long refused_bytes; /* taken since the refusal */
};

enum pace_verdict {
	PACE_OK,
	PACE_TOO_LONG,		/* past the whole body's deadline */
	PACE_TOO_SLOW,		/* below the minimum rate */
	PACE_DRAIN_BYTES,	/* a refused body past drain_bytes */
	PACE_DRAIN_TIME,	/* a refused body past drain_ms */
};

/*
 * Where the body stands at now_ms.  On PACE_OK *deadline_ms is the
 * moment it fails if no byte comes before; otherwise it is now_ms.
 */
enum pace_verdict pace_check(const struct pace *p, const struct pace_limits *l,
			     long now_ms, long *deadline_ms);

/*
 * The idle timeout to give the connection so that it closes at the
 * deadline if nothing comes: whole seconds, rounded up, at least 1 and
 * at most cap_s.
 */
unsigned pace_timeout_s(long deadline_ms, long now_ms, unsigned cap_s);

/* What a verdict means, for logs: "below the minimum rate", ... */
const char *pace_verdict_name(enum pace_verdict v);

#endif
