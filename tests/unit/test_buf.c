/* test_buf.c - the bounded buffer. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"

static void test_buf_append_grows_and_terminates(void)
{
	struct buf b = BUF_INIT(1 << 20);
	int i;

	for (i = 0; i < 1000; i++)
		CHECK_INT(buf_appends(&b, "abc"), SC_OK);
	CHECK_INT(b.len, 3000);
	CHECK(b.data[3000] == '\0');
	CHECK(memcmp(b.data + 2997, "abc", 3) == 0);
	CHECK_INT(buf_appendf(&b, "-%d-%s", 42, "x"), SC_OK);
	CHECK_STR(b.data + 3000, "-42-x");
	buf_release(&b);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
}

static void test_buf_refuses_past_max_and_keeps_content(void)
{
	struct buf b = BUF_INIT(8);

	CHECK_INT(buf_appends(&b, "12345"), SC_OK);
	CHECK_INT(buf_appends(&b, "6789"), SC_ERR_TOO_LARGE);
	CHECK_STR(b.data, "12345");
	CHECK_INT(buf_appendf(&b, "%s", "abcd"), SC_ERR_TOO_LARGE);
	CHECK_STR(b.data, "12345");
	CHECK_INT(buf_appends(&b, "678"), SC_OK);
	CHECK_STR(b.data, "12345678");
	CHECK_INT(buf_appendc(&b, 'x'), SC_ERR_TOO_LARGE);
	CHECK_INT(b.len, 8);
	buf_release(&b);
}

static void test_buf_json_escapes(void)
{
	struct buf b = BUF_INIT(256);

	CHECK_INT(buf_append_json(&b, "a\"b\\c\n\t\x01 caf\xc3\xa9"), SC_OK);
	CHECK_STR(b.data, "a\\\"b\\\\c\\n\\t\\u0001 caf\xc3\xa9");
	buf_release(&b);
}

static void test_buf_json_all_or_nothing(void)
{
	struct buf b = BUF_INIT(6);

	CHECK_INT(buf_appends(&b, "ab"), SC_OK);
	CHECK_INT(buf_append_json(&b, "\"\"\""), SC_ERR_TOO_LARGE);
	CHECK_STR(b.data, "ab");
	buf_release(&b);
}

static void test_buf_detach_hands_over_storage(void)
{
	struct buf b = BUF_INIT(64);
	size_t len = 0;
	char *s;

	s = buf_detach(&b, &len);
	CHECK(s != NULL);
	CHECK_STR(s, "");
	free(s);
	buf_appends(&b, "hello");
	s = buf_detach(&b, &len);
	CHECK_STR(s, "hello");
	CHECK_INT(len, 5);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	free(s);
	buf_reset(&b);
	CHECK_INT(b.len, 0);
}

const struct unit_test test_buf_suite[] = {
	UNIT_TEST(test_buf_append_grows_and_terminates),
	UNIT_TEST(test_buf_refuses_past_max_and_keeps_content),
	UNIT_TEST(test_buf_json_escapes),
	UNIT_TEST(test_buf_json_all_or_nothing),
	UNIT_TEST(test_buf_detach_hands_over_storage),
	{ NULL, NULL },
};
