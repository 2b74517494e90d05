/*
 * dispatch.c - the webhook dispatcher thread (see dispatch.h).
 *
 * One loop: claim a batch of due deliveries, send them one after the
 * other, record each outcome, read the gauges; then wait WEBHOOK_POLL_MS
 * (not at all after a full batch), or until asked to stop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "clock.h"
#include "db.h"
#include "dispatch.h"
#include "log.h"
#include "sns.h"
#include "webhook.h"

/* the retry schedule at the default WEBHOOK_RETRY_BASE_MS (5 s): seconds
 * after the previous try; the try after the last step is the last one */
static const long long schedule_s[] = { 5, 300, 1800, 7200, 18000, 36000, 86400 };
#define SCHEDULE_STEPS ((int)(sizeof(schedule_s) / sizeof(schedule_s[0])))
#define MAX_ATTEMPTS (SCHEDULE_STEPS + 1)
#define SCHEDULE_BASE_MS 5000LL
#define RETRY_AFTER_CAP_S 86400LL
#define RETENTION_EVERY_MS 3600000LL
#define RETENTION_CHUNK 5000
#define RETENTION_ROUNDS 200		/* a million events per pass at most */
#define DOWN_PAUSE_MS 2000
#define BODY_MAX (1 << 20)
#define ERROR_MAX 300			/* of last_error */

struct dispatch {
	const struct config *cfg;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t wake;		/* CLOCK_MONOTONIC */
	atomic_int stopping;
	/* the thread's own */
	struct db *db;
	CURL *curl;
	char curl_err[CURL_ERROR_SIZE];
	struct sns *sns;		/* sns: endpoints (sns.h) */
	int sns_ready;			/* EVENTS_SNS_TOPIC_ARN's endpoint exists */
	int db_ok;			/* last known, to log changes only */
	long long next_retention_ms;
	/* figures for /metrics */
	atomic_llong delivered, failed, retried;
	atomic_llong pending;		/* -1: not read (not served) */
	atomic_llong oldest_pending_ms;
};

/* One claimed row; the strings point into the claim's PGresult. */
struct delivery {
	const char *event_id;
	const char *endpoint_id;
	const char *type;
	const char *data;		/* the event's jsonb, as text */
	const char *created;		/* RFC 3339, UTC, milliseconds */
	const char *url;
	const char *secret;
	const char *claim;		/* next_at as claimed: the fence */
	int attempts;			/* before this one */
	int enabled;
};

/* What one request came to. */
struct attempt {
	struct dispatch *d;
	long status;			/* HTTP status; 0: no answer */
	long long retry_after_s;	/* -1: none sent */
	int refused;			/* a link-local address, not contacted */
	char refused_ip[64];
	char error[ERROR_MAX];		/* "" when status says it all */
};

enum outcome { OUT_DELIVERED, OUT_RETRY, OUT_FAILED, OUT_GONE, OUT_ABANDONED };

/* --- SQL -------------------------------------------------------------- */

/*
 * The claim: due rows, oldest first, skipping those another dispatcher
 * is claiming right now; their next_at moves past the lease, which hides
 * them until then.  to_char: the event's time as the payload's timestamp.
 */
static const char claim_sql[] =
	"UPDATE webhook_deliveries d"
	" SET next_at = now() + $2::bigint * interval '1 millisecond'"
	" FROM (SELECT event_id, endpoint_id FROM webhook_deliveries"
	"       WHERE state = 'pending' AND next_at <= now()"
	"       ORDER BY next_at LIMIT $1::int FOR UPDATE SKIP LOCKED) c,"
	"      events e, webhook_endpoints p"
	" WHERE d.event_id = c.event_id AND d.endpoint_id = c.endpoint_id"
	"   AND e.id = d.event_id AND p.id = d.endpoint_id"
	" RETURNING d.event_id, d.endpoint_id, d.attempts, e.type, e.data::text,"
	"   to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
	"   p.url, p.secret, p.enabled, d.next_at";

static const char delivered_sql[] =
	"UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1,"
	" last_status = $3::int, last_error = NULL, delivered_at = now()"
	" WHERE event_id = $1::bigint AND endpoint_id = $2::bigint AND state = 'pending'";

/* a retry, or the last try failed ($5); fenced by the claim ($7): a
 * dispatcher whose lease passed does not move another's claim */
static const char retry_sql[] =
	"UPDATE webhook_deliveries SET attempts = attempts + 1,"
	" last_status = $3::int, last_error = $4,"
	" state = CASE WHEN $5::bool THEN 'failed' ELSE 'pending' END,"
	" next_at = now() + $6::bigint * interval '1 millisecond'"
	" WHERE event_id = $1::bigint AND endpoint_id = $2::bigint AND state = 'pending'"
	"   AND next_at = $7::timestamptz";

/* 410 Gone: the endpoint is disabled and each of its pending deliveries
 * failed, this one with the answer */
static const char gone_sql[] =
	"WITH p AS (UPDATE webhook_endpoints SET enabled = false,"
	"    disabled_reason = 'the receiver answered 410 Gone at ' ||"
	"      to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	"    WHERE id = $2::bigint RETURNING id)"
	" UPDATE webhook_deliveries d SET state = 'failed',"
	"  attempts = d.attempts + CASE WHEN d.event_id = $1::bigint THEN 1 ELSE 0 END,"
	"  last_status = CASE WHEN d.event_id = $1::bigint THEN 410 ELSE d.last_status END,"
	"  last_error = CASE WHEN d.event_id = $1::bigint"
	"    THEN 'the receiver answered 410 Gone: endpoint disabled'"
	"    ELSE 'not sent: the endpoint was disabled (410 Gone)' END"
	" FROM p WHERE d.endpoint_id = p.id AND d.state = 'pending'";

static const char disabled_sql[] =
	"UPDATE webhook_deliveries SET state = 'failed',"
	" last_error = 'not sent: the endpoint is disabled'"
	" WHERE event_id = $1::bigint AND endpoint_id = $2::bigint AND state = 'pending'";

/* not tried (stopping, or the lease too short for it): due again now */
static const char handback_sql[] =
	"UPDATE webhook_deliveries SET next_at = now()"
	" WHERE event_id = $1::bigint AND endpoint_id = $2::bigint AND state = 'pending'"
	"   AND next_at = $3::timestamptz";

static const char gauges_sql[] =
	"SELECT count(*), COALESCE(floor(extract(epoch FROM now() - min(created_at))"
	" * 1000), 0)::bigint FROM webhook_deliveries WHERE state = 'pending'";

static const char retention_sql[] =
	"DELETE FROM events WHERE id IN (SELECT e.id FROM events e"
	" WHERE e.created_at < now() - $1::int * interval '1 day'"
	"   AND NOT EXISTS (SELECT 1 FROM webhook_deliveries w"
	"                   WHERE w.event_id = e.id AND w.state = 'pending')"
	" ORDER BY e.created_at LIMIT $2::int)";

/* --- waiting and stopping ------------------------------------------------ */

static int stopping(struct dispatch *d)
{
	return atomic_load(&d->stopping);
}

/* Wait ms, or less when asked to stop. */
static void pause_ms(struct dispatch *d, long long ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&d->lock);
	while (!stopping(d) &&
	       pthread_cond_timedwait(&d->wake, &d->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&d->lock);
}

/* --- one request -------------------------------------------------------- */

/* Is ip (curl's text) link-local, or not an address we can read? */
static int link_local(const char *ip)
{
	static const unsigned char ec2[16] = { 0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0,
					       0, 0, 0, 0, 0, 0, 0x02, 0x54 };
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						  0xff, 0xff };
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1)
		return a[0] == 169 && a[1] == 254;
	if (inet_pton(AF_INET6, ip, a) == 1) {
		if (!memcmp(a, mapped, sizeof(mapped)))
			return a[12] == 169 && a[13] == 254;
		return (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || !memcmp(a, ec2, 16);
	}
	return 1;	/* a scoped or unknown form: refused, never guessed */
}

/* Called for each address before connecting to it: a link-local one is
 * never contacted (curl goes on to the next address, if any). */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose,
				    struct curl_sockaddr *a)
{
	struct attempt *at = arg;
	char ip[INET6_ADDRSTRLEN] = "";

	(void)purpose;
	if (!at->d->cfg->webhook_allow_link_local) {
		if (a->family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&a->addr)->sin_addr,
				  ip, sizeof(ip));
		else if (a->family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr,
				  ip, sizeof(ip));
		if (link_local(ip)) {
			at->refused = 1;
			snprintf(at->refused_ip, sizeof(at->refused_ip), "%s",
				 ip[0] ? ip : "an address of an unknown family");
			return CURL_SOCKET_BAD;
		}
	}
	return socket(a->family, a->socktype, a->protocol);
}

/* Called once connected (or a connection reused), before the request:
 * the last word on the address the request goes to. */
static int on_prereq(void *arg, char *primary_ip, char *local_ip,
		     int primary_port, int local_port)
{
	struct attempt *at = arg;

	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	if (at->d->cfg->webhook_allow_link_local || !link_local(primary_ip))
		return CURL_PREREQFUNC_OK;
	at->refused = 1;
	snprintf(at->refused_ip, sizeof(at->refused_ip), "%s", primary_ip);
	return CURL_PREREQFUNC_ABORT;
}

/* Retry-After in seconds; an HTTP date is ignored. */
static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	static const char name[] = "retry-after:";
	struct attempt *at = arg;
	size_t len = size * n, i = sizeof(name) - 1;
	long long v = 0;
	int digits = 0;

	if (len > i && !strncasecmp(line, name, i)) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		for (; i < len && line[i] >= '0' && line[i] <= '9' && digits < 12; i++, digits++)
			v = v * 10 + (line[i] - '0');
		if (digits && (i == len || line[i] == '\r' || line[i] == '\n' ||
			       line[i] == ' '))
			at->retry_after_s = v;
	}
	return len;
}

/* The answer's body is not kept. */
static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

/* A request in flight is abandoned when the worker stops. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct attempt *at = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return stopping(at->d);
}

static enum sc_err curl_setup(struct dispatch *d)
{
	CURL *c = d->curl;
	long t = d->cfg->webhook_timeout_ms;

	if (curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "Showcase-Webhooks/1") ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, t) ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, t) ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, d->curl_err) ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) ||
	    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket) ||
	    curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prereq) ||
	    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) ||
	    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L))
		return SC_ERR_INVALID;
	return SC_OK;
}

/* The payload: {"type":..,"timestamp":..,"data":..}. */
static enum sc_err build_body(const struct delivery *dv, struct buf *b)
{
	enum sc_err rc = SC_OK;

	rc = rc ? rc : buf_appends(b, "{\"type\":\"");
	rc = rc ? rc : buf_append_json(b, dv->type);
	rc = rc ? rc : buf_appends(b, "\",\"timestamp\":\"");
	rc = rc ? rc : buf_append_json(b, dv->created);
	rc = rc ? rc : buf_appends(b, "\",\"data\":");
	rc = rc ? rc : buf_appends(b, dv->data);
	rc = rc ? rc : buf_appendc(b, '}');
	return rc;
}

/* Send dv once; at says how it went. */
static void send_one(struct dispatch *d, const struct delivery *dv, struct attempt *at)
{
	char msg_id[48], sig[WEBHOOK_SIGNATURE_MAX], h_id[80], h_ts[64], h_sig[96];
	struct buf body = BUF_INIT(BODY_MAX);
	struct curl_slist *hdrs = NULL, *h;
	long long now = (long long)time(NULL);
	CURLcode rc;

	snprintf(msg_id, sizeof(msg_id), "evt_%s", dv->event_id);
	if (build_body(dv, &body)) {
		snprintf(at->error, sizeof(at->error), "cannot build the payload: %s",
			 sc_strerror(SC_ERR_TOO_LARGE));
		goto out;
	}
	if (sns_is_endpoint(dv->url)) {
		at->status = sns_publish(d->sns, dv->url, msg_id, dv->type, body.data,
					 body.len, at->error, sizeof(at->error));
		goto out;
	}
	if (webhook_sign(dv->secret, msg_id, now, body.data, body.len, sig)) {
		snprintf(at->error, sizeof(at->error),
			 "not sent: the endpoint's secret is not a whsec_ secret");
		goto out;
	}
	snprintf(h_id, sizeof(h_id), "webhook-id: %s", msg_id);
	snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %lld", now);
	snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", sig);
	/* Expect: no 100-continue round trip */
	if (!(h = curl_slist_append(hdrs, "Content-Type: application/json")) ||
	    !(hdrs = h, h = curl_slist_append(hdrs, h_id)) ||
	    !(hdrs = h, h = curl_slist_append(hdrs, h_ts)) ||
	    !(hdrs = h, h = curl_slist_append(hdrs, h_sig)) ||
	    !(hdrs = h, h = curl_slist_append(hdrs, "Expect:"))) {
		snprintf(at->error, sizeof(at->error), "%s", sc_strerror(SC_ERR_NOMEM));
		goto out;
	}
	hdrs = h;
	d->curl_err[0] = '\0';
	curl_easy_setopt(d->curl, CURLOPT_URL, dv->url);
	curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(d->curl, CURLOPT_POSTFIELDSIZE, (long)body.len);
	curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, body.data);
	curl_easy_setopt(d->curl, CURLOPT_HEADERDATA, at);
	curl_easy_setopt(d->curl, CURLOPT_OPENSOCKETDATA, at);
	curl_easy_setopt(d->curl, CURLOPT_PREREQDATA, at);
	curl_easy_setopt(d->curl, CURLOPT_XFERINFODATA, at);
	rc = curl_easy_perform(d->curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &at->status);
		if (at->status < 200 || at->status > 299)
			snprintf(at->error, sizeof(at->error), "the receiver answered %ld",
				 at->status);
	} else if (at->refused) {
		snprintf(at->error, sizeof(at->error),
			 "not sent: %s is a link-local address (the cloud's metadata "
			 "service lives there; WEBHOOK_ALLOW_LINK_LOCAL=1 allows it)",
			 at->refused_ip);
	} else {
		snprintf(at->error, sizeof(at->error), "%s",
			 d->curl_err[0] ? d->curl_err : curl_easy_strerror(rc));
	}
out:
	/* the handle must not keep pointers to what is freed here */
	curl_easy_setopt(d->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(d->curl, CURLOPT_POSTFIELDS, NULL);
	curl_slist_free_all(hdrs);
	buf_release(&body);
}

/* --- outcomes ----------------------------------------------------------- */

/* The wait before the try after try number `attempt`, jittered. */
static long long retry_delay_ms(const struct config *cfg, int attempt,
				long long retry_after_s)
{
	long long ms = schedule_s[attempt - 1] * 1000LL * cfg->webhook_retry_base_ms /
		       SCHEDULE_BASE_MS;

	ms = ms * (800 + (long long)randombytes_uniform(401)) / 1000;
	if (retry_after_s >= 0) {
		if (retry_after_s > RETRY_AFTER_CAP_S)
			retry_after_s = RETRY_AFTER_CAP_S;
		if (retry_after_s * 1000 > ms)
			ms = retry_after_s * 1000;
	}
	return ms;
}

static void log_outcome(const struct delivery *dv, const struct attempt *at,
			enum outcome out, int attempt, long long delay_ms)
{
	static const char *const names[] = { "delivered", "retry", "failed", "gone",
					     "abandoned" };
	struct log_field f[6] = {
		{ "event_id", dv->event_id, 0 },
		{ "endpoint_id", dv->endpoint_id, 0 },
		{ "status", NULL, at->status },
		{ "attempt", NULL, attempt },
		{ "outcome", names[out], 0 },
		{ "retry_in_ms", NULL, delay_ms },
	};
	size_t n = out == OUT_RETRY ? 6 : 5;

	if (out == OUT_DELIVERED)
		log_fields(LOG_INFO, f, n, "webhook evt_%s to endpoint %s delivered "
			   "(attempt %d, HTTP %ld)", dv->event_id, dv->endpoint_id,
			   attempt, at->status);
	else if (out == OUT_RETRY)
		log_fields(LOG_WARN, f, n, "webhook evt_%s to endpoint %s: attempt %d "
			   "failed (%s), again in %lld ms", dv->event_id, dv->endpoint_id,
			   attempt, at->error, delay_ms);
	else if (out == OUT_GONE)
		log_fields(LOG_WARN, f, n, "webhook evt_%s: endpoint %s answered 410 "
			   "Gone: the endpoint is disabled", dv->event_id, dv->endpoint_id);
	else if (out == OUT_FAILED)
		log_fields(LOG_WARN, f, n, "webhook evt_%s to endpoint %s failed for "
			   "good after attempt %d: %s", dv->event_id, dv->endpoint_id,
			   attempt, at->error);
	else
		log_fields(LOG_INFO, f, n, "webhook evt_%s to endpoint %s abandoned "
			   "(stopping): due again at once", dv->event_id, dv->endpoint_id);
}

/* Run one outcome statement; a failure is logged (the lease passes and
 * the delivery comes due again: at least once). */
static int record(struct dispatch *d, const char *sql, int n, const char *const *p)
{
	PGresult *res = NULL;
	int rows;

	if (db_exec_prepared(d->db, sql, n, p, &res)) {
		log_error("cannot record a webhook outcome (the delivery comes due "
			  "again when its claim passes): %s", db_errstr(d->db));
		return -1;
	}
	rows = atoi(PQcmdTuples(res));
	PQclear(res);
	return rows;
}

static void hand_back(struct dispatch *d, const struct delivery *dv)
{
	const char *p[3] = { dv->event_id, dv->endpoint_id, dv->claim };

	record(d, handback_sql, 3, p);
}

/* Send one claimed delivery and record how it went.  1 if its endpoint
 * answered 410 (the rest of the batch skips it). */
static int deliver(struct dispatch *d, const struct delivery *dv)
{
	struct attempt at = { .d = d, .retry_after_s = -1 };
	int attempt = dv->attempts + 1, last = attempt >= MAX_ATTEMPTS;
	long long delay = 0;
	char status[16], delay_s[24];
	const char *p[7];
	enum outcome out;

	send_one(d, dv, &at);
	p[0] = dv->event_id;
	p[1] = dv->endpoint_id;
	snprintf(status, sizeof(status), "%ld", at.status);
	p[2] = status;
	if (!at.status && !at.refused && stopping(d)) {
		out = OUT_ABANDONED;
		hand_back(d, dv);
	} else if (at.status >= 200 && at.status <= 299) {
		out = OUT_DELIVERED;
		record(d, delivered_sql, 3, p);
		atomic_fetch_add(&d->delivered, 1);
	} else if (at.status == 410) {
		out = OUT_GONE;
		record(d, gone_sql, 2, p);
		atomic_fetch_add(&d->failed, 1);
	} else {
		out = last ? OUT_FAILED : OUT_RETRY;
		if (!last)
			delay = retry_delay_ms(d->cfg, attempt, at.retry_after_s);
		snprintf(delay_s, sizeof(delay_s), "%lld", delay);
		p[2] = at.status ? status : NULL;
		p[3] = at.error;
		p[4] = last ? "true" : "false";
		p[5] = delay_s;
		p[6] = dv->claim;
		if (record(d, retry_sql, 7, p) == 0)
			log_warn("webhook evt_%s to endpoint %s: its claim had passed; "
				 "another dispatcher has it", dv->event_id, dv->endpoint_id);
		atomic_fetch_add(last ? &d->failed : &d->retried, 1);
	}
	log_outcome(dv, &at, out, attempt, delay);
	return out == OUT_GONE;
}

/* --- the loop ------------------------------------------------------------ */

/* Claim and send one batch; *n is the number claimed. */
static enum sc_err run_batch(struct dispatch *d, int *n)
{
	const struct config *cfg = d->cfg;
	long long lease = 2LL * cfg->webhook_timeout_ms;
	long long started = clock_ms();
	char limit[16], lease_s[24];
	const char *p[2] = { limit, lease_s };
	PGresult *res = NULL;
	const char *gone[64];
	int i, j, ngone = 0, skip;
	enum sc_err rc;

	*n = 0;
	snprintf(limit, sizeof(limit), "%d", cfg->webhook_batch);
	snprintf(lease_s, sizeof(lease_s), "%lld", lease);
	rc = db_exec_prepared(d->db, claim_sql, 2, p, &res);
	if (rc)
		return rc;
	*n = PQntuples(res);
	for (i = 0; i < *n; i++) {
		struct delivery dv = {
			.event_id = PQgetvalue(res, i, 0),
			.endpoint_id = PQgetvalue(res, i, 1),
			.attempts = atoi(PQgetvalue(res, i, 2)),
			.type = PQgetvalue(res, i, 3),
			.data = PQgetvalue(res, i, 4),
			.created = PQgetvalue(res, i, 5),
			.url = PQgetvalue(res, i, 6),
			.secret = PQgetvalue(res, i, 7),
			.enabled = PQgetvalue(res, i, 8)[0] == 't',
			.claim = PQgetvalue(res, i, 9),
		};
		const char *q[2] = { dv.event_id, dv.endpoint_id };

		for (skip = 0, j = 0; j < ngone; j++)
			skip |= !strcmp(gone[j], dv.endpoint_id);
		if (!dv.enabled || skip) {
			record(d, disabled_sql, 2, q);
			atomic_fetch_add(&d->failed, 1);
			log_info("webhook evt_%s to endpoint %s not sent: the endpoint "
				 "is disabled", dv.event_id, dv.endpoint_id);
			continue;
		}
		/* a try must end (with a margin) before the claim does, or
		 * another dispatcher could send it at the same time */
		if (stopping(d) || clock_ms() - started + cfg->webhook_timeout_ms +
					   cfg->webhook_timeout_ms / 4 > lease) {
			hand_back(d, &dv);
			continue;
		}
		if (deliver(d, &dv) && ngone < (int)(sizeof(gone) / sizeof(gone[0])))
			gone[ngone++] = dv.endpoint_id;
	}
	PQclear(res);
	return SC_OK;
}

static void refresh_gauges(struct dispatch *d)
{
	PGresult *res = NULL;

	if (db_exec_prepared(d->db, gauges_sql, 0, NULL, &res)) {
		atomic_store(&d->pending, -1);
		return;
	}
	atomic_store(&d->oldest_pending_ms, atoll(PQgetvalue(res, 0, 1)));
	atomic_store(&d->pending, atoll(PQgetvalue(res, 0, 0)));
	PQclear(res);
}

/* Delete old events whose deliveries are all done, in chunks. */
static enum sc_err retention(struct dispatch *d)
{
	char days[16], chunk[16];
	const char *p[2] = { days, chunk };
	PGresult *res = NULL;
	long long total = 0;
	int i, got;
	enum sc_err rc = SC_OK;

	snprintf(days, sizeof(days), "%d", d->cfg->events_retention_days);
	snprintf(chunk, sizeof(chunk), "%d", RETENTION_CHUNK);
	for (i = 0; i < RETENTION_ROUNDS && !stopping(d); i++) {
		rc = db_exec_prepared(d->db, retention_sql, 2, p, &res);
		if (rc)
			break;
		got = atoi(PQcmdTuples(res));
		PQclear(res);
		total += got;
		if (got < RETENTION_CHUNK)
			break;
	}
	if (total)
		log_info("deleted %lld events older than %d days (EVENTS_RETENTION_DAYS)",
			 total, d->cfg->events_retention_days);
	if (rc)
		log_warn("cannot delete old events: %s", db_errstr(d->db));
	return rc;
}

static void note_db(struct dispatch *d, int ok)
{
	if (ok == d->db_ok)
		return;
	if (ok && d->db_ok >= 0)
		log_info("webhook dispatcher: postgresql reachable again");
	else if (!ok)
		log_error("webhook dispatcher: cannot claim deliveries: %s",
			  db_errstr(d->db));
	d->db_ok = ok;
}

static void *dispatch_main(void *arg)
{
	struct dispatch *d = arg;
	enum sc_err rc;
	int n;

	log_info("webhook dispatcher started: batch %d, poll %d ms, timeout %d ms",
		 d->cfg->webhook_batch, d->cfg->webhook_poll_ms,
		 d->cfg->webhook_timeout_ms);
	while (!stopping(d)) {
		if (clock_ms() >= d->next_retention_ms)	/* again soon if it failed */
			d->next_retention_ms = clock_ms() + (retention(d) ? 60000LL
								     : RETENTION_EVERY_MS);
		if (!d->sns_ready)
			d->sns_ready = sns_ensure_endpoint(d->sns, d->db) == SC_OK;
		rc = run_batch(d, &n);
		note_db(d, rc == SC_OK);
		if (rc) {
			atomic_store(&d->pending, -1);
			pause_ms(d, DOWN_PAUSE_MS);
			continue;
		}
		refresh_gauges(d);
		if (n < d->cfg->webhook_batch)
			pause_ms(d, d->cfg->webhook_poll_ms);
	}
	log_info("webhook dispatcher stopped");
	return NULL;
}

/* --- life cycle ---------------------------------------------------------- */

enum sc_err dispatch_start(const struct config *cfg, struct dispatch **out)
{
	struct dispatch *d;
	pthread_condattr_t ca;

	*out = NULL;
	if (sodium_init() < 0 || !(d = calloc(1, sizeof(*d))))
		return SC_ERR_NOMEM;
	d->cfg = cfg;
	d->db_ok = -1;
	atomic_init(&d->pending, -1);
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (!(d->db = db_open(cfg)) || !(d->curl = curl_easy_init()) ||
	    curl_setup(d) || !(d->sns = sns_new(cfg, &d->stopping))) {
		dispatch_free(d);
		return SC_ERR_NOMEM;
	}
	if (pthread_create(&d->thread, NULL, dispatch_main, d)) {
		dispatch_free(d);
		return SC_ERR_IO;
	}
	d->started = 1;
	*out = d;
	return SC_OK;
}

void dispatch_stop(struct dispatch *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	atomic_store(&d->stopping, 1);
	pthread_cond_broadcast(&d->wake);
	pthread_mutex_unlock(&d->lock);
}

void dispatch_free(struct dispatch *d)
{
	if (!d)
		return;
	dispatch_stop(d);
	if (d->started)
		pthread_join(d->thread, NULL);
	if (d->curl)
		curl_easy_cleanup(d->curl);
	sns_free(d->sns);
	db_free(d->db);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

void dispatch_metrics(void *arg, struct buf *b)
{
	struct dispatch *d = arg;

	buf_appendf(b, "# HELP showcase_webhook_deliveries_total Webhook delivery attempts "
		       "this worker made, by outcome (failed: for good).\n"
		       "# TYPE showcase_webhook_deliveries_total counter\n"
		       "showcase_webhook_deliveries_total{outcome=\"delivered\"} %lld\n"
		       "showcase_webhook_deliveries_total{outcome=\"failed\"} %lld\n"
		       "showcase_webhook_deliveries_total{outcome=\"retried\"} %lld\n",
		    atomic_load(&d->delivered), atomic_load(&d->failed),
		    atomic_load(&d->retried));
	if (atomic_load(&d->pending) < 0)
		return;
	buf_appendf(b, "# HELP showcase_webhook_pending Webhook deliveries not yet "
		       "delivered or failed (every dispatcher's).\n"
		       "# TYPE showcase_webhook_pending gauge\n"
		       "showcase_webhook_pending %lld\n"
		       "# HELP showcase_webhook_oldest_pending_seconds Age of the oldest "
		       "pending webhook delivery (0: none).\n"
		       "# TYPE showcase_webhook_oldest_pending_seconds gauge\n"
		       "showcase_webhook_oldest_pending_seconds %.3f\n",
		    atomic_load(&d->pending), atomic_load(&d->oldest_pending_ms) / 1000.0);
}
