/* test_log.c - log lines are JSON with context, and levels filter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "unit.h"

static int evaluated;

static const char *side_effect(void)
{
	evaluated++;
	return "x";
}

/* Run fn with stderr sent to a temporary file; return what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
	static char out[8192];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	if (!tmp || saved < 0)
		return NULL;
	dup2(fileno(tmp), STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void write_with_context(void)
{
	log_init("unit", LOG_INFO);
	log_set_request("req-1");
	log_set_job("job-7", "vid-9");
	log_error("cannot open \"%s\":\n%s", "a b", "gone");
	log_set_request(NULL);
	log_set_job(NULL, NULL);
}

static void write_filtered(void)
{
	log_init("unit", LOG_WARN);
	log_info("not shown %s", side_effect());
	log_debug("not shown %s", side_effect());
	log_warn("shown %s", side_effect());
	log_init("unit", LOG_INFO);
}

static void test_log_line_is_json_with_context(void)
{
	char *out = capture_stderr(write_with_context);
	cJSON *j = out ? cJSON_Parse(out) : NULL;

	CHECK(j != NULL);
	CHECK(out && strchr(out, '\n') == out + strlen(out) - 1);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "level")), "error");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "prog")), "unit");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "request_id")), "req-1");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "job_id")), "job-7");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "video_id")), "vid-9");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "msg")),
		  "cannot open \"a b\":\ngone");
	CHECK(cJSON_GetStringValue(cJSON_GetObjectItem(j, "ts")) != NULL);
	cJSON_Delete(j);
}

static void test_log_level_filters_before_evaluating(void)
{
	char *out;

	evaluated = 0;
	out = capture_stderr(write_filtered);
	CHECK_INT(evaluated, 1);
	CHECK(out && strstr(out, "\"msg\":\"shown x\""));
	CHECK(out && !strstr(out, "not shown"));
}

static void write_fields(void)
{
	const struct log_field f[] = {
		{ "route", "/api/videos/{}", 0 },
		{ "status", NULL, 404 },
		{ "client", "a \"quoted\" one", 0 },
	};

	log_init("unit", LOG_INFO);
	log_fields(LOG_INFO, f, 3, "GET %s %d", "/api/videos/x", 404);
	log_fields(LOG_DEBUG, f, 3, "not shown");
}

static void test_log_fields_after_msg(void)
{
	char *out = capture_stderr(write_fields);
	cJSON *j = out ? cJSON_Parse(out) : NULL;

	CHECK(j != NULL);
	CHECK(out && !strstr(out, "not shown"));
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "msg")),
		  "GET /api/videos/x 404");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "route")),
		  "/api/videos/{}");
	CHECK(cJSON_IsNumber(cJSON_GetObjectItem(j, "status")));
	CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "status")), 404);
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "client")),
		  "a \"quoted\" one");
	cJSON_Delete(j);
}

static void test_log_level_parse(void)
{
	CHECK_INT(log_level_parse("error"), LOG_ERROR);
	CHECK_INT(log_level_parse("debug"), LOG_DEBUG);
	CHECK_INT(log_level_parse("verbose"), -1);
	CHECK_INT(log_level_parse(""), -1);
}

const struct unit_test test_log_suite[] = {
	UNIT_TEST(test_log_line_is_json_with_context),
	UNIT_TEST(test_log_level_filters_before_evaluating),
	UNIT_TEST(test_log_fields_after_msg),
	UNIT_TEST(test_log_level_parse),
	{ NULL, NULL },
};
