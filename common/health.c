/* health.c - dependency readiness probes (see health.h). */
#include "clock.h"
#include "health.h"

/* Add {"ok":..,"ms":..[,"error":..]} under name; -1 if out of memory. */
static int add_check(cJSON *checks, const char *name, enum sc_err err,
		     const char *errstr, long ms)
{
	cJSON *c = cJSON_AddObjectToObject(checks, name);

	if (!c || !cJSON_AddBoolToObject(c, "ok", err == SC_OK) ||
	    !cJSON_AddNumberToObject(c, "ms", (double)ms))
		return -1;
	if (err && !cJSON_AddStringToObject(c, "error", errstr))
		return -1;
	return 0;
}

enum sc_err health_check(struct db *db, struct redisconn *redis,
			 struct s3_client *s3, cJSON **report, int *ready)
{
	cJSON *root = cJSON_CreateObject(), *checks;
	enum sc_err err;
	long t0;
	int ok = 1;

	*report = NULL;
	*ready = 0;
	checks = root ? cJSON_AddObjectToObject(root, "checks") : NULL;
	if (!checks)
		goto out_nomem;
	if (db) {
		t0 = clock_ms();
		err = db_ping(db);
		ok &= err == SC_OK;
		if (add_check(checks, "postgres", err, db_errstr(db), clock_ms() - t0))
			goto out_nomem;
	}
	if (redis) {
		t0 = clock_ms();
		err = redisconn_ping(redis);
		ok &= err == SC_OK;
		if (add_check(checks, "redis", err, redisconn_errstr(redis),
			      clock_ms() - t0))
			goto out_nomem;
	}
	if (s3) {
		t0 = clock_ms();
		err = s3_head_bucket(s3);
		ok &= err == SC_OK;
		if (add_check(checks, "s3", err, s3_errstr(s3), clock_ms() - t0))
			goto out_nomem;
	}
	if (!cJSON_AddStringToObject(root, "status", ok ? "ready" : "not_ready"))
		goto out_nomem;
	*report = root;
	*ready = ok;
	return SC_OK;

out_nomem:
	cJSON_Delete(root);
	return SC_ERR_NOMEM;
}
