/* test_s3.c - the addressing style chosen from the endpoint; presigned
 * URLs' lifetimes. */
#include <stdlib.h>
#include <string.h>

#include "awscreds.h"
#include "config.h"
#include "s3.h"
#include "unit.h"

static void test_s3_addressing_automatic(void)
{
	/* an IP address or localhost cannot carry the bucket in its name */
	CHECK_INT(s3_path_style("http://127.0.0.1:9000", "b", -1, NULL, 0), 1);
	CHECK_INT(s3_path_style("http://[::1]:9000/", "b", -1, NULL, 0), 1);
	CHECK_INT(s3_path_style("http://localhost:9000", "b", -1, NULL, 0), 1);
	CHECK_INT(s3_path_style("http://LocalHost", "b", -1, NULL, 0), 1);
	CHECK_INT(s3_path_style("http://minio.localhost:9000", "b", -1, NULL, 0), 1);
	CHECK_INT(s3_path_style("https://user@10.0.0.5", "b", -1, NULL, 0), 1);
	/* names: virtual-hosted, AWS's default endpoint included */
	CHECK_INT(s3_path_style("https://s3.eu-west-1.amazonaws.com", "b", -1, NULL, 0), 0);
	CHECK_INT(s3_path_style("", "media", -1, NULL, 0), 0);
	CHECK_INT(s3_path_style("http://minio:9000", "b", -1, NULL, 0), 0);
	/* a dotted bucket breaks the wildcard certificate over https only */
	CHECK_INT(s3_path_style("", "media.example.org", -1, NULL, 0), 1);
	CHECK_INT(s3_path_style("http://minio:9000", "a.b", -1, NULL, 0), 0);
	/* a name that merely starts with digits is a name */
	CHECK_INT(s3_path_style("http://10.example.org", "b", -1, NULL, 0), 0);
}

static void test_s3_addressing_forced(void)
{
	char why[256] = "";

	CHECK_INT(s3_path_style("https://s3.amazonaws.com", "b", 1, NULL, 0), 1);
	CHECK_INT(s3_path_style("http://localhost:9000", "b", 0, why, sizeof(why)), 0);
	CHECK_INT(s3_path_style("http://127.0.0.1:9000", "b", 0, why, sizeof(why)), -1);
	CHECK(strstr(why, "127.0.0.1 is an IP address") != NULL);
	CHECK(strstr(why, "S3_FORCE_PATH_STYLE=1") != NULL);
	CHECK_INT(s3_path_style("http://[fd00::5]", "b", 0, NULL, 0), -1);
}

static const char *fake_get(const char *name, void *arg)
{
	const char *const *kv = arg;

	for (; kv[0]; kv += 2)
		if (!strcmp(kv[0], name))
			return kv[1];
	return NULL;
}

/* X-Amz-Expires of url, or -1 */
static long expires_of(const char *url)
{
	const char *p = url ? strstr(url, "X-Amz-Expires=") : NULL;

	return p ? atol(p + strlen("X-Amz-Expires=")) : -1;
}

/* Every lifetime the settings accept (S3_PRESIGN_TTL_S and
 * HLS_PRESIGN_TTL_S up to 604800 s) makes a URL that S3 takes: the
 * cached URL's extra window may not push X-Amz-Expires past a week. */
static void test_s3_presign_cached_lifetime_bounds(void)
{
	const char *env[] = { "S3_BUCKET", "b", "S3_ENDPOINT", "http://127.0.0.1:9",
			      "AWS_ACCESS_KEY_ID", "AKIDEXAMPLE",
			      "AWS_SECRET_ACCESS_KEY", "secret", NULL };
	static const long ttls[] = { 1, 60, 900, 604740, 604741, 604800 };
	struct buf err = BUF_INIT(4096);
	struct awscreds *creds;
	struct s3_client *s3;
	struct config c;
	char *url;
	size_t i;

	CHECK_INT(config_load_from(&c, CFG_API, fake_get, env, &err), SC_OK);
	creds = awscreds_new(&c);
	s3 = creds ? s3_client_new(&c, creds) : NULL;
	CHECK(s3 != NULL);
	for (i = 0; s3 && i < sizeof(ttls) / sizeof(ttls[0]); i++) {
		url = NULL;
		CHECK_INT(s3_presign_get_cached(s3, "videos/k.m4s", ttls[i], &url), SC_OK);
		CHECK(expires_of(url) >= ttls[i]);
		CHECK(expires_of(url) <= 604800);
		free(url);
	}
	s3_client_free(s3);
	awscreds_free(creds);
	config_free(&c);
	buf_release(&err);
}

const struct unit_test test_s3_suite[] = {
	UNIT_TEST(test_s3_presign_cached_lifetime_bounds),
	UNIT_TEST(test_s3_addressing_automatic),
	UNIT_TEST(test_s3_addressing_forced),
	{ NULL, NULL },
};
