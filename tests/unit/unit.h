/*
 * unit.h - the in-tree unit test runner.
 *
 * A test is a void function; a suite is a NULL-terminated array of
 * struct unit_test named test_<module>_suite, listed in main.c.  Checks
 * record a failure with file and line and let the test go on, so one run
 * shows every broken expectation.  The runner prints one line per test
 * and ends with "N passed, N failed".
 */
#ifndef SC_UNIT_H
#define SC_UNIT_H

struct unit_test {
	const char *name;
	void (*fn)(void);
};

void unit_check(int ok, const char *expr, const char *file, int line);
void unit_check_str(const char *got, const char *want, const char *expr,
		    const char *file, int line);
void unit_check_int(long long got, long long want, const char *expr,
		    const char *file, int line);

/* Under valgrind, which emulates some system calls (and not seccomp)? */
int unit_under_valgrind(void);

#define CHECK(cond) unit_check(!!(cond), #cond, __FILE__, __LINE__)
#define CHECK_STR(got, want) \
	unit_check_str((got), (want), #got, __FILE__, __LINE__)
#define CHECK_INT(got, want) \
	unit_check_int((long long)(got), (long long)(want), #got, __FILE__, __LINE__)

#define UNIT_TEST(fn) { #fn, fn }

extern const struct unit_test test_buf_suite[];
extern const struct unit_test test_child_suite[];
extern const struct unit_test test_client_suite[];
extern const struct unit_test test_config_suite[];
extern const struct unit_test test_error_suite[];
extern const struct unit_test test_geometry_suite[];
extern const struct unit_test test_hls_suite[];
extern const struct unit_test test_jwt_suite[];
extern const struct unit_test test_latency_suite[];
extern const struct unit_test test_lcache_suite[];
extern const struct unit_test test_log_suite[];
extern const struct unit_test test_memo_suite[];
extern const struct unit_test test_oidc_suite[];
extern const struct unit_test test_pace_suite[];
extern const struct unit_test test_peruser_suite[];
extern const struct unit_test test_picture_suite[];
extern const struct unit_test test_policy_suite[];
extern const struct unit_test test_pool_suite[];
extern const struct unit_test test_portal_files_suite[];
extern const struct unit_test test_probe_suite[];
extern const struct unit_test test_redisconn_suite[];
extern const struct unit_test test_s3_suite[];
extern const struct unit_test test_sandbox_suite[];
extern const struct unit_test test_sigv4_suite[];
extern const struct unit_test test_tonemap_suite[];
extern const struct unit_test test_videos_suite[];
extern const struct unit_test test_webhook_suite[];

#endif
