/*
 * config.c - the table of environment variables and its loader.
 *
 * Adding a setting: a field in struct config (config.h), a row here, a row
 * in README.md's table (`showcasectl config` prints it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "config.h"
#include "hls_ladder.h"
#include "log.h"
#include "s3.h"
#include "strlist.h"

/* T_TRI: empty (-1, automatic), 0 or 1 */
enum cfg_type { T_STR, T_INT, T_BOOL, T_LEVEL, T_TRI };

struct cfg_var {
	const char *name;
	enum cfg_type type;
	size_t offset;
	const char *def;	/* NULL: required */
	long min, max;		/* T_INT bounds; T_STR: min 1 means non-empty */
	unsigned who;
	int secret;
	/* extra check for strings; returns a message or NULL if fine */
	const char *(*check)(const char *value);
	const char *help;
};

static const char *check_pg_url(const char *v)
{
	if (strncmp(v, "postgres://", 11) && strncmp(v, "postgresql://", 13))
		return "must be a postgresql:// URL";
	return NULL;
}

static const char *check_redis_url(const char *v)
{
	if (strncmp(v, "redis://", 8))
		return "must be a redis:// URL";
	return NULL;
}

static const char *check_http_url(const char *v)
{
	if (v[0] && strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
		return "must be empty or an http:// or https:// URL";
	return NULL;
}

const char *config_check_key_url(const char *v)
{
	static const char *const loopback[] = { "http://127.0.0.1:",
						"http://127.0.0.1/",
						"http://localhost:",
						"http://localhost/",
						"http://[::1]:" };
	size_t i;

	if (!v[0] || !strncmp(v, "https://", 8))
		return NULL;
	for (i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
		if (!strncmp(v, loopback[i], strlen(loopback[i])))
			return NULL;
	return "must be empty or an https:// URL (http:// only on loopback)";
}

/* Empty, or arn:PARTITION:sns:REGION:ACCOUNT:NAME with none of them empty
 * and nothing outside printable ASCII (the ARN goes into a URL's host and
 * a table's text). */
static const char *check_sns_arn(const char *v)
{
	const char *p;
	int colons = 0, empty = 0;

	if (!v[0])
		return NULL;
	for (p = v; *p; p++) {
		if (*p <= ' ' || *p > '~')
			return "must be an SNS topic ARN (printable ASCII, no space)";
		if (*p == ':') {
			colons++;
			empty |= p[1] == ':' || !p[1];
		}
	}
	if (strncmp(v, "arn:", 4) || colons != 5 || empty ||
	    strncmp(strchr(v + 4, ':'), ":sns:", 5) || strlen(v) > 1000)
		return "must be empty or an SNS topic ARN "
		       "(arn:aws:sns:REGION:ACCOUNT:TOPIC)";
	return NULL;
}

int config_split_hostport(const char *v, char *host, size_t cap, int *port)
{
	const char *colon = strrchr(v, ':'), *h = v;
	unsigned char addr[16];
	size_t n = colon ? (size_t)(colon - v) : 0;
	char *end;
	long p;

	if (!colon || !colon[1])
		return -1;
	if (n >= 2 && v[0] == '[' && v[n - 1] == ']') {
		h = v + 1;
		n -= 2;
	}
	if (n == 0 || n >= cap)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (inet_pton(h == v ? AF_INET : AF_INET6, host, addr) != 1)
		return -1;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (*end || errno || p < 1 || p > 65535)
		return -1;
	*port = (int)p;
	return 0;
}

static const char *check_listen_addr(const char *v)
{
	char host[64];
	int port;

	if (v[0] && config_split_hostport(v, host, sizeof(host), &port))
		return "must be empty or ADDRESS:PORT with an IP address "
		       "(127.0.0.1:9465, [::1]:9465)";
	return NULL;
}

int config_parse_rate(const char *s, long *count, long long *period_ms)
{
	static const struct { char unit; long long ms; } units[] = {
		{ 's', 1000LL }, { 'm', 60000LL }, { 'h', 3600000LL },
		{ 'd', 86400000LL },
	};
	char *end;
	long n;
	size_t i;

	if (!strcmp(s, "0")) {
		*count = 0;
		*period_ms = 0;
		return 0;
	}
	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *s < '1' || *s > '9' || n > 1000000 ||
	    end[0] != '/' || !end[1] || end[2])
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (end[1] == units[i].unit) {
			*count = n;
			*period_ms = units[i].ms;
			return 0;
		}
	return -1;
}

static const char *check_rate(const char *v)
{
	long n;
	long long ms;

	if (config_parse_rate(v, &n, &ms))
		return "must be N/UNIT (N from 1 to 1000000, UNIT s, m, h or d: "
		       "30/m is 30 a minute) or 0 (off)";
	return NULL;
}

static const char *check_cidrs(const char *v)
{
	static char why[160];	/* read once, at start-up, before threads */
	struct cidr_list l;

	if (cidr_parse_list(v, &l, why, sizeof(why)))
		return why;
	return NULL;
}

static int in_list(const char *v, const char *list)
{
	return strlist_has(list, v, strlen(v));
}

static const char *check_preset(const char *v)
{
	if (!in_list(v, "ultrafast,superfast,veryfast,faster,fast,medium,slow,"
		     "slower,veryslow"))
		return "must be an x264 preset (ultrafast ... veryslow)";
	return NULL;
}

static const char *check_position(const char *v)
{
	if (!in_list(v, "top-left,top-right,bottom-left,bottom-right"))
		return "must be top-left, top-right, bottom-left or bottom-right";
	return NULL;
}

static const char *check_ladder(const char *v)
{
	static char why[160];	/* read once, at start-up, before threads */
	struct hls_ladder l;

	if (hls_ladder_parse(v, &l, why, sizeof(why)))
		return why;
	return NULL;
}

/* A comma-separated list of lowercase names, no spaces, none empty. */
static const char *check_names(const char *v)
{
	const char *p;

	for (p = v; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '_' || (*p == ',' && p != v && p[1] && p[1] != ',')))
			return "must be comma-separated lowercase names";
	}
	return NULL;
}

#define OFF(f) offsetof(struct config, f)
#define PIPE (CFG_WORKER | CFG_TRANSCODE)

static const struct cfg_var vars[] = {
	{ "LOG_LEVEL", T_LEVEL, OFF(log_level), "info", 0, 0,
	  CFG_ALL | CFG_TRANSCODE, 0, NULL,
	  "error, warn, info or debug" },
	{ "DATABASE_URL", T_STR, OFF(database_url),
	  "postgresql://showcase@127.0.0.1:5432/showcase", 1, 0, CFG_ALL, 1,
	  check_pg_url, "PostgreSQL connection URL (libpq syntax)" },
	{ "REDIS_URL", T_STR, OFF(redis_url), "redis://127.0.0.1:6379/0", 1, 0,
	  CFG_ALL, 1, check_redis_url,
	  "Redis URL: redis://[:password@]host:port[/db]" },
	{ "QUEUE_PREFIX", T_STR, OFF(queue_prefix), "showcase:{q}:", 1, 0,
	  CFG_ALL, 0, NULL, "prefix of every queue key in Redis" },
	{ "S3_ENDPOINT", T_STR, OFF(s3_endpoint), "", 0, 0, CFG_ALL, 0,
	  check_http_url,
	  "S3 endpoint URL; empty for AWS (https://s3.REGION.amazonaws.com)" },
	{ "S3_BUCKET", T_STR, OFF(s3_bucket), NULL, 1, 0, CFG_ALL, 0, NULL,
	  "bucket for originals and processed videos (required)" },
	{ "S3_REGION", T_STR, OFF(s3_region), "us-east-1", 1, 0, CFG_ALL, 0,
	  NULL, "region used in signatures" },
	{ "S3_FORCE_PATH_STYLE", T_TRI, OFF(s3_force_path_style), "", 0, 1,
	  CFG_ALL, 0, NULL,
	  "1: ENDPOINT/BUCKET/KEY; 0: virtual-hosted BUCKET.ENDPOINT/KEY; "
	  "empty: path style when the endpoint's host is an IP address or "
	  "localhost, or the bucket's name has a dot over https, else virtual-hosted" },
	{ "AWS_ACCESS_KEY_ID", T_STR, OFF(aws_access_key_id), "", 0, 0, CFG_ALL,
	  0, NULL, "S3 access key id" },
	{ "AWS_SECRET_ACCESS_KEY", T_STR, OFF(aws_secret_access_key), "", 0, 0,
	  CFG_ALL, 1, NULL, "S3 secret access key" },
	{ "AWS_SESSION_TOKEN", T_STR, OFF(aws_session_token), "", 0, 0, CFG_ALL,
	  1, NULL, "session token that goes with temporary keys" },
	{ "AWS_EC2_METADATA_SERVICE_ENDPOINT", T_STR, OFF(aws_imds_endpoint),
	  "http://169.254.169.254", 1, 0, CFG_ALL, 0, check_http_url,
	  "instance metadata service (IMDSv2), used for role credentials when "
	  "AWS_ACCESS_KEY_ID is empty" },
	{ "S3_PART_SIZE_MB", T_INT, OFF(s3_part_size_mb), "8", 5, 512, CFG_ALL,
	  0, NULL, "part size of multipart uploads, in MiB (S3's minimum is 5)" },
	{ "S3_PARTS_IN_FLIGHT", T_INT, OFF(s3_parts_in_flight), "4", 1, 32,
	  CFG_ALL, 0, NULL,
	  "parts of one upload sent at once; memory per upload is this times the part size" },
	{ "S3_SINGLE_PUT_MAX_MB", T_INT, OFF(s3_single_put_max_mb), "512", 0,
	  5120, CFG_ALL, 0, NULL,
	  "files up to this size (MiB) go in one streamed PUT; bigger files and "
	  "streams go multipart" },
	{ "S3_MAX_ATTEMPTS", T_INT, OFF(s3_max_attempts), "4", 1, 10, CFG_ALL, 0,
	  NULL, "tries per S3 request on 5xx, 429, timeouts and connection errors" },
	{ "S3_STALL_TIMEOUT_MS", T_INT, OFF(s3_stall_timeout_ms), "30000", 1000,
	  600000, CFG_ALL, 0, NULL,
	  "an S3 transfer that moves no byte for this long is failed and retried" },
	{ "S3_PRESIGN_TTL_S", T_INT, OFF(s3_presign_ttl_s), "900", 1, 604800,
	  CFG_ALL, 0, NULL,
	  "lifetime of presigned URLs, in seconds (1–604800, SigV4's week)" },
	{ "HLS_PRESIGN_TTL_S", T_INT, OFF(hls_presign_ttl_s), "21600", 60, 604800,
	  CFG_API, 0, NULL,
	  "lifetime of the presigned media URLs in HLS playlists, long enough "
	  "to watch (60–604800); a URL signed with an instance role's temporary "
	  "keys also ends when those keys do" },
	{ "CONNECT_TIMEOUT_MS", T_INT, OFF(connect_timeout_ms), "2000", 100,
	  60000, CFG_ALL, 0, NULL,
	  "timeout for connecting to PostgreSQL, Redis and S3, and for health checks" },
	{ "DB_STATEMENT_TIMEOUT_MS", T_INT, OFF(db_statement_timeout_ms), "5000",
	  100, 3600000, CFG_ALL, 0, NULL,
	  "deadline of one PostgreSQL statement: the server's statement_timeout, "
	  "and the client gives up 500 ms later (a stalled server) and reconnects; "
	  "migrations have none" },
	{ "CLOUDWATCH_ENDPOINT", T_STR, OFF(cloudwatch_endpoint), "", 0, 0,
	  CFG_CTL, 0, check_http_url,
	  "CloudWatch endpoint for the backlog metric; empty: https://monitoring.S3_REGION.amazonaws.com" },
	{ "BACKLOG_PER_WORKER_TARGET", T_INT, OFF(backlog_per_worker_target),
	  "2", 1, 1000, CFG_CTL, 0, NULL,
	  "the worker group's BacklogPerWorker target (the template writes it); "
	  "with no live worker and jobs waiting, publish-backlog reports more than this" },
	{ "API_HOST", T_STR, OFF(api_host), "127.0.0.1", 1, 0, CFG_API, 0, NULL,
	  "address the API listens on (0.0.0.0 behind a load balancer)" },
	{ "API_PORT", T_INT, OFF(api_port), "8080", 1, 65535, CFG_API, 0, NULL,
	  "TCP port of the API" },
	{ "API_THREADS", T_INT, OFF(api_threads), "8", 1, 256, CFG_API, 0, NULL,
	  "HTTP event loops of the API: they parse, route and answer, and never "
	  "wait on PostgreSQL, Redis, S3 or a password hash" },
	{ "API_WORKERS", T_INT, OFF(api_workers), "16", 1, 1024, CFG_API, 0,
	  NULL,
	  "threads that run the routes waiting on PostgreSQL, Redis or S3 "
	  "(requests in progress at once; each holds a set of connections)" },
	{ "API_HASH_WORKERS", T_INT, OFF(api_hash_workers), "0", 0, 256,
	  CFG_API, 0, NULL,
	  "threads that run signup and login (argon2id, API_ARGON2_MEM_KB each); "
	  "0: one per CPU" },
	{ "API_QUEUE_TIMEOUT_MS", T_INT, OFF(api_queue_timeout_ms), "2000", 10,
	  600000, CFG_API, 0, NULL,
	  "a request that waited this long for one of those threads is answered "
	  "503 instead of run" },
	{ "JWT_SECRET", T_STR, OFF(jwt_secret), "", 0, 0, CFG_API, 1, NULL,
	  "key of the HS256 login tokens, 32 bytes or more (required; "
	  "`openssl rand -hex 32` makes one)" },
	{ "JWT_TTL_S", T_INT, OFF(jwt_ttl_s), "3600", 60, 86400, CFG_API, 0,
	  NULL, "lifetime of a login token (expires_in), in seconds" },
	{ "API_DEMO", T_BOOL, OFF(api_demo), "0", 0, 1, CFG_API, 0, NULL,
	  "1: a local demonstration; the API then accepts the demo JWT secret" },
	{ "API_PORTAL", T_BOOL, OFF(api_portal), "1", 0, 1, CFG_API, 0, NULL,
	  "1: serve the players' portal at /; 0: not (a portal hosted elsewhere)" },
	{ "API_PORTAL_DIR", T_STR, OFF(api_portal_dir), "", 0, 0, CFG_API, 0,
	  NULL,
	  "directory of the portal's files; empty: beside the program, "
	  "../share/showcase/portal (a release, the images) or else "
	  "../api/portal (a build in the repository)" },
	{ "API_CORS_ORIGINS", T_STR, OFF(api_cors_origins), "", 0, 0, CFG_API,
	  0, NULL,
	  "portal origins allowed by CORS, comma-separated (https://vote.example.org); empty: none" },
	{ "API_MAX_UPLOAD_MB", T_INT, OFF(api_max_upload_mb), "100", 1, 5120,
	  CFG_API, 0, NULL, "largest video file accepted by an upload, in MiB" },
	{ "API_UPLOAD_PART_MB", T_INT, OFF(api_upload_part_mb), "5", 5, 64,
	  CFG_API, 0, NULL,
	  "S3 part size of uploads, in MiB (S3's minimum is 5); an upload holds "
	  "one such buffer, and an eighth of one (at least 1 MiB) the client fills meanwhile" },
	{ "API_TUS_EXPIRY_S", T_INT, OFF(api_tus_expiry_s), "86400", 1,
	  2592000, CFG_API, 0, NULL,
	  "a resumable (tus) upload not finished this many seconds after its "
	  "creation expires (Upload-Expires) and is removed with its S3 parts" },
	{ "API_TUS_SWEEP_S", T_INT, OFF(api_tus_sweep_s), "300", 1, 86400,
	  CFG_API, 0, NULL,
	  "how often each API looks for expired resumable and direct uploads to remove" },
	{ "API_DIRECT_URL_TTL_S", T_INT, OFF(api_direct_url_ttl_s), "900", 2,
	  86400, CFG_API, 0, NULL,
	  "a direct upload's presigned S3 POST is valid this many seconds; the "
	  "upload must be completed within twice that, or its object is removed" },
	{ "API_UPLOAD_SLOTS", T_INT, OFF(api_upload_slots), "8", 1, 1024,
	  CFG_API, 0, NULL,
	  "uploads streamed at once, each with a thread of its own for S3; later "
	  "ones wait, paused (memory: this times API_UPLOAD_PART_MB and a ring of "
	  "an eighth of it, at least 1 MiB)" },
	{ "API_BODY_TIMEOUT_S", T_INT, OFF(api_body_timeout_s), "10", 1, 600,
	  CFG_API, 0, NULL,
	  "a JSON request must arrive whole within this many seconds" },
	{ "API_UPLOAD_TIMEOUT_S", T_INT, OFF(api_upload_timeout_s), "900", 10,
	  86400, CFG_API, 0, NULL,
	  "an upload must arrive whole within this many seconds" },
	{ "API_RANKINGS_CACHE_S", T_INT, OFF(api_rankings_cache_s), "10", 0,
	  3600, CFG_API | CFG_CTL, 0, NULL,
	  "rankings are served from Redis for this long; 0: no cache" },
	{ "API_ARGON2_OPS", T_INT, OFF(api_argon2_ops), "2", 1, 10, CFG_API, 0,
	  NULL, "argon2id passes for new password hashes" },
	{ "API_ARGON2_MEM_KB", T_INT, OFF(api_argon2_mem_kb), "19456", 8, 1048576,
	  CFG_API, 0, NULL, "argon2id memory for new password hashes, in KiB" },
	{ "API_MAX_CONNECTIONS_PER_IP", T_INT, OFF(api_max_connections_per_ip),
	  "64", 0, 65536, CFG_API, 0, NULL,
	  "open connections one client address may hold; 0: no limit" },
	{ "API_MIN_BODY_RATE_BPS", T_INT, OFF(api_min_body_rate_bps), "16384",
	  0, 1000000000, CFG_API, 0, NULL,
	  "once API_MIN_RATE_GRACE_S has passed, a request body must arrive at "
	  "this many bytes/s on average or its connection is closed (408); 0: no minimum" },
	{ "API_MIN_RATE_GRACE_S", T_INT, OFF(api_min_rate_grace_s), "10", 1,
	  3600, CFG_API, 0, NULL,
	  "seconds a request body is given before API_MIN_BODY_RATE_BPS applies" },
	{ "API_UPLOADS_PER_USER", T_INT, OFF(api_uploads_per_user), "2", 0,
	  1024, CFG_API, 0, NULL,
	  "uploads one player may have in flight at once, waiting ones included; "
	  "more are refused with 429; 0: no limit" },
	{ "API_UPLOAD_WAIT_S", T_INT, OFF(api_upload_wait_s), "60", 1, 3600,
	  CFG_API, 0, NULL,
	  "an upload waiting for a slot gives up after this many seconds (503 with Retry-After)" },
	{ "API_IDLE_TIMEOUT_S", T_INT, OFF(api_idle_timeout_s), "960", 1, 86400,
	  CFG_API, 0, NULL,
	  "a connection that sends nothing for this long is closed; above the "
	  "load balancer's idle timeout (900 s in deploy/aws)" },
	{ "API_GRACE_S", T_INT, OFF(api_grace_s), "60", 0, 3600, CFG_API, 0,
	  NULL,
	  "on SIGTERM, time for requests in flight (uploads included) to finish before the API exits" },
	{ "API_SSE_MAX", T_INT, OFF(api_sse_max), "1000", 1, 1000000, CFG_API, 0,
	  NULL,
	  "live status streams (GET /api/videos/events) open at once; more are refused with 503" },
	{ "API_METRICS_ADDR", T_STR, OFF(api_metrics_addr), "", 0, 0, CFG_API,
	  0, check_listen_addr,
	  "ADDRESS:PORT of a listener that serves /metrics alone (127.0.0.1:9465); "
	  "empty: /metrics on the API's port" },
	{ "API_RATE_LIMITS", T_BOOL, OFF(api_rate_limits), "1", 0, 1, CFG_API,
	  0, NULL,
	  "0 turns every API_LIMIT_* rate limit and the login lock off "
	  "(quotas stay); for tests and benchmarks, not for a contest" },
	{ "API_TRUSTED_PROXIES", T_STR, OFF(api_trusted_proxies), "", 0, 0,
	  CFG_API, 0, check_cidrs,
	  "networks of the load balancers, comma-separated CIDRs (10.0.0.0/16); "
	  "only from these peers is X-Forwarded-For believed; empty: never" },
	{ "API_LIMIT_SIGNUP_IP", T_STR, OFF(api_limit_signup_ip), "20/h", 1, 0,
	  CFG_API, 0, check_rate,
	  "signups from one client address (an IPv6 /64); N/UNIT (s, m, h, d), "
	  "N at once then refilled evenly; 0: no limit" },
	{ "API_LIMIT_LOGIN_IP", T_STR, OFF(api_limit_login_ip), "30/m", 1, 0,
	  CFG_API, 0, check_rate, "logins from one client address" },
	{ "API_LIMIT_LOGIN_ACCOUNT", T_STR, OFF(api_limit_login_account),
	  "20/h", 1, 0, CFG_API, 0, check_rate,
	  "logins to one account (the email asked for), from anywhere" },
	{ "API_LIMIT_VOTE_IP", T_STR, OFF(api_limit_vote_ip), "120/h", 1, 0,
	  CFG_API, 0, check_rate, "votes from one client address" },
	{ "API_LIMIT_VOTE_ACCOUNT", T_STR, OFF(api_limit_vote_account), "60/h",
	  1, 0, CFG_API, 0, check_rate, "votes by one account" },
	{ "API_LIMIT_UPLOAD_IP", T_STR, OFF(api_limit_upload_ip), "30/h", 1, 0,
	  CFG_API, 0, check_rate, "uploads from one client address" },
	{ "API_LIMIT_UPLOAD_ACCOUNT", T_STR, OFF(api_limit_upload_account),
	  "10/h", 1, 0, CFG_API, 0, check_rate, "uploads by one account" },
	{ "API_LOGIN_FREE_FAILURES", T_INT, OFF(api_login_free_failures), "5",
	  1, 1000, CFG_API, 0, NULL,
	  "wrong passwords for one account before its logins are locked: 1 s "
	  "after the next failure, then 2 s, 4 s, ...; a login that succeeds "
	  "clears the count" },
	{ "API_LOGIN_BACKOFF_MAX_S", T_INT, OFF(api_login_backoff_max_s), "900",
	  1, 86400, CFG_API, 0, NULL, "the longest lock of an account's logins" },
	{ "API_VIDEOS_PER_DAY", T_INT, OFF(api_videos_per_day), "20", 0, 100000,
	  CFG_API, 0, NULL,
	  "uploads one player may make in any 24 hours, deleted videos "
	  "included (429 past it); 0: no quota" },
	{ "API_VIDEOS_MAX", T_INT, OFF(api_videos_max), "100", 0, 1000000,
	  CFG_API, 0, NULL,
	  "videos one player may have (400 past it; deleting one frees room); "
	  "0: no quota" },
	{ "API_VOTE_AUDIT_KEY", T_STR, OFF(api_vote_audit_key), "", 0, 0,
	  CFG_API, 1, NULL,
	  "key of the hashes of voters' networks and browsers kept with each "
	  "vote; change it with each contest; empty: derived from JWT_SECRET" },
	{ "API_LOCAL_ACCOUNTS", T_BOOL, OFF(api_local_accounts), "1", 0, 1,
	  CFG_API, 0, NULL,
	  "1: players may sign up and log in with a password (HS256 tokens); "
	  "0: signup and login answer 404 and only the identity provider's "
	  "tokens are accepted (API_OIDC_ISSUER required)" },
	{ "API_OIDC_ISSUER", T_STR, OFF(api_oidc_issuer), "", 0, 0, CFG_API, 0,
	  config_check_key_url,
	  "OpenID Connect issuer whose RS256 and ES256 tokens the API accepts "
	  "(https://cognito-idp.REGION.amazonaws.com/POOL_ID); its tokens' iss "
	  "must be exactly this; empty: none" },
	{ "API_OIDC_AUDIENCE", T_STR, OFF(api_oidc_audience), "", 0, 0, CFG_API,
	  0, NULL,
	  "the app client id tokens must be for: their aud, or for Cognito "
	  "access tokens client_id (required with API_OIDC_ISSUER)" },
	{ "API_OIDC_JWKS_URL", T_STR, OFF(api_oidc_jwks_url), "", 0, 0, CFG_API,
	  0, config_check_key_url,
	  "the issuer's key set; empty: jwks_uri of the issuer's "
	  "/.well-known/openid-configuration" },
	{ "API_OIDC_LEEWAY_S", T_INT, OFF(api_oidc_leeway_s), "60", 0, 600,
	  CFG_API, 0, NULL,
	  "clock skew allowed on an issuer's tokens' exp and nbf, in seconds (0–600)" },
	{ "API_OIDC_JWKS_REFRESH_S", T_INT, OFF(api_oidc_jwks_refresh_s),
	  "3600", 1, 86400, CFG_API, 0, NULL,
	  "how often the issuer's key set is fetched again (also on a token "
	  "with an unknown kid, at most once a minute); a failed fetch keeps "
	  "the keys in use" },
	{ "API_OIDC_JWKS_TIMEOUT_MS", T_INT, OFF(api_oidc_jwks_timeout_ms),
	  "3000", 100, 60000, CFG_API, 0, NULL,
	  "deadline of one fetch of the issuer's discovery document or key set" },
	{ "WORKER_CONCURRENCY", T_INT, OFF(worker_concurrency), "2", 1, 64,
	  CFG_WORKER, 0, NULL,
	  "jobs one worker process runs at once (2 suits 2 cores: docs/benchmarks.md)" },
	{ "WORKER_HEARTBEAT_MS", T_INT, OFF(worker_heartbeat_ms), "5000", 200,
	  60000, CFG_WORKER, 0, NULL,
	  "how often a worker refreshes its presence record in Redis" },
	{ "WORKER_LEASE_MS", T_INT, OFF(worker_lease_ms), "30000", 1000, 600000,
	  CFG_WORKER, 0, NULL,
	  "a job's lease; renewed every third of it while the job runs" },
	{ "WORKER_JOB_TIMEOUT_S", T_INT, OFF(worker_job_timeout_s), "600", 5,
	  86400, CFG_WORKER, 0, NULL,
	  "a transcode still running after this is killed and retried" },
	{ "WORKER_GRACE_S", T_INT, OFF(worker_grace_s), "60", 0, 3600,
	  CFG_WORKER, 0, NULL,
	  "on SIGTERM, time for running jobs to finish before they are handed back" },
	{ "WORKER_MAX_ATTEMPTS", T_INT, OFF(worker_max_attempts), "5", 1, 100,
	  CFG_WORKER, 0, NULL, "tries of a job that fails transiently before it is dead" },
	{ "WORKER_MAX_CRASHES", T_INT, OFF(worker_max_crashes), "3", 1, 100,
	  CFG_WORKER, 0, NULL, "expired leases (lost workers) before a job is dead" },
	{ "WORKER_RETRY_BASE_MS", T_INT, OFF(worker_retry_base_ms), "2000", 10,
	  3600000, CFG_WORKER, 0, NULL, "first retry delay; doubles per attempt" },
	{ "WORKER_RETRY_CAP_MS", T_INT, OFF(worker_retry_cap_ms), "300000", 10,
	  86400000, CFG_WORKER, 0, NULL, "longest retry delay" },
	{ "WORKER_MEMORY_MB", T_INT, OFF(worker_memory_mb), "2048", 0, 65536,
	  CFG_WORKER, 0, NULL,
	  "address space limit of one transcode process; 0: none (sanitizer builds)" },
	{ "WORKER_RECONCILE_S", T_INT, OFF(worker_reconcile_s), "60", 1, 86400,
	  CFG_WORKER, 0, NULL,
	  "how often unfinished videos without a job are queued again" },
	{ "VIDEO_STUCK_AFTER_S", T_INT, OFF(video_stuck_after_s), "3600", 60,
	  604800, CFG_WORKER | CFG_CTL, 0, NULL,
	  "a video still unfinished this long after its upload counts as stuck "
	  "(metrics, alarm, `showcasectl videos stuck`)" },
	{ "WORKER_TMP_DIR", T_STR, OFF(worker_tmp_dir), "/tmp", 1, 0, CFG_WORKER,
	  0, NULL, "where jobs keep their files while they run" },
	{ "WORKER_TRANSCODER", T_STR, OFF(worker_transcoder), "", 0, 0,
	  CFG_WORKER, 0, NULL,
	  "path of showcase-transcode; empty: next to showcase-worker" },
	{ "WORKER_TRANSCODE_USER", T_STR, OFF(worker_transcode_user), "nobody",
	  0, 0, CFG_WORKER, 0, NULL,
	  "user the transcoder runs as when the worker runs as root; empty: "
	  "the worker's own" },
	{ "WORKER_METRICS_HOST", T_STR, OFF(worker_metrics_host), "127.0.0.1", 1,
	  0, CFG_WORKER, 0, NULL,
	  "address of the worker's /metrics (0.0.0.0 for a scraper elsewhere)" },
	{ "WORKER_METRICS_PORT", T_INT, OFF(worker_metrics_port), "9464", 0,
	  65535, CFG_WORKER, 0, NULL,
	  "port of the worker's /metrics and /health/live; 0: none" },
	{ "WEBHOOK_DISPATCH", T_BOOL, OFF(webhook_dispatch), "1", 0, 1,
	  CFG_WORKER, 0, NULL,
	  "1: this worker runs a webhook dispatcher (any number may run at once); "
	  "0: it sends no webhooks" },
	{ "WEBHOOK_POLL_MS", T_INT, OFF(webhook_poll_ms), "1000", 10, 60000,
	  CFG_WORKER, 0, NULL,
	  "how often the dispatcher looks for due webhook deliveries (at once "
	  "again after a full batch)" },
	{ "WEBHOOK_BATCH", T_INT, OFF(webhook_batch), "20", 1, 1000,
	  CFG_WORKER, 0, NULL,
	  "webhook deliveries a dispatcher claims at a time; it sends them one "
	  "after the other" },
	{ "WEBHOOK_TIMEOUT_MS", T_INT, OFF(webhook_timeout_ms), "10000", 100,
	  120000, CFG_WORKER, 0, NULL,
	  "a webhook request must be answered within this; a claimed delivery is "
	  "hidden from other dispatchers for twice this" },
	{ "WEBHOOK_RETRY_BASE_MS", T_INT, OFF(webhook_retry_base_ms), "5000", 10,
	  3600000, CFG_WORKER, 0, NULL,
	  "first retry delay of a webhook delivery; the later ones (5 min, 30 min, "
	  "2 h, 5 h, 10 h, 24 h at the default) keep their ratio to it" },
	{ "WEBHOOK_ALLOW_LINK_LOCAL", T_BOOL, OFF(webhook_allow_link_local), "0",
	  0, 1, CFG_WORKER, 0, NULL,
	  "1: webhooks may go to link-local addresses (169.254.0.0/16, fe80::/10, "
	  "fd00:ec2::254: the cloud's metadata service); 0: such a delivery is refused unsent" },
	{ "EVENTS_RETENTION_DAYS", T_INT, OFF(events_retention_days), "7", 1,
	  3650, CFG_WORKER, 0, NULL,
	  "events older than this many days are deleted, once each of their "
	  "webhook deliveries is delivered or failed" },
	{ "EVENTS_SNS_TOPIC_ARN", T_STR, OFF(events_sns_topic_arn), "", 0, 0,
	  CFG_WORKER, 0, check_sns_arn,
	  "SNS topic every event is also published to (an endpoint sns:ARN the "
	  "dispatcher adds and sends like a webhook, signed with the AWS keys or "
	  "the instance role); empty: none" },
	{ "EVENTS_SNS_ENDPOINT", T_STR, OFF(events_sns_endpoint), "", 0, 0,
	  CFG_WORKER, 0, check_http_url,
	  "SNS endpoint for EVENTS_SNS_TOPIC_ARN; empty: https://sns.REGION.amazonaws.com, "
	  "REGION the topic's" },
	{ "MIGRATIONS_DIR", T_STR, OFF(migrations_dir), "migrations", 1, 0,
	  CFG_CTL, 0, NULL, "directory of NNN_name.up.sql/.down.sql files" },
	{ "TRANSCODE_MAX_SECONDS", T_INT, OFF(transcode_max_s), "30", 1, 600,
	  PIPE, 0, NULL, "keep at most this many seconds of the source" },
	{ "TRANSCODE_MAX_FPS", T_INT, OFF(transcode_max_fps), "30", 1, 120,
	  PIPE, 0, NULL, "output frame rate: the source's, capped at this" },
	{ "TRANSCODE_CRF", T_INT, OFF(transcode_crf), "23", 0, 51, PIPE, 0,
	  NULL, "x264 constant rate factor (lower: better and bigger)" },
	{ "TRANSCODE_PRESET", T_STR, OFF(transcode_preset), "ultrafast", 1, 0,
	  PIPE, 0, check_preset,
	  "x264 preset; slower ones make smaller files for more CPU (docs/benchmarks.md)" },
	{ "TRANSCODE_CARD_MS", T_INT, OFF(transcode_card_ms), "2500", 0, 2500,
	  PIPE, 0, NULL, "length of the opening card and of the closing card" },
	{ "HLS_LADDER", T_STR, OFF(hls_ladder), "640x360@800", 0, 0, PIPE, 0,
	  check_ladder,
	  "HLS renditions below the 720p one, WxH@KBPS,...; empty: 720p only; "
	  "off: no HLS, the MP4 only" },
	{ "HLS_SEGMENT_S", T_INT, OFF(hls_segment_s), "4", 1, 10, PIPE, 0, NULL,
	  "HLS segment length in seconds; every rendition has a keyframe at each" },
	{ "WATERMARK_LOGO", T_STR, OFF(watermark_logo), "", 0, 0, PIPE, 0, NULL,
	  "PNG or JPEG for the watermark and cards; empty: the built-in logo" },
	{ "WATERMARK_POSITION", T_STR, OFF(watermark_position), "bottom-right",
	  1, 0, PIPE, 0, check_position, "corner of the watermark" },
	{ "WATERMARK_OPACITY", T_INT, OFF(watermark_opacity), "80", 0, 100, PIPE,
	  0, NULL, "watermark opacity, percent" },
	{ "WATERMARK_SIZE", T_INT, OFF(watermark_size), "12", 2, 50, PIPE, 0,
	  NULL, "watermark height, percent of the output height" },
	{ "POLICY_CONTAINERS", T_STR, OFF(policy_containers), "mp4,mov", 1, 0,
	  PIPE, 0, check_names, "accepted containers (mp4, mov, matroska, ...)" },
	{ "POLICY_CODECS", T_STR, OFF(policy_codecs),
	  "h264,hevc,mpeg4,vp9,av1,prores", 1, 0, PIPE, 0, check_names,
	  "accepted video codecs (FFmpeg names)" },
	{ "POLICY_MAX_MB", T_INT, OFF(policy_max_mb), "100", 1, 1000000, PIPE,
	  0, NULL, "largest accepted source, MiB" },
	{ "POLICY_MIN_SECONDS", T_INT, OFF(policy_min_s), "20", 0, 86400, PIPE,
	  0, NULL, "shortest accepted source, seconds" },
	{ "POLICY_MAX_SECONDS", T_INT, OFF(policy_max_s), "60", 1, 86400, PIPE,
	  0, NULL, "longest accepted source, seconds" },
	{ "POLICY_MIN_SHORT_SIDE", T_INT, OFF(policy_min_short_side), "1080", 0,
	  16384, PIPE, 0, NULL,
	  "smallest accepted shorter side of the upright picture, pixels" },
	{ "POLICY_MAX_PIXELS", T_INT, OFF(policy_max_pixels), "9437184", 1,
	  268435456, PIPE, 0, NULL,
	  "largest accepted picture, coded width x height (4096x2304: any 4K "
	  "phone video; a bigger one is refused before it is decoded)" },
};

#define NVARS (sizeof(vars) / sizeof(vars[0]))

static void *field(struct config *c, const struct cfg_var *v)
{
	return (char *)c + v->offset;
}

static const char *type_name(const struct cfg_var *v)
{
	switch (v->type) {
	case T_INT: return "integer";
	case T_BOOL: return "0 or 1";
	case T_TRI: return "empty, 0 or 1";
	default: return "string";
	}
}

/* Parse one value into c; on failure append a line to err. */
static int set_var(struct config *c, const struct cfg_var *v,
		   const char *value, struct buf *err)
{
	const char *msg = NULL;
	char *end;
	long n;
	int lvl;

	switch (v->type) {
	case T_TRI:
		if (!value[0]) {
			*(int *)field(c, v) = -1;
			return 0;
		}
		if (strcmp(value, "0") && strcmp(value, "1")) {
			buf_appendf(err, "%s: must be empty, 0 or 1, got '%s'\n",
				    v->name, value);
			return -1;
		}
		*(int *)field(c, v) = value[0] == '1';
		return 0;
	case T_INT:
	case T_BOOL:
		errno = 0;
		n = strtol(value, &end, 10);
		if (!value[0] || *end || errno || n < v->min || n > v->max) {
			if (v->type == T_BOOL)
				msg = "must be 0 or 1";
			buf_appendf(err, "%s: ", v->name);
			if (msg)
				buf_appends(err, msg);
			else
				buf_appendf(err, "must be an integer between %ld and %ld",
					    v->min, v->max);
			buf_appendf(err, ", got '%s'\n", value);
			return -1;
		}
		*(int *)field(c, v) = (int)n;
		return 0;
	case T_LEVEL:
		lvl = log_level_parse(value);
		if (lvl < 0) {
			buf_appendf(err, "%s: must be error, warn, info or debug, got '%s'\n",
				    v->name, value);
			return -1;
		}
		*(int *)field(c, v) = lvl;
		return 0;
	case T_STR:
		if (v->min && !value[0])
			msg = "must not be empty";
		else if (v->check)
			msg = v->check(value);
		if (msg) {
			buf_appendf(err, "%s: %s, got '%s'\n", v->name, msg,
				    v->secret ? "(hidden)" : value);
			return -1;
		}
		*(char **)field(c, v) = strdup(value);
		if (!*(char **)field(c, v)) {
			buf_appendf(err, "%s: out of memory\n", v->name);
			return -1;
		}
		return 0;
	}
	return -1;
}

static const char *env_getter(const char *name, void *arg)
{
	(void)arg;
	return getenv(name);
}

enum sc_err config_load(struct config *c, unsigned who, struct buf *err)
{
	return config_load_from(c, who, env_getter, NULL, err);
}

enum sc_err config_load_from(struct config *c, unsigned who,
			     config_getter get, void *arg, struct buf *err)
{
	const char *value;
	char why[256];
	int bad = 0;
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NVARS; i++) {
		const struct cfg_var *v = &vars[i];

		if (!(v->who & who)) {
			/* not this program's: keep the default, unchecked */
			if (v->type != T_STR)
				set_var(c, v, v->def, err);
			else if (!(*(char **)field(c, v) = strdup(v->def ? v->def : "")))
				bad = 1;
			continue;
		}
		value = get(v->name, arg);
		if (!value && !v->def) {
			buf_appendf(err, "%s: required, not set (%s)\n",
				    v->name, v->help);
			bad = 1;
			continue;
		}
		if (set_var(c, v, value ? value : v->def, err) < 0)
			bad = 1;
	}
	/* rules across variables */
	if (!bad && !c->aws_access_key_id[0] != !c->aws_secret_access_key[0]) {
		buf_appends(err, "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: set both "
			    "(static keys) or neither (instance role)\n");
		bad = 1;
	}
	if (!bad && s3_path_style(c->s3_endpoint, c->s3_bucket,
				  c->s3_force_path_style, why, sizeof(why)) < 0) {
		buf_appendf(err, "S3_FORCE_PATH_STYLE, S3_ENDPOINT: %s\n", why);
		bad = 1;
	}
	if (!bad && c->api_oidc_issuer[0] && !c->api_oidc_audience[0]) {
		buf_appends(err, "API_OIDC_AUDIENCE: required with API_OIDC_ISSUER "
			    "(the app client id)\n");
		bad = 1;
	}
	if (!bad && !c->api_oidc_issuer[0] &&
	    (c->api_oidc_audience[0] || c->api_oidc_jwks_url[0])) {
		buf_appends(err, "API_OIDC_AUDIENCE, API_OIDC_JWKS_URL: set without "
			    "API_OIDC_ISSUER\n");
		bad = 1;
	}
	if (!bad && !c->api_local_accounts && !c->api_oidc_issuer[0]) {
		buf_appends(err, "API_LOCAL_ACCOUNTS=0 needs API_OIDC_ISSUER: "
			    "otherwise nobody could sign in\n");
		bad = 1;
	}
	if (!bad && c->policy_min_s > c->policy_max_s) {
		buf_appends(err, "POLICY_MIN_SECONDS, POLICY_MAX_SECONDS: the minimum "
			    "is above the maximum\n");
		bad = 1;
	}
	if (bad) {
		config_free(c);
		return SC_ERR_CONFIG;
	}
	return SC_OK;
}

void config_free(struct config *c)
{
	size_t i;

	for (i = 0; i < NVARS; i++) {
		if (vars[i].type == T_STR) {
			free(*(char **)field(c, &vars[i]));
			*(char **)field(c, &vars[i]) = NULL;
		}
	}
}

int config_var_used_by(const char *name, size_t len, unsigned who)
{
	size_t i;

	for (i = 0; i < NVARS; i++)
		if ((vars[i].who & who) && strlen(vars[i].name) == len &&
		    !strncmp(vars[i].name, name, len))
			return 1;
	return 0;
}

void config_log(const struct config *c, unsigned who)
{
	size_t i;

	for (i = 0; i < NVARS; i++) {
		const struct cfg_var *v = &vars[i];
		const void *f = (const char *)c + v->offset;

		if (!(v->who & who))
			continue;
		if (v->type == T_STR)
			log_info("config %s=%s", v->name,
				 v->secret && **(char *const *)f ? "(set)"
								 : *(char *const *)f);
		else if (v->type == T_LEVEL)
			log_info("config %s=%s", v->name,
				 log_level_name(*(const int *)f));
		else if (v->type == T_TRI && *(const int *)f < 0)
			log_info("config %s= (automatic)", v->name);
		else
			log_info("config %s=%d", v->name, *(const int *)f);
	}
}

void config_print_markdown(FILE *out)
{
	static const char *const progs[] = { "api", "worker", "showcasectl",
					     "showcase-transcode" };
	size_t i, p;

	fprintf(out, "| variable | default | type | used by | meaning |\n");
	fprintf(out, "|---|---|---|---|---|\n");
	for (i = 0; i < NVARS; i++) {
		const struct cfg_var *v = &vars[i];
		int first = 1;

		fprintf(out, "| `%s` | %s%s%s | %s | ", v->name,
			v->def && v->def[0] ? "`" : "",
			v->def ? (v->def[0] ? v->def : "(empty)") : "**required**",
			v->def && v->def[0] ? "`" : "", type_name(v));
		for (p = 0; p < sizeof(progs) / sizeof(progs[0]); p++) {
			if (v->who & (1u << p)) {
				fprintf(out, "%s%s", first ? "" : ", ", progs[p]);
				first = 0;
			}
		}
		fprintf(out, " | %s |\n", v->help);
	}
}
