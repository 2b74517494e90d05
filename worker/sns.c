/*
 * sns.c - events published to an SNS topic, signed (see sns.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "aws_query.h"
#include "awscreds.h"
#include "buf.h"
#include "log.h"
#include "sigv4.h"
#include "sns.h"
#include "webhook.h"

#define FORM_MAX (2 * 1024 * 1024)	/* a 1 MiB body, form-encoded */
#define ANSWER_KEEP 8192		/* of the answer's body */

struct sns {
	const struct config *cfg;
	const atomic_int *stopping;
	struct awscreds *creds;
	CURL *curl;			/* kept: its connection is reused */
	char curl_err[CURL_ERROR_SIZE];
	int endpoint_logged;
};

/* the endpoint row: made when missing (the unique index of migration 006
 * settles two workers starting at once), read either way */
static const char ensure_sql[] =
	"WITH ins AS (INSERT INTO webhook_endpoints (url, secret) VALUES ($1::text, $2)"
	"    ON CONFLICT (url) WHERE url LIKE 'sns:%' DO NOTHING"
	"    RETURNING id, enabled, disabled_reason)"
	" SELECT id, enabled, COALESCE(disabled_reason, ''), true FROM ins"
	" UNION ALL SELECT id, enabled, COALESCE(disabled_reason, ''), false"
	"   FROM webhook_endpoints WHERE url = $1::text AND NOT EXISTS (SELECT 1 FROM ins)";

/* --- life cycle ---------------------------------------------------------- */

static size_t on_answer(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = size * n;

	if (b->len < ANSWER_KEEP)
		buf_append(b, data, len < ANSWER_KEEP - b->len ? len : ANSWER_KEEP - b->len);
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct sns *s = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load(s->stopping);
}

struct sns *sns_new(const struct config *cfg, const atomic_int *stopping)
{
	struct sns *s = calloc(1, sizeof(*s));
	long t = cfg->webhook_timeout_ms;

	if (!s)
		return NULL;
	s->cfg = cfg;
	s->stopping = stopping;
	if (!(s->creds = awscreds_new(cfg)) || !(s->curl = curl_easy_init()) ||
	    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(s->curl, CURLOPT_USERAGENT, "Showcase-Events/1") ||
	    curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(s->curl, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, t) ||
	    curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, t) ||
	    curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->curl_err) ||
	    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_answer) ||
	    curl_easy_setopt(s->curl, CURLOPT_XFERINFOFUNCTION, on_progress) ||
	    curl_easy_setopt(s->curl, CURLOPT_XFERINFODATA, s) ||
	    curl_easy_setopt(s->curl, CURLOPT_NOPROGRESS, 0L)) {
		sns_free(s);
		return NULL;
	}
	return s;
}

void sns_free(struct sns *s)
{
	if (!s)
		return;
	if (s->curl)
		curl_easy_cleanup(s->curl);
	awscreds_free(s->creds);
	free(s);
}

int sns_is_endpoint(const char *url)
{
	return !strncmp(url, SNS_URL_PREFIX, sizeof(SNS_URL_PREFIX) - 1);
}

/* --- the endpoint row ---------------------------------------------------- */

enum sc_err sns_ensure_endpoint(struct sns *s, struct db *db)
{
	const char *arn = s->cfg->events_sns_topic_arn;
	char secret[WEBHOOK_SECRET_MAX];
	struct buf url = BUF_INIT(1100);
	const char *p[2];
	PGresult *res = NULL;
	enum sc_err rc;

	if (!arn[0] || s->endpoint_logged)
		return SC_OK;
	if ((rc = buf_appendf(&url, "%s%s", SNS_URL_PREFIX, arn)))
		goto out;
	webhook_new_secret(secret);	/* unused for SNS; the column wants one */
	p[0] = url.data;
	p[1] = secret;
	if ((rc = db_exec_prepared(db, ensure_sql, 2, p, &res)))
		goto out;
	if (PQntuples(res) != 1) {	/* made by another worker just now */
		rc = SC_ERR_CONFLICT;
		goto out;
	}
	if (PQgetvalue(res, 0, 1)[0] == 't')
		log_info("events are published to SNS topic %s too: endpoint %s%s "
			 "(EVENTS_SNS_TOPIC_ARN)", arn, PQgetvalue(res, 0, 0),
			 PQgetvalue(res, 0, 3)[0] == 't' ? ", added now" : "");
	else
		log_warn("events are not published to SNS topic %s: its endpoint %s is "
			 "disabled (%s); `showcasectl webhooks enable %s` enables it",
			 arn, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 2),
			 PQgetvalue(res, 0, 0));
	s->endpoint_logged = 1;
out:
	PQclear(res);
	buf_release(&url);
	return rc;
}

/* --- publishing ---------------------------------------------------------- */

/* name=value&, the value form-encoded (the SigV4 encoding) */
static enum sc_err param(struct buf *b, const char *name, const char *value,
			 size_t len)
{
	enum sc_err rc;

	if ((b->len && (rc = buf_appendc(b, '&'))) ||
	    (rc = buf_appends(b, name)) || (rc = buf_appendc(b, '=')))
		return rc;
	return sigv4_uri_encode(b, value, len, 0);
}

static enum sc_err form_of(const char *arn, const char *msg_id, const char *type,
			   const char *body, size_t len, struct buf *b)
{
	static const char attr[] = "MessageAttributes.entry.";
	char name[96];
	enum sc_err rc;

	if ((rc = param(b, "Action", "Publish", 7)) ||
	    (rc = param(b, "Version", "2010-03-31", 10)) ||
	    (rc = param(b, "TopicArn", arn, strlen(arn))) ||
	    (rc = param(b, "Message", body, len)))
		return rc;
	snprintf(name, sizeof(name), "%s1.Name", attr);
	if ((rc = param(b, name, "type", 4)))
		return rc;
	snprintf(name, sizeof(name), "%s1.Value.DataType", attr);
	if ((rc = param(b, name, "String", 6)))
		return rc;
	snprintf(name, sizeof(name), "%s1.Value.StringValue", attr);
	if ((rc = param(b, name, type, strlen(type))))
		return rc;
	snprintf(name, sizeof(name), "%s2.Name", attr);
	if ((rc = param(b, name, "id", 2)))
		return rc;
	snprintf(name, sizeof(name), "%s2.Value.DataType", attr);
	if ((rc = param(b, name, "String", 6)))
		return rc;
	snprintf(name, sizeof(name), "%s2.Value.StringValue", attr);
	return param(b, name, msg_id, strlen(msg_id));
}

/* Field i (0-based) of an ARN, into out. */
static void arn_field(const char *arn, int i, char *out, size_t cap)
{
	const char *p = arn;
	size_t n;

	while (i-- > 0 && (p = strchr(p, ':')))
		p++;
	if (!p) {
		out[0] = '\0';
		return;
	}
	n = strcspn(p, ":");
	snprintf(out, cap, "%.*s", (int)n, p);
}

/* The text of the first <tag>...</tag> in xml, into out ("" if none). */
static void xml_text(const char *xml, const char *tag, char *out, size_t cap)
{
	char open[32], close[32];
	const char *a, *b;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	out[0] = '\0';
	if (xml && (a = strstr(xml, open)) && (b = strstr(a, close)))
		snprintf(out, cap, "%.*s", (int)(b - a - strlen(open)), a + strlen(open));
}

long sns_publish(struct sns *s, const char *url, const char *msg_id,
		 const char *type, const char *body, size_t len, char *error,
		 size_t cap)
{
	const char *arn = url + sizeof(SNS_URL_PREFIX) - 1;
	struct buf form = BUF_INIT(FORM_MAX), target = BUF_INIT(4096);
	struct buf answer = BUF_INIT(ANSWER_KEEP + 1), why = BUF_INIT(1024);
	struct curl_slist *list = NULL;
	char region[64], partition[32], code[128], message[200];
	long status = 0;
	CURLcode cc;

	error[0] = '\0';
	arn_field(arn, 1, partition, sizeof(partition));
	arn_field(arn, 3, region, sizeof(region));
	if (!region[0]) {
		snprintf(error, cap, "not sent: '%s' is not an SNS topic ARN", arn);
		goto out;
	}
	if (s->cfg->events_sns_endpoint[0])
		buf_appends(&target, s->cfg->events_sns_endpoint);
	else
		buf_appendf(&target, "https://sns.%s.amazonaws.com%s", region,
			    !strcmp(partition, "aws-cn") ? ".cn" : "");
	if (!target.data || buf_appendc(&target, '/') ||
	    form_of(arn, msg_id, type, body, len, &form)) {
		snprintf(error, cap, "cannot build the request: %s",
			 sc_strerror(SC_ERR_TOO_LARGE));
		goto out;
	}
	switch (aws_query_headers(s->creds, target.data, region, "sns", form.data,
				  form.len, &list, &why)) {
	case SC_OK:
		break;
	case SC_ERR_AUTH:
		snprintf(error, cap, "not sent: no AWS credentials: %s",
			 why.data ? why.data : "");
		goto out;
	default:
		snprintf(error, cap, "cannot sign the request: %s",
			 sc_strerror(SC_ERR_NOMEM));
		goto out;
	}
	s->curl_err[0] = '\0';
	curl_easy_setopt(s->curl, CURLOPT_URL, target.data);
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)form.len);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, form.data);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, &answer);
	cc = curl_easy_perform(s->curl);
	if (cc != CURLE_OK) {
		snprintf(error, cap, "cannot reach SNS at %s: %s", target.data,
			 s->curl_err[0] ? s->curl_err : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200 && answer.data && strstr(answer.data, "<PublishResponse"))
		goto out;
	xml_text(answer.data, "Code", code, sizeof(code));
	xml_text(answer.data, "Message", message, sizeof(message));
	if (status == 200) {
		snprintf(error, cap, "SNS answered 200 without a PublishResponse");
		status = 0;
	} else if (code[0]) {
		snprintf(error, cap, "SNS answered %ld: %s: %s", status, code, message);
	} else {
		snprintf(error, cap, "SNS answered %ld", status);
	}
out:
	/* the handle must not keep pointers to what is freed here */
	curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, NULL);
	curl_slist_free_all(list);
	buf_release(&form);
	buf_release(&target);
	buf_release(&answer);
	buf_release(&why);
	return status;
}
