/*
 * ctl_votes.c - `showcasectl votes`: the admin's vote audit, to find a
 * video pushed by manufactured votes and to void those votes.
 *
 *   votes suspicious [--since SECONDS] [--min-votes N] [--json]
 *       the videos with at least N votes (default SUSPICIOUS_MIN_VOTES)
 *       cast in the last SECONDS (default SUSPICIOUS_SINCE_S) that show at
 *       least one sign, counted over those votes only:
 *         burst           the busiest BURST_WINDOW_S seconds (a window
 *                         opening at each vote) hold >= BURST_MIN_VOTES
 *         few_networks    the most common network_hash carries
 *                         >= FEW_NETWORKS_PCT % of the votes (a NULL hash,
 *                         a vote from before the audit, is no network;
 *                         it still counts among the votes)
 *         fresh_accounts  >= FRESH_VOTES_PCT % of the votes come from
 *                         accounts made less than FRESH_ACCOUNT_S seconds
 *                         before they voted
 *       most votes first, at most SUSPICIOUS_LIST_MAX videos.  Text: a
 *       header, then per video one line
 *         VIDEO_ID OWNER VOTES PEAK_MIN NETWORKS TOP_NETWORK TOP_VOTES
 *         FRESH SIGNS TITLE
 *       (PEAK_MIN the busiest window's votes, NETWORKS distinct hashes,
 *       TOP_NETWORK "-" when every vote has a NULL hash, FRESH the votes
 *       of fresh accounts, SIGNS e.g. "burst,few_networks", TITLE last and
 *       cut to TITLE_CUT characters, control characters shown as '?'),
 *       then one line "    network HASH VOTES" for each of its
 *       TOP_NETWORKS busiest networks, to copy into `votes void`.
 *       --json: one array of objects with the same fields (video_id,
 *       title (whole), owner_id, votes, peak_per_minute, networks,
 *       top_network (null when none), top_network_votes,
 *       fresh_account_votes, signs (array), top_networks (array of
 *       {network_hash, votes})).  Nothing flagged: exit 0 with nothing on
 *       stdout in text mode ("[]" with --json) and a line on stderr.
 *   votes void VIDEO_ID --network HASH [--reason TEXT] [--dry-run]
 *       moves the video's votes from network HASH to votes_voided, in one
 *       statement, with voided_by "showcasectl (USER)" (USER: $SUDO_USER
 *       when set, else the effective user's name) and the reason (default
 *       VOID_REASON_DEFAULT); then INCRs the rankings' cache generation
 *       (showcase:rankings:gen) when any vote moved, so that every API
 *       instance stops serving the old counts.  Redis unreachable: the
 *       votes are voided all the same, with a warning (the rankings catch
 *       up within API_RANKINGS_CACHE_S).  --dry-run counts and changes
 *       nothing.  Prints how many votes were voided and how many the video
 *       has left.
 *
 * Exit codes: 0 done, 1 PostgreSQL failed (its message on stderr) or no
 * such video, 2 usage error.
 */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "ctl.h"
#include "db.h"
#include "redisconn.h"
#include "videos.h"

static const char usage[] =
	"usage: showcasectl votes suspicious [--since SECONDS] [--min-votes N] [--json]\n"
	"       showcasectl votes void VIDEO_ID --network HASH [--reason TEXT] [--dry-run]\n";

/* votes suspicious: what is looked at */
#define SUSPICIOUS_SINCE_S	86400
#define SUSPICIOUS_MIN_VOTES	10
#define SUSPICIOUS_LIST_MAX	100
/* the signs */
#define BURST_WINDOW_S		60
#define BURST_MIN_VOTES		10
#define FEW_NETWORKS_PCT	50
#define FRESH_ACCOUNT_S		600
#define FRESH_VOTES_PCT		50
/* the report */
#define TOP_NETWORKS		3
#define TITLE_CUT		40

#define STR_(x) #x
#define STR(x) STR_(x)

/* votes void */
#define VOID_REASON_DEFAULT	"voided by an admin: suspicious network"
#define VOID_REASON_MAX		1000	/* characters, as the table allows */
#define VOIDED_BY_USER_MAX	180	/* bytes; voided_by holds 200 characters */
#define RANKINGS_GEN		"showcase:rankings:gen"

/*
 * One row per flagged video.  $1 the seconds looked back, $2 the votes a
 * video needs, $3 the burst window (s), $4 its votes, $5 the top
 * network's share (%), $6 a fresh account's age (s), $7 the fresh
 * accounts' share (%), $8 the most rows.  The CTE `recent` is read
 * several times, so PostgreSQL computes it once.
 */
enum { C_ID, C_TITLE, C_TITLE_CUT, C_OWNER, C_VOTES, C_PEAK, C_NETWORKS,
       C_NET1, C_N1, C_NET2, C_N2, C_NET3, C_N3, C_FRESH, C_BURST, C_FEW,
       C_FRESH_SIGN };

static const char suspicious_sql[] =
	"WITH recent AS ("
	" SELECT vo.video_id, vo.created_at, vo.network_hash,"
	"  vo.created_at - u.created_at < $6::int * interval '1 second' AS fresh"
	" FROM votes vo JOIN users u ON u.id = vo.user_id"
	" WHERE vo.created_at >= now() - $1::int * interval '1 second'),"
	"busy AS ("
	" SELECT video_id FROM recent GROUP BY video_id HAVING count(*) >= $2::int),"
	"counts AS ("
	" SELECT r.video_id, count(*) AS votes,"
	"  count(DISTINCT r.network_hash) AS networks,"
	"  count(*) FILTER (WHERE r.fresh) AS fresh"
	" FROM recent r JOIN busy b USING (video_id) GROUP BY r.video_id),"
	"peaks AS ("
	" SELECT video_id, max(n) AS peak FROM ("
	"  SELECT r.video_id, count(*) OVER (PARTITION BY r.video_id"
	"   ORDER BY r.created_at RANGE BETWEEN CURRENT ROW"
	"   AND $3::int * interval '1 second' FOLLOWING) AS n"
	"  FROM recent r JOIN busy b USING (video_id)) w"
	" GROUP BY video_id),"
	"nets AS ("
	" SELECT r.video_id, r.network_hash, count(*) AS n,"
	"  row_number() OVER (PARTITION BY r.video_id"
	"   ORDER BY count(*) DESC, r.network_hash) AS pos"
	" FROM recent r JOIN busy b USING (video_id)"
	" WHERE r.network_hash IS NOT NULL"
	" GROUP BY r.video_id, r.network_hash),"
	"tops AS ("
	" SELECT video_id,"
	"  max(network_hash) FILTER (WHERE pos = 1) AS net1,"
	"  max(n) FILTER (WHERE pos = 1) AS n1,"
	"  max(network_hash) FILTER (WHERE pos = 2) AS net2,"
	"  max(n) FILTER (WHERE pos = 2) AS n2,"
	"  max(network_hash) FILTER (WHERE pos = 3) AS net3,"
	"  max(n) FILTER (WHERE pos = 3) AS n3"
	" FROM nets WHERE pos <= 3 GROUP BY video_id),"
	"judged AS ("
	" SELECT c.video_id, c.votes, c.networks, c.fresh, p.peak,"
	"  t.net1, coalesce(t.n1, 0) AS n1, t.net2, t.n2, t.net3, t.n3,"
	"  p.peak >= $4::int AS burst,"
	"  coalesce(t.n1, 0) * 100 >= $5::int * c.votes AS few_networks,"
	"  c.fresh * 100 >= $7::int * c.votes AS fresh_accounts"
	" FROM counts c JOIN peaks p USING (video_id)"
	" LEFT JOIN tops t USING (video_id)) "
	"SELECT j.video_id, v.title, left(v.title, " STR(TITLE_CUT) "), v.user_id, j.votes,"
	" j.peak, j.networks, j.net1, j.n1, j.net2, j.n2, j.net3, j.n3, j.fresh,"
	" j.burst, j.few_networks, j.fresh_accounts "
	"FROM judged j JOIN videos v ON v.id = j.video_id "
	"WHERE j.burst OR j.few_networks OR j.fresh_accounts "
	"ORDER BY j.votes DESC, j.video_id LIMIT $8::int";

/*
 * The video's votes from the network, moved in one statement: no row
 * when there is no such video, else the votes moved and the votes left.
 * The outer SELECT sees the table as it was before the DELETE (one
 * snapshot for the whole statement), hence the subtraction.
 */
static const char void_sql[] =
	"WITH target AS (SELECT id FROM videos WHERE id = $1::uuid),"
	"moved AS ("
	" DELETE FROM votes vo USING target t"
	" WHERE vo.video_id = t.id AND vo.network_hash = $2"
	" RETURNING vo.user_id, vo.video_id, vo.created_at, vo.network_hash,"
	"  vo.agent_hash),"
	"kept AS ("
	" INSERT INTO votes_voided (user_id, video_id, created_at, network_hash,"
	"  agent_hash, voided_by, reason)"
	" SELECT user_id, video_id, created_at, network_hash, agent_hash, $3, $4"
	" FROM moved RETURNING 1) "
	"SELECT (SELECT count(*) FROM kept),"
	" (SELECT count(*) FROM votes WHERE video_id = t.id)"
	" - (SELECT count(*) FROM kept) "
	"FROM target t";

static const char void_dry_sql[] =
	"SELECT count(*) FILTER (WHERE vo.network_hash = $2), count(vo.video_id) "
	"FROM videos v LEFT JOIN votes vo ON vo.video_id = v.id "
	"WHERE v.id = $1::uuid GROUP BY v.id";

/* s as a number from min to max; -1 when it is not one. */
static long number(const char *s, long min, long max)
{
	char *end;
	long v;

	if (!*s)
		return -1;
	v = strtol(s, &end, 10);
	return !*end && v >= min && v <= max ? v : -1;
}

/* A network_hash as the API stores it: 32 lower-case hex characters. */
static int valid_hash(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 32;
}

/* UTF-8 characters in s (continuation bytes not counted). */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int is_true(const PGresult *res, int row, int col)
{
	return PQgetvalue(res, row, col)[0] == 't';
}

/* The signs, in the order they are listed. */
static const struct { int col; const char *name; } sign_cols[] = {
	{ C_BURST, "burst" }, { C_FEW, "few_networks" },
	{ C_FRESH_SIGN, "fresh_accounts" },
};
#define NSIGNS (sizeof(sign_cols) / sizeof(sign_cols[0]))

/* A row's networks: hash and votes, busiest first (NULL hash: none). */
static const int net_cols[TOP_NETWORKS][2] = {
	{ C_NET1, C_N1 }, { C_NET2, C_N2 }, { C_NET3, C_N3 },
};

/* "burst,few_networks,fresh_accounts", or as many as fired. */
static void signs_of(const PGresult *res, int row, char *out, size_t cap)
{
	size_t k, len = 0;
	int n;

	out[0] = '\0';
	for (k = 0; k < NSIGNS; k++) {
		if (!is_true(res, row, sign_cols[k].col))
			continue;
		n = snprintf(out + len, cap - len, "%s%s", len ? "," : "",
			     sign_cols[k].name);
		if (n < 0 || (size_t)n >= cap - len)
			return;
		len += (size_t)n;
	}
}

/* ------------------------------------------------------------------------
 * votes suspicious
 */

static void print_text(const PGresult *res)
{
	char signs[64], title[4 * TITLE_CUT + 1];
	const char *top;
	int i, k;
	size_t j;

	printf("%-36s %8s %6s %8s %8s %-32s %9s %6s %-33s %s\n", "VIDEO_ID",
	       "OWNER", "VOTES", "PEAK_MIN", "NETWORKS", "TOP_NETWORK",
	       "TOP_VOTES", "FRESH", "SIGNS", "TITLE");
	for (i = 0; i < PQntuples(res); i++) {
		signs_of(res, i, signs, sizeof(signs));
		/* one line per video, whatever the title holds */
		snprintf(title, sizeof(title), "%s", PQgetvalue(res, i, C_TITLE_CUT));
		for (j = 0; title[j]; j++)
			if ((unsigned char)title[j] < 0x20 || title[j] == 0x7f)
				title[j] = '?';
		top = PQgetisnull(res, i, C_NET1) ? "-" : PQgetvalue(res, i, C_NET1);
		printf("%-36s %8s %6s %8s %8s %-32s %9s %6s %-33s %s\n",
		       PQgetvalue(res, i, C_ID), PQgetvalue(res, i, C_OWNER),
		       PQgetvalue(res, i, C_VOTES), PQgetvalue(res, i, C_PEAK),
		       PQgetvalue(res, i, C_NETWORKS), top,
		       PQgetvalue(res, i, C_N1), PQgetvalue(res, i, C_FRESH),
		       signs, title);
		for (k = 0; k < TOP_NETWORKS; k++)
			if (!PQgetisnull(res, i, net_cols[k][0]))
				printf("    network %s %s\n",
				       PQgetvalue(res, i, net_cols[k][0]),
				       PQgetvalue(res, i, net_cols[k][1]));
	}
}

/* One flagged video as a JSON object; NULL when out of memory. */
static cJSON *video_json(const PGresult *res, int i)
{
	static const struct { int col; const char *name; } num_cols[] = {
		{ C_OWNER, "owner_id" }, { C_VOTES, "votes" },
		{ C_PEAK, "peak_per_minute" }, { C_NETWORKS, "networks" } };
	cJSON *o = cJSON_CreateObject(), *signs = NULL, *nets = NULL, *n;
	size_t k;
	int ok;

	ok = o && cJSON_AddStringToObject(o, "video_id", PQgetvalue(res, i, C_ID)) &&
	     cJSON_AddStringToObject(o, "title", PQgetvalue(res, i, C_TITLE));
	for (k = 0; ok && k < sizeof(num_cols) / sizeof(num_cols[0]); k++)
		ok = cJSON_AddNumberToObject(o, num_cols[k].name,
				atof(PQgetvalue(res, i, num_cols[k].col))) != NULL;
	ok = ok && (PQgetisnull(res, i, C_NET1)
		    ? cJSON_AddNullToObject(o, "top_network") != NULL
		    : cJSON_AddStringToObject(o, "top_network",
					      PQgetvalue(res, i, C_NET1)) != NULL) &&
	     cJSON_AddNumberToObject(o, "top_network_votes",
				     atof(PQgetvalue(res, i, C_N1))) &&
	     cJSON_AddNumberToObject(o, "fresh_account_votes",
				     atof(PQgetvalue(res, i, C_FRESH))) &&
	     (signs = cJSON_AddArrayToObject(o, "signs")) &&
	     (nets = cJSON_AddArrayToObject(o, "top_networks"));
	for (k = 0; ok && k < NSIGNS; k++)
		if (is_true(res, i, sign_cols[k].col))
			ok = cJSON_AddItemToArray(signs,
					cJSON_CreateString(sign_cols[k].name));
	for (k = 0; ok && k < TOP_NETWORKS; k++) {
		if (PQgetisnull(res, i, net_cols[k][0]))
			break;
		ok = (n = cJSON_CreateObject()) && cJSON_AddItemToArray(nets, n) &&
		     cJSON_AddStringToObject(n, "network_hash",
					     PQgetvalue(res, i, net_cols[k][0])) &&
		     cJSON_AddNumberToObject(n, "votes",
					     atof(PQgetvalue(res, i, net_cols[k][1])));
	}
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* The flagged videos as one JSON array on stdout; 1 when out of memory. */
static int print_json(const PGresult *res)
{
	cJSON *list = cJSON_CreateArray(), *o;
	char *text = NULL;
	int i, ok = list != NULL;

	for (i = 0; ok && i < PQntuples(res); i++)
		ok = (o = video_json(res, i)) && cJSON_AddItemToArray(list, o);
	if (ok && (text = cJSON_Print(list)))
		printf("%s\n", text);
	else
		fprintf(stderr, "showcasectl: out of memory\n");
	free(text);
	cJSON_Delete(list);
	return text ? 0 : 1;
}

static int cmd_suspicious(const struct config *cfg, int argc, char **argv)
{
	char since[16], min_votes[16], window[16], burst[16], few[16],
	     fresh_s[16], fresh[16], limit[16];
	const char *params[] = { since, min_votes, window, burst, few, fresh_s,
				 fresh, limit };
	long since_s = SUSPICIOUS_SINCE_S, min_n = SUSPICIOUS_MIN_VOTES;
	PGresult *res = NULL;
	struct db *db;
	int i, json = 0, status;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--since") && i + 1 < argc)
			since_s = number(argv[++i], 1, 366L * 86400);
		else if (!strcmp(argv[i], "--min-votes") && i + 1 < argc)
			min_n = number(argv[++i], 1, 1000000000);
		else
			since_s = -1;
		if (since_s < 0 || min_n < 0) {
			fprintf(stderr, "showcasectl: votes suspicious: bad argument "
				"'%s' (--since takes 1 to 31622400 seconds, "
				"--min-votes a number from 1)\n%s", argv[i], usage);
			return 2;
		}
	}
	snprintf(since, sizeof(since), "%ld", since_s);
	snprintf(min_votes, sizeof(min_votes), "%ld", min_n);
	snprintf(window, sizeof(window), "%d", BURST_WINDOW_S);
	snprintf(burst, sizeof(burst), "%d", BURST_MIN_VOTES);
	snprintf(few, sizeof(few), "%d", FEW_NETWORKS_PCT);
	snprintf(fresh_s, sizeof(fresh_s), "%d", FRESH_ACCOUNT_S);
	snprintf(fresh, sizeof(fresh), "%d", FRESH_VOTES_PCT);
	snprintf(limit, sizeof(limit), "%d", SUSPICIOUS_LIST_MAX);
	if (!(db = db_open(cfg))) {
		fprintf(stderr, "showcasectl: out of memory\n");
		return 1;
	}
	if (db_exec_prepared(db, suspicious_sql, 8, params, &res)) {
		fprintf(stderr, "showcasectl: postgresql: %s\n", db_errstr(db));
		status = 1;
		goto out;
	}
	if (!PQntuples(res))
		fprintf(stderr, "showcasectl: no suspicious videos: none with %ld "
			"votes or more in the last %ld seconds shows a sign\n",
			min_n, since_s);
	status = 0;
	if (json)
		status = print_json(res);
	else if (PQntuples(res))
		print_text(res);
out:
	PQclear(res);
	db_free(db);
	return status;
}

/* ------------------------------------------------------------------------
 * votes void
 */

/* "showcasectl (USER)": who voids, as votes_voided records it. */
static void voided_by(struct buf *out)
{
	const char *user = getenv("SUDO_USER");
	struct passwd *pw;
	char uid[32];

	if (!user || !*user) {
		pw = getpwuid(geteuid());
		snprintf(uid, sizeof(uid), "uid %u", (unsigned)geteuid());
		user = pw && pw->pw_name && *pw->pw_name ? pw->pw_name : uid;
	}
	if (buf_appendf(out, "showcasectl (%.*s)", VOIDED_BY_USER_MAX, user))
		buf_reset(out);
}

/* INCR the rankings' generation; a warning when Redis cannot be told. */
static void bump_rankings(const struct config *cfg)
{
	const char *incr[] = { "INCR", RANKINGS_GEN };
	struct redisconn *rc = NULL;
	redisReply *r = NULL;
	const char *why = NULL;

	if (redisconn_new(cfg->redis_url, cfg->connect_timeout_ms, &rc))
		why = "cannot parse REDIS_URL";
	else if (redisconn_command(rc, &r, 2, incr, NULL))
		why = redisconn_errstr(rc);
	if (why)
		fprintf(stderr, "showcasectl: warning: cannot bump %s in redis: %s; "
			"the rankings may show the old counts for up to "
			"API_RANKINGS_CACHE_S (%d) seconds\n", RANKINGS_GEN, why,
			cfg->api_rankings_cache_s);
	if (r)
		freeReplyObject(r);
	redisconn_free(rc);
}

static int cmd_void(const struct config *cfg, int argc, char **argv)
{
	struct buf by = BUF_INIT(256);
	const char *id = NULL, *hash = NULL, *reason = VOID_REASON_DEFAULT;
	const char *params[4];
	PGresult *res = NULL;
	struct db *db = NULL;
	long n, left;
	int i, dry = 0, status = 1;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run"))
			dry = 1;
		else if (!strcmp(argv[i], "--network") && i + 1 < argc)
			hash = argv[++i];
		else if (!strcmp(argv[i], "--reason") && i + 1 < argc)
			reason = argv[++i];
		else if (argv[i][0] != '-' && !id)
			id = argv[i];
		else {
			fprintf(stderr, "showcasectl: votes void: bad argument '%s'\n",
				argv[i]);
			goto usage;
		}
	}
	if (!id || !videos_valid_id(id)) {
		fprintf(stderr, "showcasectl: votes void: %s%s%s\n",
			id ? "'" : "", id ? id : "VIDEO_ID missing",
			id ? "' is not a video id (a UUID)" : "");
		goto usage;
	}
	if (!hash || !valid_hash(hash)) {
		fprintf(stderr, "showcasectl: votes void: --network takes a "
			"network_hash, 32 lower-case hex characters (as `votes "
			"suspicious` shows them)%s%s%s\n", hash ? ", got '" : "",
			hash ? hash : "", hash ? "'" : "");
		goto usage;
	}
	if (!*reason || chars(reason) > VOID_REASON_MAX) {
		fprintf(stderr, "showcasectl: votes void: --reason takes 1 to %d "
			"characters\n", VOID_REASON_MAX);
		goto usage;
	}
	voided_by(&by);
	params[0] = id;
	params[1] = hash;
	params[2] = by.data;
	params[3] = reason;
	if (!by.len || !(db = db_open(cfg))) {
		fprintf(stderr, "showcasectl: out of memory\n");
		goto out;
	}
	if (db_exec_prepared(db, dry ? void_dry_sql : void_sql, dry ? 2 : 4,
			     params, &res)) {
		fprintf(stderr, "showcasectl: postgresql: %s\n", db_errstr(db));
		goto out;
	}
	if (PQntuples(res) != 1) {
		fprintf(stderr, "showcasectl: votes void: no such video %s\n", id);
		goto out;
	}
	n = atol(PQgetvalue(res, 0, 0));
	left = atol(PQgetvalue(res, 0, 1));
	if (dry) {
		printf("would void %ld vote%s of video %s from network %s (dry run); "
		       "%ld vote%s now\n", n, n == 1 ? "" : "s", id, hash,
		       left, left == 1 ? "" : "s");
	} else {
		printf("voided %ld vote%s of video %s from network %s; %ld vote%s "
		       "left\n", n, n == 1 ? "" : "s", id, hash, left,
		       left == 1 ? "" : "s");
		fflush(stdout);
		if (n > 0)
			bump_rankings(cfg);
	}
	status = 0;
out:
	PQclear(res);
	db_free(db);
	buf_release(&by);
	return status;
usage:
	fputs(usage, stderr);
	return 2;
}

int ctl_votes(const struct config *cfg, int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "suspicious"))
		return cmd_suspicious(cfg, argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "void"))
		return cmd_void(cfg, argc - 1, argv + 1);
	if (argc >= 1)
		fprintf(stderr, "showcasectl votes: unknown command '%s'\n", argv[0]);
	fputs(usage, stderr);
	return 2;
}
