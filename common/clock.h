/*
 * clock.h - monotonic milliseconds, for durations (latency, timeouts),
 * and sleeping.
 * Never for wall-clock timestamps: it does not follow the calendar.
 */
#ifndef SC_CLOCK_H
#define SC_CLOCK_H

#include <time.h>

static inline long clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Sleep ms milliseconds (a signal may cut it short). */
static inline void clock_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The same in microseconds, for short stages. */
static inline long long clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

#endif
