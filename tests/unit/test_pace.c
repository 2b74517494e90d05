/* test_pace.c - a body's deadlines: whole, minimum rate, drain. */
#include <stddef.h>

#include "pace.h"
#include "unit.h"

/* 10 s grace, 16 KiB/s, 900 s in all, a 2 MiB / 2 s drain */
static const struct pace_limits lim = {
	900000, 10000, 16384, 2 * 1024 * 1024, 2000,
};

static void test_pace_grace_then_minimum_rate(void)
{
	struct pace p = { 1000, 0, 0, 0, 0 };
	long d;

	/* nothing yet: fine until the grace is over, and that is the deadline */
	CHECK_INT(pace_check(&p, &lim, 1000 + 9999, &d), PACE_OK);
	CHECK_INT(d, 1000 + 10000);
	CHECK_INT(pace_check(&p, &lim, 1000 + 10001, &d), PACE_TOO_SLOW);
	/* each 16 KiB buys a second beyond the grace */
	p.bytes = 16384 * 5;
	CHECK_INT(pace_check(&p, &lim, 1000 + 14000, &d), PACE_OK);
	CHECK_INT(d, 1000 + 15000);
	CHECK_INT(pace_check(&p, &lim, 1000 + 15001, &d), PACE_TOO_SLOW);
	CHECK_INT(d, 1000 + 15001);	/* failed: now */
}

static void test_pace_trickle_of_a_byte_every_2s_is_cut(void)
{
	struct pace p = { 0, 0, 0, 0, 0 };
	long t, d, cut = -1;

	for (t = 0; t <= 40000; t += 2000) {
		p.bytes++;
		if (pace_check(&p, &lim, t, &d) != PACE_OK) {
			CHECK_INT(pace_check(&p, &lim, t, &d), PACE_TOO_SLOW);
			cut = t;
			break;
		}
	}
	CHECK_INT(cut, 12000);	/* the first byte after the grace */
}

static void test_pace_paused_time_is_not_the_clients(void)
{
	struct pace p = { 0, 30000, 0, 0, 0 };	/* 30 s waiting for a slot */
	long d;

	CHECK_INT(pace_check(&p, &lim, 35000, &d), PACE_OK);
	CHECK_INT(d, 40000);
	CHECK_INT(pace_check(&p, &lim, 40001, &d), PACE_TOO_SLOW);
}

static void test_pace_whole_deadline_is_wall_time(void)
{
	struct pace p = { 0, 0, 1LL << 40, 0, 0 };	/* fast enough forever */
	long d;

	CHECK_INT(pace_check(&p, &lim, 899999, &d), PACE_OK);
	CHECK_INT(d, 900000);
	CHECK_INT(pace_check(&p, &lim, 900001, &d), PACE_TOO_LONG);
}

static void test_pace_no_minimum(void)
{
	struct pace_limits none = lim;
	struct pace p = { 0, 0, 0, 0, 0 };
	long d;

	none.min_rate = 0;
	CHECK_INT(pace_check(&p, &none, 500000, &d), PACE_OK);
	CHECK_INT(d, 900000);
}

static void test_pace_refused_body_drains_briefly(void)
{
	struct pace p = { 0, 0, 100, 1000, 0 };
	long d;

	CHECK_INT(pace_check(&p, &lim, 1500, &d), PACE_OK);
	CHECK_INT(d, 3000);	/* the drain's end comes first */
	CHECK_INT(pace_check(&p, &lim, 3001, &d), PACE_DRAIN_TIME);
	p.refused_bytes = 2 * 1024 * 1024;
	CHECK_INT(pace_check(&p, &lim, 1500, &d), PACE_OK);
	p.refused_bytes++;
	CHECK_INT(pace_check(&p, &lim, 1500, &d), PACE_DRAIN_BYTES);
}

static void test_pace_timeout_rounds_up_within_bounds(void)
{
	CHECK_INT(pace_timeout_s(10000, 0, 960), 10);
	CHECK_INT(pace_timeout_s(10001, 0, 960), 11);
	CHECK_INT(pace_timeout_s(1, 0, 960), 1);
	CHECK_INT(pace_timeout_s(0, 5, 960), 1);	/* past: at once */
	CHECK_INT(pace_timeout_s(5000000, 0, 960), 960);
	CHECK_STR(pace_verdict_name(PACE_TOO_SLOW), "below the minimum rate");
}

const struct unit_test test_pace_suite[] = {
	UNIT_TEST(test_pace_grace_then_minimum_rate),
	UNIT_TEST(test_pace_trickle_of_a_byte_every_2s_is_cut),
	UNIT_TEST(test_pace_paused_time_is_not_the_clients),
	UNIT_TEST(test_pace_whole_deadline_is_wall_time),
	UNIT_TEST(test_pace_no_minimum),
	UNIT_TEST(test_pace_refused_body_drains_briefly),
	UNIT_TEST(test_pace_timeout_rounds_up_within_bounds),
	{ NULL, NULL },
};
