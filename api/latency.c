/* latency.c - per-route duration histograms (see latency.h). */
#include <stdlib.h>
#include <string.h>

#include "latency.h"

/* From 5 ms (a cached read) to 10 min (an upload near its deadline). */
const double latency_bounds[LATENCY_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
	300, 600,
};

enum sc_err latency_init(struct latency *l, size_t cap)
{
	l->n = 0;
	l->cap = cap;
	l->s = calloc(cap ? cap : 1, sizeof(*l->s));
	return l->s ? SC_OK : SC_ERR_NOMEM;
}

void latency_free(struct latency *l)
{
	free(l->s);
	l->s = NULL;
	l->n = l->cap = 0;
}

struct latency_series *latency_find(const struct latency *l, const char *route,
				    const char *method)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->s[i].route, route) && !strcmp(l->s[i].method, method))
			return &l->s[i];
	return NULL;
}

struct latency_series *latency_add(struct latency *l, const char *route,
				   const char *method)
{
	struct latency_series *s = latency_find(l, route, method);

	if (s || l->n == l->cap)
		return s;
	s = &l->s[l->n++];
	s->route = route;
	s->method = method;
	return s;
}

size_t latency_bucket(long long us)
{
	size_t b;

	for (b = 0; b < LATENCY_BUCKETS; b++)
		if ((double)us <= latency_bounds[b] * 1e6)
			break;
	return b;
}

void latency_observe(struct latency_series *s, long long us)
{
	if (us < 0)
		us = 0;
	atomic_fetch_add(&s->count[latency_bucket(us)], 1);
	atomic_fetch_add(&s->sum_us, us);
}

/* Has the series seen a request?  (Only those are written.) */
static int series_used(const struct latency_series *s)
{
	size_t b;

	for (b = 0; b <= LATENCY_BUCKETS; b++)
		if (atomic_load(&s->count[b]))
			return 1;
	return 0;
}

/* route and method come from the route tables: no quote or backslash */
static enum sc_err write_series(const struct latency_series *s,
				const char *name, struct buf *out)
{
	long long cum = 0;
	enum sc_err rc = SC_OK;
	size_t b;

	for (b = 0; !rc && b <= LATENCY_BUCKETS; b++) {
		cum += atomic_load(&s->count[b]);
		if (b < LATENCY_BUCKETS)
			rc = buf_appendf(out, "%s_bucket{route=\"%s\",method=\"%s\","
					 "le=\"%g\"} %lld\n", name, s->route,
					 s->method, latency_bounds[b], cum);
		else
			rc = buf_appendf(out, "%s_bucket{route=\"%s\",method=\"%s\","
					 "le=\"+Inf\"} %lld\n", name, s->route,
					 s->method, cum);
	}
	if (!rc)
		rc = buf_appendf(out, "%s_sum{route=\"%s\",method=\"%s\"} %.6f\n"
				 "%s_count{route=\"%s\",method=\"%s\"} %lld\n",
				 name, s->route, s->method,
				 (double)atomic_load(&s->sum_us) / 1e6, name,
				 s->route, s->method, cum);
	return rc;
}

enum sc_err latency_write(const struct latency *l, const char *name,
			  const char *help, struct buf *out)
{
	enum sc_err rc;
	size_t i;

	rc = buf_appendf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help,
			 name);
	for (i = 0; !rc && i < l->n; i++)
		if (series_used(&l->s[i]))
			rc = write_series(&l->s[i], name, out);
	return rc;
}
