/*
 * test_policy.c - the acceptance rules and their reason codes.
 */
#include "policy.h"
#include "reason.h"
#include "unit.h"

static const struct policy anb = {
	.containers = "mp4,mov",
	.codecs = "h264,hevc",
	.max_bytes = 100LL << 20,
	.min_s = 20,
	.max_s = 60,
	.min_short_side = 1080,
	.max_pixels = 4096 * 2304,
};

static struct policy_source good(void)
{
	struct policy_source s = {
		.bytes = 50LL << 20,
		.container = "mov,mp4,m4a,3gp,3g2,mj2",
		.codec = "h264",
		.duration = 45,
		.width = 1920,
		.height = 1080,
		.coded_w = 1920,
		.coded_h = 1080,
	};
	return s;
}

static enum tc_reason check(struct policy_source s, const char *want_msg)
{
	struct buf msg = BUF_INIT(512);
	enum tc_reason r = policy_check(&anb, &s, &msg);

	if (want_msg)
		CHECK_STR(msg.data ? msg.data : "", want_msg);
	buf_release(&msg);
	return r;
}

static void test_policy_accepts_the_anb_case(void)
{
	struct policy_source s = good();

	CHECK_INT(check(s, NULL), TC_OK);
	s.width = 1080;		/* portrait phone video */
	s.height = 1920;
	CHECK_INT(check(s, NULL), TC_OK);
	s.duration = 20;	/* bounds are inclusive */
	CHECK_INT(check(s, NULL), TC_OK);
	s.duration = 60;
	CHECK_INT(check(s, NULL), TC_OK);
}

static void test_policy_each_rule_has_its_reason(void)
{
	struct policy_source s;

	s = good();
	s.bytes = (100LL << 20) + 1;
	CHECK_INT(check(s, "the file is 100.0 MB; the limit is 100 MB"), TC_TOO_LARGE);
	s = good();
	s.container = "matroska,webm";
	CHECK_INT(check(s, "the file is matroska,webm, not one of mp4,mov"),
		  TC_UNSUPPORTED_CONTAINER);
	s = good();
	s.codec = NULL;
	CHECK_INT(check(s, "the file has no video stream"), TC_NO_VIDEO_STREAM);
	s = good();
	s.codec = "qtrle";
	CHECK_INT(check(s, NULL), TC_UNSUPPORTED_CODEC);
	s = good();
	s.duration = 10;
	CHECK_INT(check(s, "the video is 10.0 s long; the minimum is 20 s"), TC_TOO_SHORT);
	s = good();
	s.duration = 61;
	CHECK_INT(check(s, NULL), TC_TOO_LONG);
	s = good();
	s.duration = -1;
	CHECK_INT(check(s, NULL), TC_CORRUPT);
	s = good();
	s.width = 1280;
	s.height = 720;
	CHECK_INT(check(s, "the video is 1280x720; the shorter side must be at "
			   "least 1080 pixels"), TC_LOW_RESOLUTION);
	s = good();
	s.coded_w = 4160;
	s.coded_h = 2340;
	CHECK_INT(check(s, "the picture is 4160x2340, 9734400 pixels; the limit "
			   "is 9437184"), TC_PICTURE_TOO_LARGE);
}

static void test_policy_picture_size_limit(void)
{
	struct buf msg = BUF_INIT(512);
	struct policy_source s = good();

	s.coded_w = 4096;	/* the bound is inclusive */
	s.coded_h = 2304;
	CHECK_INT(check(s, NULL), TC_OK);
	s.coded_w = 3840;	/* UHD portrait */
	s.coded_h = 2160;
	CHECK_INT(check(s, NULL), TC_OK);
	s.coded_w = 15360;	/* 16K, whose sides overflow an int product */
	s.coded_h = 8640;
	CHECK_INT(check(s, NULL), TC_PICTURE_TOO_LARGE);
	s.coded_w = 65535;
	s.coded_h = 65535;
	CHECK_INT(check(s, NULL), TC_PICTURE_TOO_LARGE);
	/* the header's rules need no codec or duration; an unknown size
	 * passes until the streams are read */
	s = (struct policy_source){ .bytes = 1000, .container = "mov,mp4,m4a,3gp,3g2,mj2" };
	CHECK_INT(policy_check_header(&anb, &s, &msg), TC_OK);
	s.coded_w = 8000;
	s.coded_h = 8000;
	CHECK_INT(policy_check_header(&anb, &s, &msg), TC_PICTURE_TOO_LARGE);
	/* in the order a player acts on: size, container, then picture */
	s.container = "hls";
	CHECK_INT(policy_check_header(&anb, &s, &msg), TC_UNSUPPORTED_CONTAINER);
	s.bytes = 200LL << 20;
	CHECK_INT(policy_check_header(&anb, &s, &msg), TC_TOO_LARGE);
	/* and before what needs the streams read */
	s = good();
	s.coded_w = 8000;
	s.coded_h = 8000;
	s.codec = "qtrle";
	s.duration = 5;
	CHECK_INT(check(s, NULL), TC_PICTURE_TOO_LARGE);
	buf_release(&msg);
}

static void test_policy_reason_names_and_exit_codes(void)
{
	CHECK_STR(tc_reason_name(TC_TOO_SHORT), "too_short");
	CHECK_STR(tc_reason_name(TC_UNSUPPORTED_CODEC), "unsupported_codec");
	CHECK_STR(tc_reason_name((enum tc_reason)999), "internal");
	CHECK_INT(tc_reason_exit(TC_OK), 0);
	CHECK_INT(tc_reason_exit(TC_TOO_SHORT), 17);
	CHECK(tc_reason_permanent(TC_CORRUPT));
	CHECK(!tc_reason_permanent(TC_INTERNAL));
	CHECK(!tc_reason_permanent(TC_CANCELLED));
	CHECK(!tc_reason_permanent(TC_OK));
	CHECK_INT(tc_reason_from_exit(17), TC_TOO_SHORT);
	CHECK_INT(tc_reason_from_exit(0), TC_OK);
	CHECK_INT(tc_reason_from_exit(2), TC__COUNT);	/* configuration */
	CHECK_INT(tc_reason_from_exit(137), TC__COUNT);
	CHECK(!tc_reason_permanent(TC__COUNT));
	/* appended: the codes before it keep their numbers */
	CHECK_STR(tc_reason_name(TC_PICTURE_TOO_LARGE), "picture_too_large");
	CHECK_INT(tc_reason_exit(TC_INTERNAL), 22);
	CHECK_INT(tc_reason_exit(TC_PICTURE_TOO_LARGE), 23);
	CHECK_INT(tc_reason_from_exit(23), TC_PICTURE_TOO_LARGE);
	CHECK(tc_reason_permanent(TC_PICTURE_TOO_LARGE));
}

const struct unit_test test_policy_suite[] = {
	UNIT_TEST(test_policy_accepts_the_anb_case),
	UNIT_TEST(test_policy_each_rule_has_its_reason),
	UNIT_TEST(test_policy_picture_size_limit),
	UNIT_TEST(test_policy_reason_names_and_exit_codes),
	{ NULL, NULL }
};
