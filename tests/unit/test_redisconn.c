/* test_redisconn.c - URL parsing and failure reporting (no server). */
#include <string.h>

#include "redisconn.h"
#include "unit.h"

static void test_redisconn_accepts_urls(void)
{
	static const char *const good[] = {
		"redis://localhost", "redis://127.0.0.1:6380",
		"redis://127.0.0.1:6380/3", "redis://:secret@h:1/0",
		"redis://user:secret@h", "redis://h/",
	};
	struct redisconn *rc;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_INT(redisconn_new(good[i], 1000, &rc), SC_OK);
		CHECK(rc != NULL);
		redisconn_free(rc);
	}
}

static void test_redisconn_rejects_urls(void)
{
	static const char *const bad[] = {
		"http://h", "redis://", "redis://:6379", "redis://h:0",
		"redis://h:70000", "redis://h:12ab", "redis://h/16", "redis://h/x",
	};
	struct redisconn *rc;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rc = (struct redisconn *)1;
		CHECK_INT(redisconn_new(bad[i], 1000, &rc), SC_ERR_INVALID);
		CHECK(rc == NULL);
	}
}

static void test_redisconn_reports_refused_connection(void)
{
	struct redisconn *rc = NULL;

	/* port 1 on loopback: nothing listens there */
	CHECK_INT(redisconn_new("redis://127.0.0.1:1", 500, &rc), SC_OK);
	CHECK_INT(redisconn_ping(rc), SC_ERR_REDIS);
	CHECK(strstr(redisconn_errstr(rc), "cannot connect to redis") != NULL);
	/* a second try fails the same way, without crashing on a dead context */
	CHECK_INT(redisconn_ping(rc), SC_ERR_REDIS);
	redisconn_free(rc);
	redisconn_free(NULL);
}

const struct unit_test test_redisconn_suite[] = {
	UNIT_TEST(test_redisconn_accepts_urls),
	UNIT_TEST(test_redisconn_rejects_urls),
	UNIT_TEST(test_redisconn_reports_refused_connection),
	{ NULL, NULL },
};
