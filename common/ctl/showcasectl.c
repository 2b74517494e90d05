/*
 * showcasectl - the operators' tool.
 *
 *   showcasectl migrate [up]        apply pending migrations
 *   showcasectl migrate down [N]    revert the N newest (default 1)
 *   showcasectl migrate status      list migrations, applied or pending
 *   showcasectl health              probe PostgreSQL, Redis and S3
 *   showcasectl config              print the configuration table
 *   showcasectl s3 ...              S3 operations (see ctl_s3.c)
 *   showcasectl queue ...           the job queue (see ctl_queue.c)
 *   showcasectl videos ...          stuck videos, the reconciler (ctl_videos.c)
 *   showcasectl votes ...           the vote audit: suspicious videos, voiding
 *                                   a network's votes (ctl_votes.c)
 *   showcasectl webhooks ...        webhook endpoints and deliveries
 *                                   (ctl_webhooks.c)
 *
 * Exit codes: 0 success, 1 the operation failed, 2 usage or
 * configuration error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "config.h"
#include "ctl.h"
#include "health.h"
#include "log.h"
#include "migrate.h"

static const char usage[] =
	"usage: showcasectl migrate [up | down [N] | status]\n"
	"       showcasectl health\n"
	"       showcasectl config\n"
	"       showcasectl s3 put|get|head|rm|presign ...\n"
	"       showcasectl queue stats|list|show|dead|retry|retry-dead|purge-dead|enqueue ...\n"
	"       showcasectl videos stuck|reconcile ...\n"
	"       showcasectl votes suspicious|void ...\n"
	"       showcasectl webhooks add|list|rm|redeliver|enable ...\n";

static int cmd_migrate(const struct config *cfg, int argc, char **argv)
{
	struct buf errmsg = BUF_INIT(4096);
	const char *sub = argc > 0 ? argv[0] : "up";
	struct db *db = db_open(cfg);
	enum sc_err err;
	int n = 0, steps = 1;
	char *end;

	if (!db) {
		fprintf(stderr, "showcasectl: out of memory\n");
		return 1;
	}
	if (strcmp(sub, "up") == 0) {
		err = migrate_up(db, cfg->migrations_dir, &n, &errmsg);
		if (!err)
			printf("applied %d migration%s\n", n, n == 1 ? "" : "s");
	} else if (strcmp(sub, "down") == 0) {
		if (argc > 1) {
			steps = (int)strtol(argv[1], &end, 10);
			if (*end || steps < 1 || steps > 999) {
				fprintf(stderr, "showcasectl: migrate down: N must be "
					"a number from 1 to 999, got '%s'\n", argv[1]);
				db_free(db);
				return 2;
			}
		}
		err = migrate_down(db, cfg->migrations_dir, steps, &n, &errmsg);
		if (!err)
			printf("reverted %d migration%s\n", n, n == 1 ? "" : "s");
	} else if (strcmp(sub, "status") == 0) {
		err = migrate_status(db, cfg->migrations_dir, stdout, &errmsg);
	} else {
		fputs(usage, stderr);
		db_free(db);
		return 2;
	}
	if (err)
		fprintf(stderr, "showcasectl: migrate %s: %s\n", sub,
			errmsg.data ? errmsg.data : sc_strerror(err));
	buf_release(&errmsg);
	db_free(db);
	return err ? 1 : 0;
}

static int cmd_health(const struct config *cfg)
{
	struct db *db = db_open(cfg);
	struct s3_client *s3 = s3_client_new(cfg, NULL);
	struct redisconn *rc = NULL;
	cJSON *report = NULL;
	char *text = NULL;
	int ready = 0, status = 1;

	if (redisconn_new(cfg->redis_url, cfg->connect_timeout_ms, &rc)) {
		fprintf(stderr, "showcasectl: REDIS_URL: cannot parse '%s'\n",
			cfg->redis_url);
		goto out;
	}
	if (!db || !s3 || health_check(db, rc, s3, &report, &ready) ||
	    !(text = cJSON_Print(report))) {
		fprintf(stderr, "showcasectl: out of memory\n");
		goto out;
	}
	printf("%s\n", text);
	status = ready ? 0 : 1;
out:
	free(text);
	cJSON_Delete(report);
	redisconn_free(rc);
	s3_client_free(s3);
	db_free(db);
	return status;
}

int main(int argc, char **argv)
{
	struct buf errmsg = BUF_INIT(4096);
	struct config cfg;
	int status;

	log_init("showcasectl", LOG_WARN);
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "config") == 0) {
		config_print_markdown(stdout);
		return 0;
	}
	if (strcmp(argv[1], "migrate") && strcmp(argv[1], "health") &&
	    strcmp(argv[1], "s3") && strcmp(argv[1], "queue") &&
	    strcmp(argv[1], "videos") && strcmp(argv[1], "votes") &&
	    strcmp(argv[1], "webhooks")) {
		fprintf(stderr, "showcasectl: unknown command '%s'\n%s", argv[1],
			usage);
		return 2;
	}
	if (config_load(&cfg, CFG_CTL, &errmsg)) {
		fprintf(stderr, "showcasectl: bad configuration:\n%s",
			errmsg.data ? errmsg.data : "");
		buf_release(&errmsg);
		return 2;
	}
	log_init("showcasectl", cfg.log_level < LOG_WARN ? (enum log_level)cfg.log_level
							 : LOG_WARN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(argv[1], "migrate") == 0)
		status = cmd_migrate(&cfg, argc - 2, argv + 2);
	else if (strcmp(argv[1], "s3") == 0)
		status = ctl_s3(&cfg, argc - 2, argv + 2);
	else if (strcmp(argv[1], "queue") == 0)
		status = ctl_queue(&cfg, argc - 2, argv + 2);
	else if (strcmp(argv[1], "videos") == 0)
		status = ctl_videos(&cfg, argc - 2, argv + 2);
	else if (strcmp(argv[1], "votes") == 0)
		status = ctl_votes(&cfg, argc - 2, argv + 2);
	else if (strcmp(argv[1], "webhooks") == 0)
		status = ctl_webhooks(&cfg, argc - 2, argv + 2);
	else
		status = cmd_health(&cfg);
	curl_global_cleanup();
	config_free(&cfg);
	return status;
}
