/* test_error.c - every error code has its own name and text. */
#include <string.h>

#include "error.h"
#include "unit.h"

static void test_error_names_are_distinct(void)
{
	int i, j;

	for (i = 0; i < SC_ERR__COUNT; i++) {
		CHECK(sc_strerror((enum sc_err)i)[0] != '\0');
		CHECK(strcmp(sc_errname((enum sc_err)i), "unknown") != 0);
		for (j = 0; j < i; j++)
			CHECK(strcmp(sc_errname((enum sc_err)i),
				     sc_errname((enum sc_err)j)) != 0);
	}
}

static void test_error_out_of_range(void)
{
	CHECK_STR(sc_strerror(SC_ERR__COUNT), "unknown error");
	CHECK_STR(sc_errname((enum sc_err)-1), "unknown");
	CHECK_STR(sc_errname(SC_ERR_TOO_LARGE), "too_large");
}

const struct unit_test test_error_suite[] = {
	UNIT_TEST(test_error_names_are_distinct),
	UNIT_TEST(test_error_out_of_range),
	{ NULL, NULL },
};
