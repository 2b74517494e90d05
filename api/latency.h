/*
 * latency.h - request durations as Prometheus histograms, one series per
 * route template and method.
 *
 *   NAME_bucket{route="/api/videos/{}",method="GET",le="0.05"} 120
 *   NAME_sum{route="/api/videos/{}",method="GET"} 1.734
 *   NAME_count{route="/api/videos/{}",method="GET"} 131
 *
 * Labels are route templates, never raw paths, so the series are as many
 * as the routes (a path no route matches counts under "unmatched"); a
 * series is written once it has seen a request.
 *
 * Invariants: series are added before threads use them and never
 * removed; latency_observe() is lock-free and may race with a scrape,
 * which then reads each counter once (a bucket and the count can differ
 * by the requests that finished meanwhile, never the cumulative buckets
 * against each other).
 *
 * Life cycle: latency_init(); latency_add() for each series; observe and
 * write from any thread; latency_free() once no thread does.
 */
#ifndef SC_LATENCY_H
#define SC_LATENCY_H

#include <stdatomic.h>
#include <stddef.h>

#include "buf.h"
#include "error.h"

/* Upper bounds of the buckets in seconds; a last one is +Inf. */
#define LATENCY_BUCKETS 16
extern const double latency_bounds[LATENCY_BUCKETS];

struct latency_series {
	const char *route;	/* not copied: the route tables' strings */
	const char *method;
	atomic_llong count[LATENCY_BUCKETS + 1];	/* per bucket, not cumulative */
	atomic_llong sum_us;
};

struct latency {
	struct latency_series *s;
	size_t n, cap;
};

/* Room for cap series; SC_ERR_NOMEM when there is none. */
enum sc_err latency_init(struct latency *l, size_t cap);
void latency_free(struct latency *l);

/*
 * The series of route and method, added if it is not there yet (before
 * threads use l); NULL when cap is reached.
 */
struct latency_series *latency_add(struct latency *l, const char *route,
				   const char *method);

/* The series of route and method, or NULL. */
struct latency_series *latency_find(const struct latency *l, const char *route,
				    const char *method);

/* The bucket a duration falls in: 0 .. LATENCY_BUCKETS (+Inf). */
size_t latency_bucket(long long us);

void latency_observe(struct latency_series *s, long long us);

/* Append every series as histogram name to out (HELP and TYPE first). */
enum sc_err latency_write(const struct latency *l, const char *name,
			  const char *help, struct buf *out);

#endif
