/*
 * routes/health.c - liveness and readiness.
 *
 * GET /health/live answers 200 while the process serves HTTP at all; it
 * touches no dependency, so it is what the load balancer checks (an
 * outage of PostgreSQL must not take every instance out of rotation).
 * GET /health/ready (and GET /health, its older name) probes PostgreSQL,
 * Redis and S3 and answers 200 when all are reachable, 503 when any is
 * not, each dependency by name and state only:
 *
 *   {"status":"not_ready","checks":{"postgres":"ok","redis":"ok","s3":"down"}}
 *
 * What failed and why (error text, host names) goes to the log, never to
 * the client.
 */
#include "health.h"
#include "http.h"
#include "log.h"

static enum MHD_Result get_live(struct api *api, struct request *req,
				struct MHD_Connection *conn)
{
	(void)api;
	return http_send_json(req, conn, MHD_HTTP_OK,
			      http_strings("status", "alive", NULL));
}

/* The report for the client: names and "ok" or "down"; details logged. */
static cJSON *public_report(const cJSON *report)
{
	const cJSON *checks = cJSON_GetObjectItemCaseSensitive(report, "checks");
	const cJSON *status = cJSON_GetObjectItemCaseSensitive(report, "status");
	const cJSON *c, *err, *ms;
	cJSON *out = cJSON_CreateObject(), *named;
	int ok;

	if (!out || !cJSON_AddStringToObject(out, "status",
					     cJSON_GetStringValue(status)) ||
	    !(named = cJSON_AddObjectToObject(out, "checks")))
		goto out_nomem;
	cJSON_ArrayForEach(c, checks) {
		ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "ok"));
		if (!ok) {
			err = cJSON_GetObjectItemCaseSensitive(c, "error");
			ms = cJSON_GetObjectItemCaseSensitive(c, "ms");
			log_warn("not ready: %s is down (%.0f ms): %s", c->string,
				 cJSON_GetNumberValue(ms),
				 cJSON_IsString(err) ? err->valuestring : "?");
		}
		if (!cJSON_AddStringToObject(named, c->string, ok ? "ok" : "down"))
			goto out_nomem;
	}
	return out;

out_nomem:
	cJSON_Delete(out);
	return NULL;
}

static enum MHD_Result get_health(struct api *api, struct request *req,
				  struct MHD_Connection *conn)
{
	cJSON *shown;
	struct deps *d = deps_get(api);
	cJSON *report;
	int ready;
	enum sc_err err;

	if (!d)
		return http_send_unavailable(req, conn, "the server", "out of memory");
	err = health_check(d->db, d->redis, d->s3, &report, &ready);
	deps_put(api, d);
	if (err)
		return http_send_error(req, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "internal", sc_strerror(err));
	shown = public_report(report);
	cJSON_Delete(report);
	return http_send_json(req, conn,
			      ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			      shown);
}

const struct route route_health[] = {
	{ "GET", "/health", get_health, R_IO, NULL },
	{ "GET", "/health/ready", get_health, R_IO, NULL },
	{ "GET", "/health/live", get_live, 0, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
