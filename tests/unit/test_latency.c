/* test_latency.c - per-route histograms in Prometheus text. */
#include <string.h>

#include "latency.h"
#include "unit.h"

static void test_latency_buckets(void)
{
	CHECK_INT(latency_bucket(0), 0);
	CHECK_INT(latency_bucket(5000), 0);		/* le 0.005 */
	CHECK_INT(latency_bucket(5001), 1);
	CHECK_INT(latency_bucket(1000000), 7);		/* le 1 */
	CHECK_INT(latency_bucket(600000000), LATENCY_BUCKETS - 1);
	CHECK_INT(latency_bucket(600000001), LATENCY_BUCKETS);	/* +Inf */
}

static void test_latency_series_by_template_and_method(void)
{
	struct latency l;
	struct buf out = BUF_INIT(1 << 20);
	const char *route = "/api/videos/{}";

	CHECK_INT(latency_init(&l, 3), SC_OK);
	CHECK(latency_add(&l, route, "GET") != NULL);
	CHECK(latency_add(&l, route, "GET") == latency_find(&l, route, "GET"));
	CHECK(latency_add(&l, route, "DELETE") != NULL);
	CHECK(latency_add(&l, "unmatched", "GET") != NULL);
	CHECK(latency_add(&l, "unmatched", "POST") == NULL);	/* full */
	latency_observe(latency_find(&l, route, "GET"), 3000);
	latency_observe(latency_find(&l, route, "GET"), 2000000);
	CHECK_INT(latency_write(&l, "h", "help", &out), SC_OK);
	CHECK(out.data && strstr(out.data, "# TYPE h histogram\n"));
	CHECK(out.data && strstr(out.data,
		"h_bucket{route=\"/api/videos/{}\",method=\"GET\",le=\"0.005\"} 1\n"));
	CHECK(out.data && strstr(out.data,
		"h_bucket{route=\"/api/videos/{}\",method=\"GET\",le=\"1\"} 1\n"));
	CHECK(out.data && strstr(out.data,
		"h_bucket{route=\"/api/videos/{}\",method=\"GET\",le=\"2.5\"} 2\n"));
	CHECK(out.data && strstr(out.data,
		"h_bucket{route=\"/api/videos/{}\",method=\"GET\",le=\"+Inf\"} 2\n"));
	CHECK(out.data && strstr(out.data,
		"h_sum{route=\"/api/videos/{}\",method=\"GET\"} 2.003000\n"));
	CHECK(out.data && strstr(out.data,
		"h_count{route=\"/api/videos/{}\",method=\"GET\"} 2\n"));
	/* series that saw nothing are left out */
	CHECK(out.data && !strstr(out.data, "DELETE"));
	CHECK(out.data && !strstr(out.data, "unmatched"));
	buf_release(&out);
	latency_free(&l);
}

const struct unit_test test_latency_suite[] = {
	UNIT_TEST(test_latency_buckets),
	UNIT_TEST(test_latency_series_by_template_and_method),
	{ NULL, NULL },
};
