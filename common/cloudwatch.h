/*
 * cloudwatch.h - publish a metric to Amazon CloudWatch (PutMetricData).
 *
 * The query API over HTTPS, a form body signed with the project's SigV4
 * code (service "monitoring"), keys from awscreds (the instance role in
 * production).  Used to publish the queue's backlog per worker, the figure
 * the worker autoscaling group scales on.
 */
#ifndef SC_CLOUDWATCH_H
#define SC_CLOUDWATCH_H

#include "awscreds.h"
#include "buf.h"
#include "config.h"
#include "error.h"

struct cloudwatch_metric {
	const char *namespace_;		/* "Showcase" */
	const char *name;		/* "BacklogPerWorker" */
	double value;
	const char *unit;		/* "Count", "Seconds", ... */
	const char *dimension;		/* one dimension, or NULL */
	const char *dimension_value;
};

/*
 * Send n values (1 to 20, one namespace: m[0]'s) in one request to
 * CLOUDWATCH_ENDPOINT (default https://monitoring.S3_REGION.amazonaws.com).
 * On failure err says why: SC_ERR_AUTH when the keys are refused,
 * SC_ERR_IO otherwise.
 */
enum sc_err cloudwatch_put(const struct config *cfg, struct awscreds *creds,
			   const struct cloudwatch_metric *m, int n,
			   struct buf *err);

#endif
