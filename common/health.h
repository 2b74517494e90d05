/*
 * health.h - readiness of the services a program depends on.
 *
 * Each dependency (PostgreSQL, Redis, S3) is probed with a real request
 * under the configured timeout, and reported on its own so an operator
 * sees which one is down:
 *
 *   {"status":"ready","checks":{"postgres":{"ok":true,"ms":1},
 *    "redis":{"ok":true,"ms":0},"s3":{"ok":false,"ms":3,
 *    "error":"cannot reach http://...: Connection refused"}}}
 *
 * status is "ready" only when every probed dependency is ok.
 */
#ifndef SC_HEALTH_H
#define SC_HEALTH_H

#include <cjson/cJSON.h>

#include "db.h"
#include "error.h"
#include "redisconn.h"
#include "s3.h"

/*
 * Probe the non-NULL handles and build the report.  On SC_OK the caller
 * owns *report (cJSON_Delete) and *ready says whether all were ok.
 */
enum sc_err health_check(struct db *db, struct redisconn *redis,
			 struct s3_client *s3, cJSON **report, int *ready);

#endif
