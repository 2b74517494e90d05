/* test_peruser.c - per-player counts with a cap. */
#include "peruser.h"
#include "unit.h"

static void test_peruser_caps_each_player(void)
{
	struct peruser p;

	peruser_init(&p, 2);
	CHECK_INT(peruser_enter(&p, 7), 1);
	CHECK_INT(peruser_enter(&p, 7), 1);
	CHECK_INT(peruser_enter(&p, 7), 0);	/* the third */
	CHECK_INT(peruser_enter(&p, 8), 1);	/* another player */
	CHECK_INT(peruser_count(&p, 7), 2);
	peruser_leave(&p, 7);
	CHECK_INT(peruser_enter(&p, 7), 1);
	peruser_leave(&p, 7);
	peruser_leave(&p, 7);
	peruser_leave(&p, 8);
	CHECK_INT(p.n, 0);	/* no entry left behind */
	peruser_destroy(&p);
}

static void test_peruser_grows_and_keeps_counts(void)
{
	struct peruser p;
	long long u;

	peruser_init(&p, 1);
	for (u = 1; u <= 100; u++)
		CHECK_INT(peruser_enter(&p, u), 1);
	for (u = 1; u <= 100; u += 2)
		peruser_leave(&p, u);
	for (u = 1; u <= 100; u++)
		CHECK_INT(peruser_count(&p, u), u % 2 ? 0 : 1);
	CHECK_INT(peruser_enter(&p, 100), 0);
	peruser_destroy(&p);
}

static void test_peruser_zero_means_no_cap(void)
{
	struct peruser p;
	int i;

	peruser_init(&p, 0);
	for (i = 0; i < 50; i++)
		CHECK_INT(peruser_enter(&p, 3), 1);
	CHECK_INT(peruser_count(&p, 3), 50);
	peruser_destroy(&p);
}

const struct unit_test test_peruser_suite[] = {
	UNIT_TEST(test_peruser_caps_each_player),
	UNIT_TEST(test_peruser_grows_and_keeps_counts),
	UNIT_TEST(test_peruser_zero_means_no_cap),
	{ NULL, NULL },
};
