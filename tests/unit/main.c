/* main.c - runs every unit test suite; exit 1 if any check failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "unit.h"

static int current_failures;

void unit_check(int ok, const char *expr, const char *file, int line)
{
	if (ok)
		return;
	current_failures++;
	printf("    %s:%d: check failed: %s\n", file, line, expr);
}

void unit_check_str(const char *got, const char *want, const char *expr,
		    const char *file, int line)
{
	if (got && want && strcmp(got, want) == 0)
		return;
	current_failures++;
	printf("    %s:%d: %s is \"%s\", want \"%s\"\n", file, line, expr,
	       got ? got : "(null)", want ? want : "(null)");
}

void unit_check_int(long long got, long long want, const char *expr,
		    const char *file, int line)
{
	if (got == want)
		return;
	current_failures++;
	printf("    %s:%d: %s is %lld, want %lld\n", file, line, expr, got, want);
}

int unit_under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "vgpreload") != NULL;
}

int main(int argc, char **argv)
{
	static const struct unit_test *const suites[] = {
		test_buf_suite, test_child_suite, test_client_suite,
		test_config_suite,
		test_error_suite,
		test_geometry_suite, test_hls_suite, test_jwt_suite, test_latency_suite,
		test_lcache_suite, test_log_suite, test_memo_suite, test_oidc_suite,
		test_pace_suite,
		test_peruser_suite, test_picture_suite,
		test_policy_suite, test_pool_suite, test_portal_files_suite,
		test_probe_suite, test_redisconn_suite,
		test_s3_suite, test_sandbox_suite,
		test_sigv4_suite, test_tonemap_suite,
		test_videos_suite, test_webhook_suite,
	};
	const struct unit_test *t;
	int passed = 0, failed = 0;
	size_t s;

	if (sodium_init() < 0) {
		fprintf(stderr, "cannot initialise libsodium\n");
		return 1;
	}
	for (s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		for (t = suites[s]; t->name; t++) {
			/* an argument filters tests by substring */
			if (argc > 1 && !strstr(t->name, argv[1]))
				continue;
			current_failures = 0;
			t->fn();
			printf("%s %s\n", current_failures ? "FAIL" : "ok  ", t->name);
			if (current_failures)
				failed++;
			else
				passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
