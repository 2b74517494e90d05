/*
 * routes/metrics.c - GET /metrics: the API's counters in Prometheus text.
 *
 * Counted here, not in Redis: each API instance reports its own, and the
 * scraper sums them.
 */
#include <stdio.h>

#include "http.h"
#include "oidc/oidc.h"

/* The contest's guards: rate limits, quotas, own votes. */
static enum sc_err contest_metrics(struct api *api, struct buf *out)
{
	struct ratelimit *rl = &api->limits;
	enum sc_err rc;
	int i;

	rc = buf_appendf(out,
		"# HELP showcase_api_rate_limited_total Requests refused 429 by a rate limit (API_LIMIT_*, login_failures: the lock after failed logins).\n"
		"# TYPE showcase_api_rate_limited_total counter\n");
	for (i = 0; !rc && i < RL__COUNT; i++)
		rc = buf_appendf(out, "showcase_api_rate_limited_total{limit=\"%s\"} %lld\n",
				 ratelimit_name((enum rl_limit)i),
				 (long long)atomic_load(&rl->refused[i]));
	if (!rc)
		rc = buf_appendf(out,
			"# HELP showcase_api_limiter_errors_total Rate limits that could not be checked (Redis unreachable): signups and votes refused 503, logins and uploads let through.\n"
			"# TYPE showcase_api_limiter_errors_total counter\n"
			"showcase_api_limiter_errors_total %lld\n"
			"# HELP showcase_api_quota_refused_total Uploads refused by a player's quota: daily (API_VIDEOS_PER_DAY), total (API_VIDEOS_MAX).\n"
			"# TYPE showcase_api_quota_refused_total counter\n"
			"showcase_api_quota_refused_total{quota=\"daily\"} %lld\n"
			"showcase_api_quota_refused_total{quota=\"total\"} %lld\n"
			"# HELP showcase_api_own_votes_refused_total Votes for one's own video, refused 400.\n"
			"# TYPE showcase_api_own_votes_refused_total counter\n"
			"showcase_api_own_votes_refused_total %lld\n",
			(long long)atomic_load(&rl->errors),
			(long long)atomic_load(&api->m.quota_daily),
			(long long)atomic_load(&api->m.quota_total),
			(long long)atomic_load(&api->m.own_votes));
	return rc;
}

/* The thread pools' work now (pool.h). */
static enum sc_err pool_metrics(struct api *api, struct buf *out)
{
	const struct { const char *name; struct pool *p; } pools[] = {
		{ "io", api->io_pool }, { "hash", api->cpu_pool },
	};
	int running[2] = { 0 }, queued[2] = { 0 };
	size_t i;

	for (i = 0; i < 2; i++)
		if (pools[i].p)
			pool_counts(pools[i].p, &running[i], &queued[i]);
	return buf_appendf(out,
		"# HELP showcase_api_pool_running Requests running on a thread pool (io: API_WORKERS, hash: API_HASH_WORKERS).\n"
		"# TYPE showcase_api_pool_running gauge\n"
		"showcase_api_pool_running{pool=\"%s\"} %d\n"
		"showcase_api_pool_running{pool=\"%s\"} %d\n"
		"# HELP showcase_api_pool_queued Requests waiting for a pool thread (answered 503 after API_QUEUE_TIMEOUT_MS).\n"
		"# TYPE showcase_api_pool_queued gauge\n"
		"showcase_api_pool_queued{pool=\"%s\"} %d\n"
		"showcase_api_pool_queued{pool=\"%s\"} %d\n",
		pools[0].name, running[0], pools[1].name, running[1],
		pools[0].name, queued[0], pools[1].name, queued[1]);
}

static enum MHD_Result get_metrics(struct api *api, struct request *req,
				   struct MHD_Connection *conn)
{
	static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx",
					       "5xx", "other" };
	struct api_metrics *m = &api->m;
	struct buf out = BUF_INIT(1024 * 1024);
	enum MHD_Result ret;
	int i, ndeps, slots, waiting;
	enum sc_err rc = SC_OK;

	pthread_mutex_lock(&api->lock);
	ndeps = api->ndeps;
	pthread_mutex_unlock(&api->lock);
	gate_counts(&api->uploads, &slots, &waiting);
	rc = buf_appendf(&out,
			 "# HELP showcase_api_requests_total HTTP requests answered, by status class.\n"
			 "# TYPE showcase_api_requests_total counter\n");
	for (i = 0; !rc && i < 6; i++)
		rc = buf_appendf(&out, "showcase_api_requests_total{class=\"%s\"} %lld\n",
				 classes[i], (long long)atomic_load(&m->requests[i]));
	if (!rc)
		rc = buf_appendf(&out,
			"# HELP showcase_api_uploads_total Uploads by outcome: accepted, refused, too_many (429: the player's cap), gave_up (503: no slot in time).\n"
			"# TYPE showcase_api_uploads_total counter\n"
			"showcase_api_uploads_total{outcome=\"accepted\"} %lld\n"
			"showcase_api_uploads_total{outcome=\"refused\"} %lld\n"
			"showcase_api_uploads_total{outcome=\"too_many\"} %lld\n"
			"showcase_api_uploads_total{outcome=\"gave_up\"} %lld\n"
			"# HELP showcase_api_upload_bytes_total Bytes of accepted videos.\n"
			"# TYPE showcase_api_upload_bytes_total counter\n"
			"showcase_api_upload_bytes_total %lld\n"
			"# HELP showcase_api_uploads_in_flight Uploads being received.\n"
			"# TYPE showcase_api_uploads_in_flight gauge\n"
			"showcase_api_uploads_in_flight %lld\n"
			"# HELP showcase_api_upload_slots_used Uploads streaming now (at most API_UPLOAD_SLOTS).\n"
			"# TYPE showcase_api_upload_slots_used gauge\n"
			"showcase_api_upload_slots_used %d\n"
			"# HELP showcase_api_uploads_waiting Uploads paused until a slot frees.\n"
			"# TYPE showcase_api_uploads_waiting gauge\n"
			"showcase_api_uploads_waiting %d\n"
			"# HELP showcase_api_signups_total Accounts created.\n"
			"# TYPE showcase_api_signups_total counter\n"
			"showcase_api_signups_total %lld\n"
			"# HELP showcase_api_logins_failed_total Logins refused.\n"
			"# TYPE showcase_api_logins_failed_total counter\n"
			"showcase_api_logins_failed_total %lld\n"
			"# HELP showcase_api_votes_total Votes counted.\n"
			"# TYPE showcase_api_votes_total counter\n"
			"showcase_api_votes_total %lld\n"
			"# HELP showcase_api_connection_sets Sets of PostgreSQL, Redis and S3 connections.\n"
			"# TYPE showcase_api_connection_sets gauge\n"
			"showcase_api_connection_sets %d\n",
			(long long)atomic_load(&m->uploads_accepted),
			(long long)atomic_load(&m->uploads_refused),
			(long long)atomic_load(&m->uploads_too_many),
			(long long)atomic_load(&m->uploads_gave_up),
			(long long)atomic_load(&m->upload_bytes),
			(long long)atomic_load(&m->uploads_in_flight), slots, waiting,
			(long long)atomic_load(&m->signups),
			(long long)atomic_load(&m->logins_failed),
			(long long)atomic_load(&m->votes), ndeps);
	if (!rc)
		rc = buf_appendf(&out,
			"# HELP showcase_api_bodies_cut_total Connections closed under a body: below the minimum rate, past its deadline, a refused body past its drain.\n"
			"# TYPE showcase_api_bodies_cut_total counter\n"
			"showcase_api_bodies_cut_total{reason=\"slow\"} %lld\n"
			"showcase_api_bodies_cut_total{reason=\"deadline\"} %lld\n"
			"showcase_api_bodies_cut_total{reason=\"refused\"} %lld\n"
			"# HELP showcase_api_requests_in_flight Requests begun and not yet finished.\n"
			"# TYPE showcase_api_requests_in_flight gauge\n"
			"showcase_api_requests_in_flight %d\n",
			(long long)atomic_load(&m->bodies_cut_slow),
			(long long)atomic_load(&m->bodies_cut_deadline),
			(long long)atomic_load(&m->bodies_cut_refused),
			atomic_load(&m->requests_in_flight));
	if (!rc)
		rc = contest_metrics(api, &out);
	if (!rc)
		rc = pool_metrics(api, &out);
	if (!rc && api->oidc)
		rc = oidc_metrics(api->oidc, &out);
	if (!rc)
		rc = latency_write(&m->latency, "showcase_api_request_duration_seconds",
				   "Time from a request's headers to the end of its answer, by route template and method.",
				   &out);
	if (rc) {
		buf_release(&out);
		return http_send_error(req, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				       "unavailable", "out of memory");
	}
	ret = http_send_text(req, conn, MHD_HTTP_OK,
			     "text/plain; version=0.0.4", out.data, out.len);
	buf_release(&out);
	return ret;
}

const struct route route_metrics[] = {
	{ "GET", "/metrics", get_metrics, 0, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
