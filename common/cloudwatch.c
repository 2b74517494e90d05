/*
 * cloudwatch.c - PutMetricData, signed (see cloudwatch.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "aws_query.h"
#include "cloudwatch.h"
#include "sigv4.h"


/* name=value&, the value form-encoded (the SigV4 encoding) */
static enum sc_err param(struct buf *b, const char *name, const char *value)
{
	enum sc_err rc;

	if ((b->len && (rc = buf_appendc(b, '&'))) ||
	    (rc = buf_appends(b, name)) || (rc = buf_appendc(b, '=')))
		return rc;
	return sigv4_uri_encode(b, value, strlen(value), 0);
}

/* MetricData.member.<i>.<field>=value */
static enum sc_err member(struct buf *b, int i, const char *field,
			  const char *value)
{
	char name[96];

	snprintf(name, sizeof(name), "MetricData.member.%d.%s", i, field);
	return param(b, name, value);
}

static enum sc_err body_of(const struct cloudwatch_metric *m, int n,
			   struct buf *b)
{
	char value[64];
	enum sc_err rc;
	int i;

	if ((rc = param(b, "Action", "PutMetricData")) ||
	    (rc = param(b, "Version", "2010-08-01")) ||
	    (rc = param(b, "Namespace", m[0].namespace_)))
		return rc;
	for (i = 0; i < n; i++) {
		snprintf(value, sizeof(value), "%.6g", m[i].value);
		if ((rc = member(b, i + 1, "MetricName", m[i].name)) ||
		    (rc = member(b, i + 1, "Value", value)) ||
		    (rc = member(b, i + 1, "Unit", m[i].unit)))
			return rc;
		if (m[i].dimension &&
		    ((rc = member(b, i + 1, "Dimensions.member.1.Name", m[i].dimension)) ||
		     (rc = member(b, i + 1, "Dimensions.member.1.Value",
				  m[i].dimension_value))))
			return rc;
	}
	return SC_OK;
}

enum sc_err cloudwatch_put(const struct config *cfg, struct awscreds *creds,
			   const struct cloudwatch_metric *m, int n,
			   struct buf *err)
{
	struct buf body = BUF_INIT(8192), url = BUF_INIT(4096), resp = BUF_INIT(65536);
	struct curl_slist *list = NULL;
	CURL *curl = NULL;
	long status = 0;
	enum sc_err rc;
	CURLcode cc;

	if (cfg->cloudwatch_endpoint[0])
		rc = buf_appends(&url, cfg->cloudwatch_endpoint);
	else
		rc = buf_appendf(&url, "https://monitoring.%s.amazonaws.com", cfg->s3_region);
	if (rc || (rc = buf_appendc(&url, '/')) || (rc = body_of(m, n, &body)) ||
	    (rc = aws_query_headers(creds, url.data, cfg->s3_region, "monitoring",
				    body.data, body.len, &list, err)))
		goto out;
	curl = curl_easy_init();
	if (!curl) {
		rc = SC_ERR_NOMEM;
		goto out;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url.data);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)body.len);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->connect_timeout_ms);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, buf_curl_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK) {
		buf_appendf(err, "cannot reach %s: %s", url.data, curl_easy_strerror(cc));
		rc = SC_ERR_IO;
	} else if (status != 200) {
		buf_appendf(err, "PutMetricData answered %ld: %.300s", status,
			    resp.data ? resp.data : "");
		rc = status == 403 ? SC_ERR_AUTH : SC_ERR_IO;
	}
out:
	if (rc && !err->len)
		buf_appendf(err, "cannot build the request: %s", sc_strerror(rc));
	curl_easy_cleanup(curl);
	curl_slist_free_all(list);
	buf_release(&body);
	buf_release(&url);
	buf_release(&resp);
	return rc;
}
