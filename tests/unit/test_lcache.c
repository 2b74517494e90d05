/* test_lcache.c - the API's in-process response cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "lcache.h"
#include "unit.h"

static void test_hit_miss_and_clear(void)
{
	struct lcache c;
	size_t len = 0;
	char *t;

	lcache_init(&c);
	CHECK(lcache_get(&c, "a", &len) == NULL);
	lcache_put(&c, "a", "[1,2]", 5, 60000);
	t = lcache_get(&c, "a", &len);
	CHECK_STR(t, "[1,2]");
	CHECK_INT(len, 5);
	free(t);
	CHECK(lcache_get(&c, "b", &len) == NULL);
	lcache_clear(&c);
	CHECK(lcache_get(&c, "a", &len) == NULL);
	lcache_free(&c);
}

static void test_one_caller_refreshes_an_expired_entry(void)
{
	struct lcache c;
	size_t len;
	char *t;

	lcache_init(&c);
	lcache_put(&c, "k", "old", 3, 20);
	clock_sleep_ms(40);
	/* the first caller is sent to refresh; the next ones get the old copy */
	CHECK(lcache_get(&c, "k", &len) == NULL);
	t = lcache_get(&c, "k", &len);
	CHECK_STR(t, "old");
	free(t);
	lcache_put(&c, "k", "new", 3, 60000);
	t = lcache_get(&c, "k", &len);
	CHECK_STR(t, "new");
	free(t);
	lcache_free(&c);
}

static void test_full_cache_evicts_and_keeps_working(void)
{
	struct lcache c;
	char key[16];
	size_t len;
	char *t;
	int i, found = 0;

	lcache_init(&c);
	for (i = 0; i < 2 * LCACHE_SLOTS; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		lcache_put(&c, key, key, strlen(key), 60000 + i);
	}
	for (i = 0; i < 2 * LCACHE_SLOTS; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		if ((t = lcache_get(&c, key, &len))) {
			CHECK_STR(t, key);
			free(t);
			found++;
		}
	}
	CHECK_INT(found, LCACHE_SLOTS);
	lcache_free(&c);
}

const struct unit_test test_lcache_suite[] = {
	UNIT_TEST(test_hit_miss_and_clear),
	UNIT_TEST(test_one_caller_refreshes_an_expired_entry),
	UNIT_TEST(test_full_cache_evicts_and_keeps_working),
	{ NULL, NULL },
};
