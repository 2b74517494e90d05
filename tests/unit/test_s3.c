/* test_s3.c - the addressing style chosen from the endpoint. */
#include <string.h>

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

const struct unit_test test_s3_suite[] = {
	UNIT_TEST(test_s3_addressing_automatic),
	UNIT_TEST(test_s3_addressing_forced),
	{ NULL, NULL },
};
