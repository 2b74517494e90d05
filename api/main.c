/*
 * showcase-api - the HTTP API of Showcase.
 *
 * Reads its configuration from the environment, connects lazily to its
 * dependencies (it starts, and reports not ready, while they are down),
 * serves HTTP from a thread pool, and on SIGTERM or SIGINT stops
 * accepting at once, gives the requests in flight (uploads included)
 * API_GRACE_S to finish, and exits 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "api.h"
#include "http.h"
#include "log.h"
#include "oidc/oidc.h"
#include "password.h"
#include "refusal_memo.h"
#include "portal_files.h"
#include "sse.h"
#include "upload_sweeper.h"

/* The secret the local stack uses; refused unless API_DEMO=1. */
#define DEMO_JWT_SECRET "showcase-demo-secret-do-not-use-in-production"
#define JWT_SECRET_MIN 32

static int check_secret(const struct config *c)
{
	if (!c->jwt_secret[0]) {
		log_error("JWT_SECRET is empty: set it to 32 random bytes or more "
			  "(openssl rand -hex 32)");
		return -1;
	}
	if (!strcmp(c->jwt_secret, DEMO_JWT_SECRET) && !c->api_demo) {
		log_error("JWT_SECRET is the published demo secret; it is accepted "
			  "only with API_DEMO=1");
		return -1;
	}
	if (strlen(c->jwt_secret) < JWT_SECRET_MIN) {
		log_error("JWT_SECRET is shorter than %d bytes", JWT_SECRET_MIN);
		return -1;
	}
	return 0;
}

/* The portal's files, its pages allowed to show media from S3's origin. */
static int portal_open(struct api *api)
{
	struct s3_client *s3 = api_s3_client(api);
	enum sc_err err;

	if (!s3) {
		log_error("cannot start: out of memory");
		return -1;
	}
	err = portal_files_new(api->cfg.api_portal_dir, s3_origin(s3),
			       &api->portal);
	s3_client_free(s3);
	if (err) {
		if (err == SC_ERR_NOMEM)
			log_error("cannot start: out of memory");
		return -1;
	}
	if (api->portal)
		log_info("serving the portal from %s",
			 portal_files_dir(api->portal));
	return 0;
}

static int api_open(struct api *api)
{
	pthread_mutex_init(&api->lock, NULL);
	lcache_init(&api->rankings);
	gate_init(&api->uploads, api->cfg.api_upload_slots,
		  api->cfg.api_upload_wait_s * 1000L);
	peruser_init(&api->uploaders, api->cfg.api_uploads_per_user);
	/* checked by config_load: cannot fail here */
	cidr_parse_list(api->cfg.api_trusted_proxies, &api->trusted, NULL, 0);
	ratelimit_init(&api->limits, &api->cfg);
	api->quota.per_day = api->cfg.api_videos_per_day;
	api->quota.max = api->cfg.api_videos_max;
	fingerprint_key_init(&api->audit_key, api->cfg.api_vote_audit_key,
			     api->cfg.jwt_secret);
	api->creds = awscreds_new(&api->cfg);
	api->upload_refusals = refusal_memo_new();
	if (!api->creds || !api->upload_refusals) {
		log_error("cannot start: out of memory");
		return -1;
	}
	if (api->cfg.api_oidc_issuer[0]) {
		/* the first fetch of the keys runs while the API starts */
		if (!(api->oidc = oidc_new(&api->cfg)) || oidc_start(api->oidc)) {
			log_error("cannot start the identity provider's key "
				  "refresher");
			return -1;
		}
	}
	return api->cfg.api_portal ? portal_open(api) : 0;
}

static void api_close(struct api *api)
{
	sse_stop(api);
	oidc_free(api->oidc);
	deps_free_all(api);
	lcache_free(&api->rankings);
	gate_destroy(&api->uploads);
	peruser_destroy(&api->uploaders);
	refusal_memo_free(api->upload_refusals);
	portal_files_free(api->portal);
	latency_free(&api->m.latency);
	awscreds_free(api->creds);
	pthread_mutex_destroy(&api->lock);
	config_free(&api->cfg);
}

int main(void)
{
	struct buf errmsg = BUF_INIT(4096);
	struct api api = { 0 };
	struct http_server *srv = NULL;
	struct upload_sweeper *sweeper = NULL;
	sigset_t sigs;
	int sig = 0, status = EXIT_FAILURE;

	log_init("api", LOG_INFO);
	if (config_load(&api.cfg, CFG_API, &errmsg)) {
		fprintf(stderr, "showcase-api: bad configuration:\n%s",
			errmsg.data ? errmsg.data : "");
		buf_release(&errmsg);
		return 2;
	}
	log_init("api", (enum log_level)api.cfg.log_level);
	config_log(&api.cfg, CFG_API);
	if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT)) {
		log_error("cannot initialise libsodium or libcurl");
		config_free(&api.cfg);
		return EXIT_FAILURE;
	}

	/* The HTTP threads inherit this mask: only main() takes signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (check_secret(&api.cfg) < 0) {
		config_free(&api.cfg);
		curl_global_cleanup();
		buf_release(&errmsg);
		return 2;
	}
	if (api_open(&api) < 0)
		goto out_close;
	if (sse_start(&api))
		goto out_close;
	if (http_start(&api, &srv))
		goto out_close;
	if (!(sweeper = upload_sweeper_start(&api))) {
		http_stop(srv);
		sse_stop(&api);
		goto out_close;
	}
	log_info("listening on %s:%d with %d threads", api.cfg.api_host,
		 api.cfg.api_port, api.cfg.api_threads);
	sigwait(&sigs, &sig);
	log_info("received %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	upload_sweeper_stop(sweeper);
	http_stop(srv);
	sse_stop(&api);
	log_info("stopped");
	status = EXIT_SUCCESS;

out_close:
	api_close(&api);
	curl_global_cleanup();
	buf_release(&errmsg);
	return status;
}
