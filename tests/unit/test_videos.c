/* test_videos.c - the pure parts of the video bookkeeping: S3 keys, id
 * shapes, and the reason code inside a dead job's last_error. */
#include <string.h>

#include "reconcile.h"
#include "unit.h"
#include "videos.h"

static void test_videos_keys_per_attempt(void)
{
	const char *id = "0b5e4f0e-1c7a-4d7e-9a53-6c1f0d3b2a11";
	char key[VIDEO_KEY_MAX], prefix[VIDEO_KEY_MAX];

	videos_key(VIDEO_ORIGINAL, id, 7, key);
	CHECK_STR(key, "originals/0b5e4f0e-1c7a-4d7e-9a53-6c1f0d3b2a11/source.mp4");
	videos_key(VIDEO_PROCESSED, id, 2, key);
	CHECK_STR(key, "processed/0b5e4f0e-1c7a-4d7e-9a53-6c1f0d3b2a11/2/video.mp4");
	videos_key(VIDEO_POSTER, id, 13, key);
	CHECK_STR(key, "processed/0b5e4f0e-1c7a-4d7e-9a53-6c1f0d3b2a11/13/poster.jpg");
	/* every attempt's outputs share the prefix the delete route removes */
	videos_outputs_prefix(id, prefix);
	CHECK(!strncmp(key, prefix, strlen(prefix)));
	videos_hls_prefix(id, 3, key);
	CHECK_STR(key, "processed/0b5e4f0e-1c7a-4d7e-9a53-6c1f0d3b2a11/hls/3/");
	CHECK(!strncmp(key, prefix, strlen(prefix)));
	videos_key(VIDEO_ORIGINAL, id, 0, key);
	CHECK(strncmp(key, prefix, strlen(prefix)) != 0);
}

static void test_videos_valid_id(void)
{
	CHECK(videos_valid_id("0b5e4f0e-1c7a-4d7e-9a53-6c1f0d3b2a11"));
	/* not as PostgreSQL and the keys write it: names nothing */
	CHECK(!videos_valid_id("0B5E4F0E-1C7A-4D7E-9A53-6C1F0D3B2A11"));
	CHECK(!videos_valid_id(""));
	CHECK(!videos_valid_id("left-dead"));
	CHECK(!videos_valid_id("0b5e4f0e-1c7a-4d7e-9a53-6c1f0d3b2a1"));
	CHECK(!videos_valid_id("0b5e4f0e-1c7a-4d7e-9a53-6c1f0d3b2a111"));
	CHECK(!videos_valid_id("0b5e4f0e_1c7a-4d7e-9a53-6c1f0d3b2a11"));
	CHECK(!videos_valid_id("0b5e4f0e-1c7a-4d7e-9a53-6c1f0d3b2a1g"));
}

static void test_reconcile_split_error(void)
{
	char code[32];
	const char *msg;

	msg = reconcile_split_error("worker_lost: the lease expired 3 time(s)",
				    code, sizeof(code));
	CHECK_STR(code, "worker_lost");
	CHECK_STR(msg, "the lease expired 3 time(s)");
	msg = reconcile_split_error("s3: s3 GET k: NotFound (HTTP 404)", code,
				    sizeof(code));
	CHECK_STR(code, "s3");
	CHECK_STR(msg, "s3 GET k: NotFound (HTTP 404)");
	/* no code in front: all of it is the message */
	msg = reconcile_split_error("lease expired: the worker stopped", code,
				    sizeof(code));
	CHECK_STR(code, "unknown");
	CHECK_STR(msg, "lease expired: the worker stopped");
	msg = reconcile_split_error("", code, sizeof(code));
	CHECK_STR(code, "unknown");
	CHECK_STR(msg, "");
	/* a code longer than the caller's buffer is not cut */
	msg = reconcile_split_error("averyveryverylongcodename: x", code, 8);
	CHECK_STR(code, "unknown");
	CHECK_STR(msg, "averyveryverylongcodename: x");
}

const struct unit_test test_videos_suite[] = {
	UNIT_TEST(test_videos_keys_per_attempt),
	UNIT_TEST(test_videos_valid_id),
	UNIT_TEST(test_reconcile_split_error),
	{ NULL, NULL },
};
