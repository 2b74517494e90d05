/*
 * metrics.c - Prometheus text over libmicrohttpd.
 *
 * Names follow Prometheus conventions: counters end in _total, durations
 * are in seconds.  showcase_queue_backlog_per_worker is the figure to
 * autoscale on: jobs waiting (pending + scheduled) per live worker.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "buf.h"
#include "job.h"
#include "metrics.h"

static const double bounds[METRICS_BUCKETS] = { 5, 10, 20, 30, 60, 120, 300, 600 };

void metrics_job(struct metrics *m, int outcome, long long ms)
{
	int i;

	switch (outcome) {
	case JOB_PROCESSED: atomic_fetch_add(&m->processed, 1); break;
	case JOB_FAILED: atomic_fetch_add(&m->failed, 1); break;
	case JOB_RETRY: atomic_fetch_add(&m->retried, 1); break;
	case JOB_HANDED_BACK: atomic_fetch_add(&m->handed_back, 1); break;
	default: atomic_fetch_add(&m->lost, 1); break;
	}
	for (i = 0; i < METRICS_BUCKETS && ms > bounds[i] * 1000; i++)
		;
	atomic_fetch_add(&m->duration_bucket[i], 1);
	atomic_fetch_add(&m->duration_ms_sum, ms);
	atomic_fetch_add(&m->duration_count, 1);
}

static void render(struct metrics *m, struct buf *b)
{
	static const char *const outcomes[] = { "processed", "failed", "retried",
						"handed_back", "lost" };
	atomic_llong *counts[] = { &m->processed, &m->failed, &m->retried,
				   &m->handed_back, &m->lost };
	long long cum = 0, workers = atomic_load(&m->workers);
	int i;

	buf_appends(b, "# HELP showcase_jobs_total Jobs ended by this worker, by outcome.\n"
		       "# TYPE showcase_jobs_total counter\n");
	for (i = 0; i < 5; i++)
		buf_appendf(b, "showcase_jobs_total{outcome=\"%s\"} %lld\n", outcomes[i],
			    atomic_load(counts[i]));
	buf_appendf(b, "# HELP showcase_job_crashes_total Transcodes that died of a signal or the deadline.\n"
		       "# TYPE showcase_job_crashes_total counter\n"
		       "showcase_job_crashes_total %lld\n", atomic_load(&m->crashed));
	buf_appendf(b, "# HELP showcase_jobs_in_flight Jobs this worker runs now.\n"
		       "# TYPE showcase_jobs_in_flight gauge\n"
		       "showcase_jobs_in_flight %lld\n", atomic_load(&m->in_flight));
	/* figures the main thread could not read are left out (-1) */
	if (atomic_load(&m->pending) >= 0) {
		buf_appendf(b, "# HELP showcase_queue_jobs Jobs in the queue, by state.\n"
			       "# TYPE showcase_queue_jobs gauge\n"
			       "showcase_queue_jobs{state=\"pending\"} %lld\n"
			       "showcase_queue_jobs{state=\"leased\"} %lld\n"
			       "showcase_queue_jobs{state=\"scheduled\"} %lld\n"
			       "showcase_queue_jobs{state=\"dead\"} %lld\n",
			    atomic_load(&m->pending), atomic_load(&m->leased),
			    atomic_load(&m->scheduled), atomic_load(&m->dead));
		buf_appendf(b, "# HELP showcase_queue_oldest_pending_seconds Age of the job at the head of the queue (0: none).\n"
			       "# TYPE showcase_queue_oldest_pending_seconds gauge\n"
			       "showcase_queue_oldest_pending_seconds %.3f\n",
			    atomic_load(&m->oldest_pending_ms) > 0
				    ? atomic_load(&m->oldest_pending_ms) / 1000.0 : 0.0);
		buf_appendf(b, "# HELP showcase_workers Live worker processes (presence records).\n"
			       "# TYPE showcase_workers gauge\n"
			       "showcase_workers %lld\n", workers);
		buf_appendf(b, "# HELP showcase_queue_backlog_per_worker Jobs waiting per live worker: scale on this.\n"
			       "# TYPE showcase_queue_backlog_per_worker gauge\n"
			       "showcase_queue_backlog_per_worker %.2f\n",
			    (double)(atomic_load(&m->pending) + atomic_load(&m->scheduled)) /
				    (workers > 0 ? workers : 1));
	}
	if (atomic_load(&m->stuck) >= 0) {
		buf_appendf(b, "# HELP showcase_videos_stuck Videos unfinished longer than VIDEO_STUCK_AFTER_S after upload.\n"
			       "# TYPE showcase_videos_stuck gauge\n"
			       "showcase_videos_stuck %lld\n"
			       "# HELP showcase_videos_stuck_oldest_seconds Age of the oldest stuck video (0: none).\n"
			       "# TYPE showcase_videos_stuck_oldest_seconds gauge\n"
			       "showcase_videos_stuck_oldest_seconds %lld\n",
			    atomic_load(&m->stuck), atomic_load(&m->stuck_oldest_s));
	}
	buf_appends(b, "# HELP showcase_job_duration_seconds Wall time of a job, lease to end.\n"
		       "# TYPE showcase_job_duration_seconds histogram\n");
	for (i = 0; i <= METRICS_BUCKETS; i++) {
		cum += atomic_load(&m->duration_bucket[i]);
		if (i < METRICS_BUCKETS)
			buf_appendf(b, "showcase_job_duration_seconds_bucket{le=\"%g\"} %lld\n",
				    bounds[i], cum);
		else
			buf_appendf(b, "showcase_job_duration_seconds_bucket{le=\"+Inf\"} %lld\n",
				    cum);
	}
	buf_appendf(b, "showcase_job_duration_seconds_sum %.3f\n"
		       "showcase_job_duration_seconds_count %lld\n",
		    atomic_load(&m->duration_ms_sum) / 1000.0,
		    atomic_load(&m->duration_count));
	if (m->more)
		m->more(m->more_arg, b);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	struct metrics *m = cls;
	struct buf body = BUF_INIT(1 << 16);
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned status = MHD_HTTP_OK;
	const char *type = "text/plain; version=0.0.4";

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, "GET")) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		buf_appends(&body, "method not allowed\n");
	} else if (!strcmp(url, "/metrics")) {
		render(m, &body);
	} else if (!strcmp(url, "/health/live")) {
		type = "application/json";
		buf_appends(&body, "{\"status\":\"ok\"}\n");
	} else {
		status = MHD_HTTP_NOT_FOUND;
		buf_appends(&body, "not found\n");
	}
	resp = MHD_create_response_from_buffer(body.len, body.data ? body.data : (char *)"",
					       MHD_RESPMEM_MUST_COPY);
	buf_release(&body);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum sc_err metrics_serve(struct metrics *m, const char *host, int port)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return SC_ERR_CONFIG;
	m->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port,
				     NULL, NULL, answer, m,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
				     MHD_OPTION_END);
	return m->daemon ? SC_OK : SC_ERR_IO;
}

void metrics_stop(struct metrics *m)
{
	if (m->daemon)
		MHD_stop_daemon(m->daemon);
	m->daemon = NULL;
}
