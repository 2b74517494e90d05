/* pace.c - deadlines of a request body (see pace.h). */
#include "pace.h"

static long earliest(long a, long b)
{
	return a < b ? a : b;
}

enum pace_verdict pace_check(const struct pace *p, const struct pace_limits *l,
			     long now_ms, long *deadline_ms)
{
	long deadline = p->start_ms + l->total_ms;
	long long rate_at;

	*deadline_ms = now_ms;
	if (p->refused_ms && p->refused_bytes > l->drain_bytes)
		return PACE_DRAIN_BYTES;
	if (now_ms > deadline)
		return PACE_TOO_LONG;
	if (l->min_rate > 0) {
		rate_at = p->start_ms + p->paused_ms + l->grace_ms +
			  p->bytes * 1000 / l->min_rate;
		if (now_ms > rate_at)
			return PACE_TOO_SLOW;
		if (rate_at < deadline)
			deadline = (long)rate_at;
	}
	if (p->refused_ms) {
		if (now_ms > p->refused_ms + l->drain_ms)
			return PACE_DRAIN_TIME;
		deadline = earliest(deadline, p->refused_ms + l->drain_ms);
	}
	*deadline_ms = deadline;
	return PACE_OK;
}

unsigned pace_timeout_s(long deadline_ms, long now_ms, unsigned cap_s)
{
	long s = deadline_ms > now_ms ? (deadline_ms - now_ms + 999) / 1000 : 1;

	if (s < 1)
		s = 1;
	return (unsigned long)s > cap_s ? cap_s : (unsigned)s;
}

const char *pace_verdict_name(enum pace_verdict v)
{
	switch (v) {
	case PACE_OK: return "in time";
	case PACE_TOO_LONG: return "past its deadline";
	case PACE_TOO_SLOW: return "below the minimum rate";
	case PACE_DRAIN_BYTES: return "a refused body past the drain's size";
	case PACE_DRAIN_TIME: return "a refused body past the drain's time";
	}
	return "unknown";
}
