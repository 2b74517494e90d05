/*
 * config.h - configuration from environment variables.
 *
 * Invariants: every variable the programs read is one row of the table in
 * config.c (name, default, bounds, which programs use it, help text);
 * nothing else in the project calls getenv() for settings.  A loaded
 * struct config holds only validated values.
 *
 * Life cycle: config_load() once at start-up, before threads; read the
 * fields; config_free() at exit.  On failure the program prints the
 * message (it names each bad variable) and exits non-zero.
 */
#ifndef SC_CONFIG_H
#define SC_CONFIG_H

#include <stdio.h>

#include "buf.h"
#include "error.h"

/* Which program a variable belongs to (a variable may belong to several). */
enum {
	CFG_API = 1 << 0,
	CFG_WORKER = 1 << 1,
	CFG_CTL = 1 << 2,
	CFG_TRANSCODE = 1 << 3,		/* showcase-transcode */
	CFG_ALL = CFG_API | CFG_WORKER | CFG_CTL
};

struct config {
	int log_level;			/* enum log_level */
	char *database_url;
	char *redis_url;
	char *queue_prefix;
	char *s3_endpoint;		/* "" means AWS's regional endpoint */
	char *s3_bucket;
	char *s3_region;
	int s3_force_path_style;	/* -1: automatic (S3_FORCE_PATH_STYLE empty) */
	char *aws_access_key_id;	/* "" when unset */
	char *aws_secret_access_key;
	char *aws_session_token;
	char *aws_imds_endpoint;	/* instance metadata service */
	char *cloudwatch_endpoint;	/* "" : AWS's, in S3_REGION */
	int backlog_per_worker_target;	/* the worker group's target */
	int s3_part_size_mb;
	int s3_parts_in_flight;
	int s3_single_put_max_mb;
	int s3_max_attempts;
	int s3_stall_timeout_ms;
	int s3_presign_ttl_s;
	int hls_presign_ttl_s;		/* the media files in HLS playlists */
	int connect_timeout_ms;
	int db_statement_timeout_ms;	/* a PostgreSQL statement's deadline */
	char *api_host;
	int api_port;
	int api_threads;		/* HTTP event loops */
	int api_workers;		/* threads for routes that wait on I/O */
	int api_hash_workers;		/* threads for password hashing; 0: CPUs */
	int api_queue_timeout_ms;	/* longest wait for one of those */
	char *jwt_secret;
	int jwt_ttl_s;			/* a login token's lifetime */
	int api_demo;			/* allows the well-known demo secret */
	char *api_cors_origins;		/* comma-separated; "" : no CORS */
	int api_portal;			/* serve the portal at / */
	char *api_portal_dir;		/* the portal's files */
	int api_max_upload_mb;
	int api_upload_part_mb;		/* part buffer of one upload */
	int api_tus_expiry_s;		/* a resumable upload lives this long */
	int api_tus_sweep_s;		/* expired ones are removed this often */
	int api_direct_url_ttl_s;	/* a presigned POST lives this long */
	int api_upload_slots;		/* uploads streaming at once */
	int api_body_timeout_s;		/* a JSON body must arrive within */
	int api_upload_timeout_s;	/* an upload must arrive within */
	int api_rankings_cache_s;
	int api_argon2_ops;
	int api_argon2_mem_kb;
	int api_max_connections_per_ip;
	int api_min_body_rate_bps;	/* 0: no minimum */
	int api_min_rate_grace_s;	/* before the minimum applies */
	int api_uploads_per_user;	/* at once; 0: no limit */
	int api_upload_wait_s;		/* for a slot, before 503 */
	int api_idle_timeout_s;		/* a connection sending nothing */
	int api_grace_s;		/* SIGTERM: time to finish requests */
	int api_sse_max;		/* live status streams open at once */
	char *api_metrics_addr;		/* "host:port"; "" : the main port */
	int api_rate_limits;		/* 0: every rate limit off */
	char *api_trusted_proxies;	/* CIDRs whose X-Forwarded-For counts */
	char *api_limit_signup_ip;	/* rates: "N/UNIT" (config_parse_rate) */
	char *api_limit_login_ip;
	char *api_limit_login_account;
	char *api_limit_vote_ip;
	char *api_limit_vote_account;
	char *api_limit_upload_ip;
	char *api_limit_upload_account;
	int api_login_free_failures;	/* before the growing lock */
	int api_login_backoff_max_s;	/* the longest lock */
	int api_videos_per_day;		/* uploads in 24 h; 0: no quota */
	int api_videos_max;		/* videos a player has; 0: no quota */
	char *api_vote_audit_key;	/* "" : derived from jwt_secret */
	int api_local_accounts;		/* 0: no signup, login, local tokens */
	char *api_oidc_issuer;		/* "" : no external identities */
	char *api_oidc_audience;	/* the app client id */
	char *api_oidc_jwks_url;	/* "" : from the discovery document */
	int api_oidc_leeway_s;		/* clock skew allowed on exp and nbf */
	int api_oidc_jwks_refresh_s;	/* periodic refresh of the key set */
	int api_oidc_jwks_timeout_ms;	/* one fetch's deadline */
	int worker_concurrency;
	int worker_heartbeat_ms;
	int worker_lease_ms;
	int worker_job_timeout_s;	/* hard deadline of one transcode */
	int worker_grace_s;		/* SIGTERM: time to finish jobs */
	int worker_max_attempts;
	int worker_max_crashes;		/* expired leases before dead */
	int worker_retry_base_ms;
	int worker_retry_cap_ms;
	int worker_memory_mb;		/* address space of one transcode */
	int worker_reconcile_s;
	int video_stuck_after_s;	/* unfinished this long: stuck */
	char *worker_tmp_dir;
	char *worker_transcoder;	/* "" : next to the worker binary */
	char *worker_transcode_user;	/* "" : the worker's own (root only) */
	char *worker_metrics_host;
	int worker_metrics_port;	/* 0: no metrics endpoint */
	/* the webhook dispatcher (worker/dispatch.h) */
	int webhook_dispatch;		/* 0: this worker sends none */
	int webhook_poll_ms;
	int webhook_batch;		/* deliveries claimed at once */
	int webhook_timeout_ms;		/* one request; the claim is twice it */
	int webhook_retry_base_ms;	/* first retry; the schedule keeps its ratios */
	int webhook_allow_link_local;
	int events_retention_days;
	char *events_sns_topic_arn;	/* "" : no SNS sink (worker/sns.h) */
	char *events_sns_endpoint;	/* "" : AWS's, in the topic's region */
	char *migrations_dir;
	/* the pipeline (worker and showcase-transcode) */
	int transcode_max_s;		/* keep at most this much of the source */
	int transcode_max_fps;
	int transcode_crf;
	char *transcode_preset;
	int transcode_card_ms;		/* each of the opening and closing cards */
	char *hls_ladder;		/* hls_ladder.h: "off", "", WxH@KBPS,... */
	int hls_segment_s;		/* segment length, seconds */
	char *watermark_logo;		/* "" means the built-in logo */
	char *watermark_position;	/* top-left, ..., bottom-right */
	int watermark_opacity;		/* percent */
	int watermark_size;		/* logo height, percent of 720 */
	/* the acceptance policy */
	char *policy_containers;	/* comma-separated */
	char *policy_codecs;
	int policy_max_mb;
	int policy_min_s;
	int policy_max_s;
	int policy_min_short_side;
	int policy_max_pixels;		/* coded width x height */
};

/* Where values come from: getenv() in the programs, a table in tests. */
typedef const char *(*config_getter)(const char *name, void *arg);

/*
 * Fill c from the environment with the variables of the programs in
 * `who`; others get their defaults.  On SC_ERR_CONFIG, err holds one
 * line per bad variable ("API_PORT: must be between 1 and 65535, got
 * 'abc'") and c holds nothing that needs freeing.  On SC_OK the caller
 * owns c and releases it with config_free().
 */
enum sc_err config_load(struct config *c, unsigned who, struct buf *err);
enum sc_err config_load_from(struct config *c, unsigned who,
			     config_getter get, void *arg, struct buf *err);

void config_free(struct config *c);

/*
 * Is the variable whose name is the first len bytes of name one that a
 * program in `who` reads?  (The worker passes a transcode exactly these.)
 */
int config_var_used_by(const char *name, size_t len, unsigned who);

/*
 * A rate "N/UNIT" (UNIT s, m, h or d: N per second, minute, hour, day) or
 * "0" (off, *count 0).  0, or -1 when s is neither.
 */
int config_parse_rate(const char *s, long *count, long long *period_ms);

/*
 * Split "ADDRESS:PORT" (an IPv4 address, or an IPv6 one in brackets) into
 * host (cap bytes) and port.  0 on success, -1 when v is not that.
 */
int config_split_hostport(const char *v, char *host, size_t cap, int *port);

/*
 * May an identity provider's issuer or keys be fetched from URL v?  An
 * https:// URL, or http:// on loopback (http://127.0.0.1, localhost,
 * [::1]) for a local provider; the keys decide who a player is, so they
 * never cross a network in the clear (OpenID Connect Discovery 1.0,
 * section 3: jwks_uri is https).  NULL when v is empty or such a URL,
 * else the reason (a static string).
 */
const char *config_check_key_url(const char *v);

/* Log the effective settings of `who`, secrets masked, at info level. */
void config_log(const struct config *c, unsigned who);

/* Print the table (name, default, programs, meaning) as Markdown rows. */
void config_print_markdown(FILE *out);

#endif
