/* test_memo.c - players' last upload refusals, remembered a while. */
#include <string.h>

#include "refusal_memo.h"
#include "unit.h"

static const struct refusal daily = { 429, 3600, NULL, "daily_quota_reached",
				      "you have uploaded 20 videos" };
static const struct refusal total = { 400, 0, NULL, "video_quota_reached",
				      "you have 100 videos" };

static void test_memo_remembers_and_counts_down(void)
{
	struct refusal_memo *m = refusal_memo_new();
	struct refusal r;

	CHECK(m != NULL);
	CHECK(!refusal_memo_get(m, 7, 1000, &r));
	refusal_memo_put(m, 7, &daily, 1000);
	CHECK(refusal_memo_get(m, 7, 1000, &r));
	CHECK_STR(r.code, "daily_quota_reached");
	CHECK_INT(r.retry_after, 3600);
	/* 10.5 s later: what is left of the hour, rounded up */
	CHECK(refusal_memo_get(m, 7, 11500, &r));
	CHECK_INT(r.retry_after, 3590);
	/* another player is not refused */
	CHECK(!refusal_memo_get(m, 8, 11500, &r));
	/* kept at most MEMO_MAX_MS, whatever the Retry-After */
	CHECK(!refusal_memo_get(m, 7, 1000 + MEMO_MAX_MS, &r));
	refusal_memo_free(m);
}

static void test_memo_without_retry_after_and_forgotten(void)
{
	struct refusal_memo *m = refusal_memo_new();
	struct refusal r;

	refusal_memo_put(m, 9, &total, 0);
	CHECK(refusal_memo_get(m, 9, MEMO_NO_RETRY_MS - 1, &r));
	CHECK_INT(r.retry_after, 0);
	CHECK(!refusal_memo_get(m, 9, MEMO_NO_RETRY_MS, &r));
	refusal_memo_put(m, 9, &total, 0);
	refusal_memo_forget(m, 9);		/* a video deleted */
	CHECK(!refusal_memo_get(m, 9, 1, &r));
	refusal_memo_free(m);
}

static void test_memo_full_gives_way_to_the_newest(void)
{
	struct refusal_memo *m = refusal_memo_new();
	struct refusal r;
	long long u;
	int kept = 0;

	/* twice as many players as slots: every put is kept at once */
	for (u = 1; u <= 2 * MEMO_SLOTS; u++) {
		refusal_memo_put(m, u, &daily, u);
		kept += refusal_memo_get(m, u, u, &r);
	}
	CHECK_INT(kept, 2 * MEMO_SLOTS);
	/* and the newest are still there */
	CHECK(refusal_memo_get(m, 2 * MEMO_SLOTS, 2 * MEMO_SLOTS, &r));
	refusal_memo_free(m);
}

const struct unit_test test_memo_suite[] = {
	UNIT_TEST(test_memo_remembers_and_counts_down),
	UNIT_TEST(test_memo_without_retry_after_and_forgotten),
	UNIT_TEST(test_memo_full_gives_way_to_the_newest),
	{ NULL, NULL },
};
