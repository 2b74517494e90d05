/*
 * showcase-api - the HTTP API of Showcase.
 *
 * Reads its configuration from the environment, connects lazily to its
 * dependencies (it starts, and reports not ready, while they are down),
 * serves HTTP from a thread pool, and on SIGTERM or SIGINT stops
 * accepting, finishes the requests in flight and exits 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>
#include <sodium.h>

#include "api.h"
#include "http.h"
#include "log.h"

static int api_open(struct api *api)
{
	enum sc_err err;

	pthread_mutex_init(&api->deps.lock, NULL);
	api->deps.db = db_new(api->cfg.database_url, api->cfg.connect_timeout_ms);
	api->deps.s3 = s3_client_new(&api->cfg, NULL);
	err = redisconn_new(api->cfg.redis_url, api->cfg.connect_timeout_ms,
			    &api->deps.redis);
	if (err == SC_ERR_INVALID) {
		log_error("REDIS_URL: cannot parse '%s'", api->cfg.redis_url);
		return -1;
	}
	if (err || !api->deps.db || !api->deps.s3) {
		log_error("cannot set up dependencies: %s", sc_strerror(SC_ERR_NOMEM));
		return -1;
	}
	return 0;
}

static void api_close(struct api *api)
{
	db_free(api->deps.db);
	redisconn_free(api->deps.redis);
	s3_client_free(api->deps.s3);
	pthread_mutex_destroy(&api->deps.lock);
	config_free(&api->cfg);
}

int main(void)
{
	struct buf errmsg = BUF_INIT(4096);
	struct api api = { 0 };
	struct http_server *srv = NULL;
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

	if (api_open(&api) < 0)
		goto out_close;
	if (http_start(&api, &srv))
		goto out_close;
	log_info("listening on %s:%d with %d threads", api.cfg.api_host,
		 api.cfg.api_port, api.cfg.api_threads);
	sigwait(&sigs, &sig);
	log_info("received %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	http_stop(srv);
	log_info("stopped");
	status = EXIT_SUCCESS;

out_close:
	api_close(&api);
	curl_global_cleanup();
	buf_release(&errmsg);
	return status;
}
