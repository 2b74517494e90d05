/*
 * ctl_webhooks.c - `showcasectl webhooks`: the webhook endpoints that the
 * events (migration 005) are delivered to, and their deliveries.
 *
 *   webhooks add URL [--events TYPE,...]
 *       a new endpoint for URL (http:// or https://, printable ASCII, at
 *       most URL_MAX characters) subscribed to the listed event types
 *       (video.uploaded, video.processing, video.processed, video.failed,
 *       video.deleted; default all of them, also those added later), with
 *       a new secret (webhook.h).  Prints "added endpoint ID EVENTS URL",
 *       then, last and alone on its line, the secret, for the receiver
 *       to verify the signatures with.  Only the events made after it
 *       are delivered to it (`webhooks redeliver` for older ones).
 *   webhooks list
 *       one line per endpoint, oldest first:
 *       ID ENABLED EVENTS PENDING FAILED DELIVERED URL [DISABLED_REASON]
 *       (ENABLED yes or no, EVENTS "all" or the types with commas, the
 *       counts those of its deliveries in each state).  No secrets.
 *   webhooks rm ID
 *       deletes the endpoint and its deliveries.
 *   webhooks redeliver EVENT_ID [--endpoint ID]
 *       the event's deliveries (to that endpoint only, with --endpoint)
 *       are made pending again, due now, their attempts kept; an enabled
 *       endpoint subscribed to the event's type that has no delivery of
 *       it (one added after the event, or enabled again since) gets one.
 *       Prints how many deliveries are pending for it now.
 *   webhooks enable ID
 *       enables an endpoint again (the dispatcher disables one that keeps
 *       failing) and clears its disabled_reason.  The events made while it
 *       was disabled were not fanned out to it: `webhooks redeliver`.
 *
 * Exit codes: 0 done, 1 PostgreSQL failed (its message on stderr) or no
 * such endpoint or event, 2 usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "buf.h"
#include "ctl.h"
#include "db.h"
#include "webhook.h"

static const char usage[] =
	"usage: showcasectl webhooks add URL [--events TYPE,...]\n"
	"       showcasectl webhooks list\n"
	"       showcasectl webhooks rm ID\n"
	"       showcasectl webhooks redeliver EVENT_ID [--endpoint ID]\n"
	"       showcasectl webhooks enable ID\n"
	"event types: video.uploaded video.processing video.processed "
	"video.failed video.deleted\n";

#define URL_MAX 2000	/* characters, as the table allows */

/* The event types an endpoint may subscribe to (the events table's). */
static const char *const event_types[] = {
	"video.uploaded", "video.processing", "video.processed", "video.failed",
	"video.deleted",
};
#define NTYPES (sizeof(event_types) / sizeof(event_types[0]))

/* $1 url, $2 secret, $3 the types with commas (NULL: all). */
static const char add_sql[] =
	"INSERT INTO webhook_endpoints (url, secret, event_types)"
	" VALUES ($1, $2, string_to_array($3, ',')) RETURNING id";

enum { L_ID, L_ENABLED, L_EVENTS, L_PENDING, L_FAILED, L_DELIVERED, L_URL,
       L_REASON };

static const char list_sql[] =
	"SELECT e.id, e.enabled,"
	" CASE WHEN e.event_types IS NULL THEN 'all'"
	"  WHEN cardinality(e.event_types) = 0 THEN 'none'"
	"  ELSE array_to_string(e.event_types, ',') END,"
	" count(d.endpoint_id) FILTER (WHERE d.state = 'pending'),"
	" count(d.endpoint_id) FILTER (WHERE d.state = 'failed'),"
	" count(d.endpoint_id) FILTER (WHERE d.state = 'delivered'),"
	" e.url, e.disabled_reason "
	"FROM webhook_endpoints e"
	" LEFT JOIN webhook_deliveries d ON d.endpoint_id = e.id "
	"GROUP BY e.id ORDER BY e.id";

static const char rm_sql[] =
	"DELETE FROM webhook_endpoints WHERE id = $1::bigint RETURNING id";

/* One row "was it enabled before" when the endpoint exists. */
static const char enable_sql[] =
	"UPDATE webhook_endpoints e SET enabled = true, disabled_reason = NULL"
	" FROM (SELECT id, enabled FROM webhook_endpoints WHERE id = $1::bigint"
	"  FOR UPDATE) old"
	" WHERE e.id = old.id RETURNING old.enabled";

static const char endpoint_sql[] =
	"SELECT enabled FROM webhook_endpoints WHERE id = $1::bigint";

/*
 * $1 the event, $2 the endpoint (NULL: all).  No row when there is no
 * such event, else the deliveries made pending again and those added.
 * Both CTEs see the table as it was before the statement: a delivery
 * reset is not added again; ON CONFLICT covers one added meanwhile.
 */
static const char redeliver_sql[] =
	"WITH ev AS (SELECT id, type FROM events WHERE id = $1::bigint),"
	"reset AS ("
	" UPDATE webhook_deliveries d SET state = 'pending', next_at = now()"
	" FROM ev WHERE d.event_id = ev.id"
	"  AND ($2::bigint IS NULL OR d.endpoint_id = $2::bigint)"
	" RETURNING 1),"
	"added AS ("
	" INSERT INTO webhook_deliveries (event_id, endpoint_id)"
	" SELECT ev.id, e.id FROM ev JOIN webhook_endpoints e"
	"  ON e.enabled AND (e.event_types IS NULL OR ev.type = ANY (e.event_types))"
	" WHERE ($2::bigint IS NULL OR e.id = $2::bigint)"
	"  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d"
	"   WHERE d.event_id = ev.id AND d.endpoint_id = e.id)"
	" ON CONFLICT DO NOTHING RETURNING 1) "
	"SELECT (SELECT count(*) FROM reset), (SELECT count(*) FROM added) FROM ev";

/* s as a row id (1 to 2^63-1); 0 when it is not one. */
static long long row_id(const char *s)
{
	char *end;
	long long v;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoll(s, &end, 10);
	return *end || errno || v < 1 ? 0 : v;
}

/* An endpoint URL: "http://" or "https://" and a host, printable ASCII. */
static int valid_url(const char *url)
{
	size_t i, scheme = !strncmp(url, "https://", 8) ? 8
			 : !strncmp(url, "http://", 7) ? 7 : 0;

	if (!scheme || !url[scheme] || url[scheme] == '/')
		return 0;
	for (i = 0; url[i]; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return 0;
	return i <= URL_MAX;
}

/*
 * The comma list as the types it names, in the order given, each once,
 * into out ("a,b").  SC_ERR_INVALID with the first unknown (or empty)
 * name in bad.
 */
static enum sc_err parse_events(const char *list, struct buf *out, struct buf *bad)
{
	const char *p = list, *comma;
	size_t len, k;
	int seen[NTYPES] = { 0 };

	for (;;) {
		comma = strchr(p, ',');
		len = comma ? (size_t)(comma - p) : strlen(p);
		for (k = 0; k < NTYPES; k++)
			if (strlen(event_types[k]) == len &&
			    !memcmp(event_types[k], p, len))
				break;
		if (k == NTYPES) {
			buf_append(bad, p, len);
			return SC_ERR_INVALID;
		}
		if (!seen[k] && (buf_appends(out, out->len ? "," : "") ||
				 buf_appends(out, event_types[k])))
			return SC_ERR_NOMEM;
		seen[k] = 1;
		if (!comma)
			return SC_OK;
		p = comma + 1;
	}
}

/* A db handle, or NULL after saying so. */
static struct db *open_db(const struct config *cfg)
{
	struct db *db = db_open(cfg);

	if (!db)
		fprintf(stderr, "showcasectl: out of memory\n");
	return db;
}

/* Run sql; on failure say why and return 1. */
static int run(struct db *db, const char *sql, int n, const char *const *params,
	       PGresult **res)
{
	if (!db_exec_prepared(db, sql, n, params, res))
		return 0;
	fprintf(stderr, "showcasectl: postgresql: %s\n", db_errstr(db));
	return 1;
}

/* ------------------------------------------------------------------------
 * webhooks add
 */

static int cmd_add(const struct config *cfg, int argc, char **argv)
{
	struct buf types = BUF_INIT(256), bad = BUF_INIT(256);
	char secret[WEBHOOK_SECRET_MAX];
	const char *url = NULL, *events = NULL, *params[3];
	PGresult *res = NULL;
	struct db *db = NULL;
	enum sc_err err;
	int i, status = 2;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--events") && i + 1 < argc && !events) {
			events = argv[++i];
		} else if (argv[i][0] != '-' && !url) {
			url = argv[i];
		} else {
			fprintf(stderr, "showcasectl: webhooks add: bad argument '%s'\n",
				argv[i]);
			goto usage;
		}
	}
	if (!url || !valid_url(url)) {
		fprintf(stderr, "showcasectl: webhooks add: %s%s%s\n",
			url ? "'" : "", url ? url : "URL missing",
			url ? "' is not an http:// or https:// URL of at most "
			      "2000 printable ASCII characters" : "");
		goto usage;
	}
	if (events && (err = parse_events(events, &types, &bad))) {
		if (err == SC_ERR_NOMEM) {
			fprintf(stderr, "showcasectl: out of memory\n");
			status = 1;
			goto out;
		}
		fprintf(stderr, "showcasectl: webhooks add: unknown event type "
			"'%s'\n", bad.data ? bad.data : "");
		goto usage;
	}
	status = 1;
	if (sodium_init() < 0) {
		fprintf(stderr, "showcasectl: cannot initialise libsodium\n");
		goto out;
	}
	webhook_new_secret(secret);
	params[0] = url;
	params[1] = secret;
	params[2] = events ? types.data : NULL;
	if (!(db = open_db(cfg)) || run(db, add_sql, 3, params, &res))
		goto out;
	printf("added endpoint %s %s %s\n%s\n", PQgetvalue(res, 0, 0),
	       events ? types.data : "all", url, secret);
	status = 0;
	goto out;
usage:
	fputs(usage, stderr);
out:
	sodium_memzero(secret, sizeof(secret));
	PQclear(res);
	db_free(db);
	buf_release(&bad);
	buf_release(&types);
	return status;
}

/* ------------------------------------------------------------------------
 * webhooks list
 */

static int cmd_list(const struct config *cfg, int argc)
{
	PGresult *res = NULL;
	struct db *db;
	char reason[512];
	int i, status = 1;
	size_t j;

	if (argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (!(db = open_db(cfg)) || run(db, list_sql, 0, NULL, &res))
		goto out;
	for (i = 0; i < PQntuples(res); i++) {
		/* one line per endpoint, whatever the reason holds */
		snprintf(reason, sizeof(reason), "%s", PQgetvalue(res, i, L_REASON));
		for (j = 0; reason[j]; j++)
			if ((unsigned char)reason[j] < 0x20 || reason[j] == 0x7f)
				reason[j] = '?';
		printf("%s %s %s %s %s %s %s%s%s\n", PQgetvalue(res, i, L_ID),
		       PQgetvalue(res, i, L_ENABLED)[0] == 't' ? "yes" : "no",
		       PQgetvalue(res, i, L_EVENTS), PQgetvalue(res, i, L_PENDING),
		       PQgetvalue(res, i, L_FAILED), PQgetvalue(res, i, L_DELIVERED),
		       PQgetvalue(res, i, L_URL), reason[0] ? " " : "", reason);
	}
	status = 0;
out:
	PQclear(res);
	db_free(db);
	return status;
}

/* ------------------------------------------------------------------------
 * webhooks rm, enable
 */

/* rm or enable ID: one statement on the endpoint. */
static int cmd_endpoint(const struct config *cfg, const char *cmd, int argc,
			char **argv)
{
	int enable = !strcmp(cmd, "enable"), status = 1;
	PGresult *res = NULL;
	struct db *db;

	if (argc != 1 || !row_id(argv[0])) {
		if (argc == 1)
			fprintf(stderr, "showcasectl: webhooks %s: '%s' is not an "
				"endpoint id\n", cmd, argv[0]);
		fputs(usage, stderr);
		return 2;
	}
	if (!(db = open_db(cfg)) ||
	    run(db, enable ? enable_sql : rm_sql, 1, (const char *const *)argv, &res))
		goto out;
	if (PQntuples(res) != 1) {
		fprintf(stderr, "showcasectl: webhooks %s: no such endpoint %s\n",
			cmd, argv[0]);
		goto out;
	}
	if (!enable)
		printf("removed endpoint %s and its deliveries\n", argv[0]);
	else if (PQgetvalue(res, 0, 0)[0] == 't')
		printf("endpoint %s was enabled already\n", argv[0]);
	else
		printf("enabled endpoint %s\n", argv[0]);
	status = 0;
out:
	PQclear(res);
	db_free(db);
	return status;
}

/* ------------------------------------------------------------------------
 * webhooks redeliver
 */

static int cmd_redeliver(const struct config *cfg, int argc, char **argv)
{
	const char *params[2] = { NULL, NULL };
	PGresult *res = NULL, *ep = NULL;
	struct db *db = NULL;
	long long reset, added;
	int i, status = 1;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--endpoint") && i + 1 < argc && !params[1] &&
		    row_id(argv[i + 1])) {
			params[1] = argv[++i];
		} else if (!params[0] && row_id(argv[i])) {
			params[0] = argv[i];
		} else {
			fprintf(stderr, "showcasectl: webhooks redeliver: bad argument "
				"'%s'\n%s", argv[i], usage);
			return 2;
		}
	}
	if (!params[0]) {
		fprintf(stderr, "showcasectl: webhooks redeliver: EVENT_ID missing\n%s",
			usage);
		return 2;
	}
	if (!(db = open_db(cfg)))
		goto out;
	if (params[1]) {
		if (run(db, endpoint_sql, 1, params + 1, &ep))
			goto out;
		if (PQntuples(ep) != 1) {
			fprintf(stderr, "showcasectl: webhooks redeliver: no such "
				"endpoint %s\n", params[1]);
			goto out;
		}
		if (PQgetvalue(ep, 0, 0)[0] != 't')
			fprintf(stderr, "showcasectl: warning: endpoint %s is disabled: "
				"nothing is delivered to it until `showcasectl webhooks "
				"enable %s`\n", params[1], params[1]);
	}
	if (run(db, redeliver_sql, 2, params, &res))
		goto out;
	if (PQntuples(res) != 1) {
		fprintf(stderr, "showcasectl: webhooks redeliver: no such event %s\n",
			params[0]);
		goto out;
	}
	reset = atoll(PQgetvalue(res, 0, 0));
	added = atoll(PQgetvalue(res, 0, 1));
	printf("event %s: %lld deliver%s pending (%lld again, %lld new)\n",
	       params[0], reset + added, reset + added == 1 ? "y" : "ies", reset,
	       added);
	status = 0;
out:
	PQclear(ep);
	PQclear(res);
	db_free(db);
	return status;
}

int ctl_webhooks(const struct config *cfg, int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "add"))
		return cmd_add(cfg, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "list"))
		return cmd_list(cfg, argc - 1);
	if (argc >= 1 && (!strcmp(argv[0], "rm") || !strcmp(argv[0], "enable")))
		return cmd_endpoint(cfg, argv[0], argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "redeliver"))
		return cmd_redeliver(cfg, argc - 1, argv + 1);
	if (argc >= 1)
		fprintf(stderr, "showcasectl webhooks: unknown command '%s'\n", argv[0]);
	fputs(usage, stderr);
	return 2;
}
