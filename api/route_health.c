/*
 * route_health.c - liveness and readiness.
 *
 * GET /health/live answers 200 while the process serves HTTP at all.
 * GET /health probes PostgreSQL, Redis and S3 and answers 200 when all are
 * reachable, 503 when any is not, with each one's result in the body:
 * load balancers take the instance out of rotation on 503.
 */
#include "health.h"
#include "http.h"

static enum MHD_Result get_live(struct api *api, struct request *req,
				struct MHD_Connection *conn)
{
	(void)api;
	return http_send_json(req, conn, MHD_HTTP_OK,
			      http_strings("status", "alive", NULL));
}

static enum MHD_Result get_health(struct api *api, struct request *req,
				  struct MHD_Connection *conn)
{
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
	return http_send_json(req, conn,
			      ready ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
			      report);
}

const struct route route_health[] = {
	{ "GET", "/health", get_health, 0, NULL },
	{ "GET", "/health/live", get_live, 0, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
