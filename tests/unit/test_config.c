/* test_config.c - loading and validating the environment table. */
#include <string.h>

#include "config.h"
#include "log.h"
#include "unit.h"

/* A fake environment: NULL-terminated name/value pairs. */
static const char *fake_get(const char *name, void *arg)
{
	const char *const *kv = arg;

	for (; kv[0]; kv += 2)
		if (strcmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

static void test_config_defaults(void)
{
	const char *env[] = { "S3_BUCKET", "b", NULL };
	struct buf err = BUF_INIT(4096);
	struct config c;

	CHECK_INT(config_load_from(&c, CFG_API, fake_get, env, &err), SC_OK);
	CHECK_INT(c.api_port, 8080);
	CHECK_INT(c.api_threads, 8);
	CHECK_INT(c.log_level, LOG_INFO);
	CHECK_STR(c.s3_bucket, "b");
	CHECK_STR(c.s3_region, "us-east-1");
	CHECK_STR(c.s3_endpoint, "");
	CHECK_STR(c.queue_prefix, "showcase:{q}:");
	CHECK(err.data == NULL);
	config_free(&c);
	buf_release(&err);
}

static void test_config_values_override(void)
{
	const char *env[] = { "S3_BUCKET", "b", "API_PORT", "9001",
			      "LOG_LEVEL", "debug", "S3_FORCE_PATH_STYLE", "1",
			      "REDIS_URL", "redis://h:1/2", NULL };
	struct buf err = BUF_INIT(4096);
	struct config c;

	CHECK_INT(config_load_from(&c, CFG_API, fake_get, env, &err), SC_OK);
	CHECK_INT(c.api_port, 9001);
	CHECK_INT(c.log_level, LOG_DEBUG);
	CHECK_INT(c.s3_force_path_style, 1);
	CHECK_STR(c.redis_url, "redis://h:1/2");
	config_free(&c);
	buf_release(&err);
}

static void test_config_names_every_bad_variable(void)
{
	const char *env[] = { "API_PORT", "80a", "API_THREADS", "0",
			      "DATABASE_URL", "mysql://x", "LOG_LEVEL", "loud",
			      "S3_FORCE_PATH_STYLE", "yes", NULL };
	struct buf err = BUF_INIT(4096);
	struct config c;

	CHECK_INT(config_load_from(&c, CFG_API, fake_get, env, &err),
		  SC_ERR_CONFIG);
	CHECK(err.data && strstr(err.data, "API_PORT: must be an integer between 1 and 65535, got '80a'"));
	CHECK(err.data && strstr(err.data, "API_THREADS: must be an integer between 1 and 256, got '0'"));
	CHECK(err.data && strstr(err.data, "S3_BUCKET: required, not set"));
	CHECK(err.data && strstr(err.data, "LOG_LEVEL: must be error, warn, info or debug, got 'loud'"));
	CHECK(err.data && strstr(err.data, "S3_FORCE_PATH_STYLE: must be empty, 0 or 1, got 'yes'"));
	/* DATABASE_URL may hold a password: the message hides the value */
	CHECK(err.data && strstr(err.data, "DATABASE_URL: must be a postgresql:// URL, got '(hidden)'"));
	CHECK(err.data && !strstr(err.data, "mysql://x"));
	buf_release(&err);
}

static void test_config_s3_addressing_is_automatic_unless_set(void)
{
	const char *env[] = { "S3_BUCKET", "b", NULL };
	const char *zero[] = { "S3_BUCKET", "b", "S3_FORCE_PATH_STYLE", "0",
			       "S3_ENDPOINT", "http://127.0.0.1:9000", NULL };
	struct buf err = BUF_INIT(4096);
	struct config c;

	CHECK_INT(config_load_from(&c, CFG_API, fake_get, env, &err), SC_OK);
	CHECK_INT(c.s3_force_path_style, -1);
	config_free(&c);
	/* virtual-hosted forced on an IP address cannot work: refused */
	CHECK_INT(config_load_from(&c, CFG_WORKER, fake_get, zero, &err),
		  SC_ERR_CONFIG);
	CHECK(err.data && strstr(err.data, "S3_FORCE_PATH_STYLE, S3_ENDPOINT: "
				 "virtual-hosted addressing"));
	CHECK(err.data && strstr(err.data, "127.0.0.1 is an IP address"));
	buf_release(&err);
}

static void test_config_metrics_address(void)
{
	const char *good[] = { "S3_BUCKET", "b", "API_METRICS_ADDR",
			       "[::1]:9465", NULL };
	const char *bad[] = { "S3_BUCKET", "b", "API_METRICS_ADDR",
			      "localhost:9465", NULL };
	struct buf err = BUF_INIT(4096);
	struct config c;
	char host[64];
	int port = 0;

	CHECK_INT(config_load_from(&c, CFG_API, fake_get, good, &err), SC_OK);
	CHECK_STR(c.api_metrics_addr, "[::1]:9465");
	CHECK_INT(c.api_idle_timeout_s, 960);
	CHECK_INT(c.api_min_body_rate_bps, 16384);
	config_free(&c);
	CHECK_INT(config_load_from(&c, CFG_API, fake_get, bad, &err),
		  SC_ERR_CONFIG);
	CHECK(err.data && strstr(err.data, "API_METRICS_ADDR: must be empty or "
				 "ADDRESS:PORT with an IP address"));
	CHECK_INT(config_split_hostport("127.0.0.1:9465", host, sizeof(host), &port), 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK_INT(port, 9465);
	CHECK_INT(config_split_hostport("127.0.0.1:0", host, sizeof(host), &port), -1);
	CHECK_INT(config_split_hostport("127.0.0.1", host, sizeof(host), &port), -1);
	CHECK_INT(config_split_hostport("::1:80", host, sizeof(host), &port), -1);
	buf_release(&err);
}

static void test_config_ignores_other_programs_variables(void)
{
	/* API_PORT is the API's: a worker does not fail on it */
	const char *env[] = { "S3_BUCKET", "b", "API_PORT", "nonsense", NULL };
	struct buf err = BUF_INIT(4096);
	struct config c;

	CHECK_INT(config_load_from(&c, CFG_WORKER, fake_get, env, &err), SC_OK);
	CHECK_INT(c.api_port, 8080);
	config_free(&c);
	buf_release(&err);
}

static void test_config_rejects_empty_required_string(void)
{
	const char *env[] = { "S3_BUCKET", "", NULL };
	struct buf err = BUF_INIT(4096);
	struct config c;

	CHECK_INT(config_load_from(&c, CFG_WORKER, fake_get, env, &err),
		  SC_ERR_CONFIG);
	CHECK(err.data && strstr(err.data, "S3_BUCKET: must not be empty"));
	buf_release(&err);
}

static void test_config_transcode_settings(void)
{
	const char *env[] = { "POLICY_MAX_PIXELS", "0", NULL };
	const char *none[] = { NULL };
	const char *bucket[] = { "S3_BUCKET", "b", NULL };
	struct buf err = BUF_INIT(4096);
	struct config c;

	CHECK_INT(config_load_from(&c, CFG_TRANSCODE, fake_get, none, &err), SC_OK);
	CHECK_INT(c.policy_max_pixels, 4096 * 2304);
	config_free(&c);
	CHECK_INT(config_load_from(&c, CFG_TRANSCODE, fake_get, env, &err),
		  SC_ERR_CONFIG);
	CHECK(err.data && strstr(err.data, "POLICY_MAX_PIXELS: must be an integer between 1"));
	buf_release(&err);
	CHECK_INT(config_load_from(&c, CFG_WORKER, fake_get, bucket, &err), SC_OK);
	CHECK_STR(c.worker_transcode_user, "nobody");
	config_free(&c);
	buf_release(&err);
}

/* What the worker passes on to a transcode: the transcoder's variables
 * only, matched on the whole name. */
static void test_config_var_used_by(void)
{
	CHECK(config_var_used_by("TRANSCODE_CRF=23", 13, CFG_TRANSCODE));
	CHECK(config_var_used_by("POLICY_MAX_PIXELS", 17, CFG_TRANSCODE));
	CHECK(config_var_used_by("LOG_LEVEL", 9, CFG_TRANSCODE));
	CHECK(config_var_used_by("WATERMARK_LOGO", 14, CFG_TRANSCODE));
	CHECK(!config_var_used_by("DATABASE_URL", 12, CFG_TRANSCODE));
	CHECK(!config_var_used_by("AWS_SECRET_ACCESS_KEY", 21, CFG_TRANSCODE));
	CHECK(!config_var_used_by("WORKER_TRANSCODE_USER", 21, CFG_TRANSCODE));
	CHECK(!config_var_used_by("TRANSCODE_CR", 12, CFG_TRANSCODE));
	CHECK(!config_var_used_by("TRANSCODE_CRFX", 14, CFG_TRANSCODE));
	CHECK(config_var_used_by("DATABASE_URL", 12, CFG_WORKER));
}

/* Does the API's configuration env load?  err: the reasons, if not. */
static int api_loads(const char **env, struct buf *err)
{
	struct config c;
	int ok;

	buf_reset(err);
	ok = config_load_from(&c, CFG_API, fake_get, env, err) == SC_OK;
	if (ok)
		config_free(&c);
	return ok;
}

static void test_config_identity_provider(void)
{
	const char *good[] = { "S3_BUCKET", "b", "API_OIDC_ISSUER",
			       "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_x",
			       "API_OIDC_AUDIENCE", "app", "API_LOCAL_ACCOUNTS", "0",
			       NULL };
	const char *local[] = { "S3_BUCKET", "b", "API_OIDC_ISSUER",
				"http://127.0.0.1:8081", "API_OIDC_AUDIENCE", "app",
				NULL };
	const char *plain[] = { "S3_BUCKET", "b", "API_OIDC_ISSUER",
				"http://idp.example.org", "API_OIDC_AUDIENCE", "app",
				NULL };
	const char *sneaky[] = { "S3_BUCKET", "b", "API_OIDC_ISSUER",
				 "http://127.0.0.1.example.org/", "API_OIDC_AUDIENCE",
				 "app", NULL };
	const char *no_aud[] = { "S3_BUCKET", "b", "API_OIDC_ISSUER",
				 "https://idp.example.org", NULL };
	const char *no_iss[] = { "S3_BUCKET", "b", "API_OIDC_AUDIENCE", "app", NULL };
	const char *nobody[] = { "S3_BUCKET", "b", "API_LOCAL_ACCOUNTS", "0", NULL };
	struct buf err = BUF_INIT(4096);

	CHECK(api_loads(good, &err));
	CHECK(api_loads(local, &err));
	CHECK(!api_loads(plain, &err));
	CHECK(err.data && strstr(err.data, "http:// only on loopback"));
	CHECK(!api_loads(sneaky, &err));
	CHECK(!api_loads(no_aud, &err));
	CHECK(err.data && strstr(err.data, "API_OIDC_AUDIENCE: required"));
	CHECK(!api_loads(no_iss, &err));
	CHECK(!api_loads(nobody, &err));
	CHECK(err.data && strstr(err.data, "API_LOCAL_ACCOUNTS=0 needs API_OIDC_ISSUER"));
	buf_release(&err);
}

const struct unit_test test_config_suite[] = {
	UNIT_TEST(test_config_identity_provider),
	UNIT_TEST(test_config_defaults),
	UNIT_TEST(test_config_values_override),
	UNIT_TEST(test_config_names_every_bad_variable),
	UNIT_TEST(test_config_s3_addressing_is_automatic_unless_set),
	UNIT_TEST(test_config_metrics_address),
	UNIT_TEST(test_config_ignores_other_programs_variables),
	UNIT_TEST(test_config_rejects_empty_required_string),
	UNIT_TEST(test_config_transcode_settings),
	UNIT_TEST(test_config_var_used_by),
	{ NULL, NULL },
};
