/* input.c - validation of client input (see input.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "input.h"

void input_bad(struct input *in, const char *name, const char *reason)
{
	if (!in->fields && !(in->fields = cJSON_CreateObject())) {
		in->oom = 1;
		return;
	}
	if (!cJSON_GetObjectItemCaseSensitive(in->fields, name) &&
	    !cJSON_AddStringToObject(in->fields, name, reason))
		in->oom = 1;
}

int input_text_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	int n, i;

	while (p < end) {
		if (*p < 0x80) {
			if (*p < 0x20 && *p != '\t')
				return 0;
			if (*p == 0x7f)
				return 0;
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			n = 1;
		else if ((*p & 0xf0) == 0xe0)
			n = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			n = 3;
		else
			return 0;
		if (end - p <= n)
			return 0;
		for (i = 1; i <= n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		/* overlong three-byte forms and surrogates */
		if (n == 2 && ((p[0] == 0xe0 && p[1] < 0xa0) ||
			       (p[0] == 0xed && p[1] >= 0xa0)))
			return 0;
		if (n == 3 && ((p[0] == 0xf0 && p[1] < 0x90) ||
			       (p[0] == 0xf4 && p[1] >= 0x90)))
			return 0;
		p += n + 1;
	}
	return 1;
}

const char *input_string(struct input *in, const cJSON *obj, const char *name,
			 size_t min, size_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	size_t n;

	if (!v || cJSON_IsNull(v)) {
		input_bad(in, name, "is required");
		return NULL;
	}
	if (!cJSON_IsString(v)) {
		input_bad(in, name, "must be a string");
		return NULL;
	}
	n = strlen(v->valuestring);
	if (n < min) {
		input_bad(in, name, min == 1 ? "must not be empty" : "is too short");
		return NULL;
	}
	if (n > max) {
		input_bad(in, name, "is too long");
		return NULL;
	}
	if (!input_text_ok(v->valuestring, n)) {
		input_bad(in, name, "must be UTF-8 text without control characters");
		return NULL;
	}
	return v->valuestring;
}

const char *input_text(struct input *in, const cJSON *obj, const char *name,
		       size_t min, size_t max)
{
	const char *v = input_string(in, obj, name, min, max);

	if (v && v[strspn(v, " \t")] == '\0') {
		input_bad(in, name, "must not be blank");
		return NULL;
	}
	return v;
}

int input_bool(struct input *in, const cJSON *obj, const char *name, int def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!v || cJSON_IsNull(v))
		return def;
	if (!cJSON_IsBool(v)) {
		input_bad(in, name, "must be true or false");
		return def;
	}
	return cJSON_IsTrue(v);
}

int input_parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "true", "1", "on", "yes" };
	static const char *const no[] = { "false", "0", "off", "no" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(v, yes[i]))
			return *out = 1, 0;
		if (!strcasecmp(v, no[i]))
			return *out = 0, 0;
	}
	return -1;
}

long input_query_long(struct input *in, struct MHD_Connection *conn,
		      const char *name, long def, long min, long max)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						    name);
	char *end;
	long n;

	if (!v)
		return def;
	n = strtol(v, &end, 10);
	if (!*v || *end || n < min || n > max) {
		input_bad(in, name, "must be an integer in range");
		return def;
	}
	return n;
}

void input_page(struct input *in, struct MHD_Connection *conn, char limit[16],
		char offset[24])
{
	long page = input_query_long(in, conn, "page", 1, 1, 100000);
	long lim = input_query_long(in, conn, "limit", 20, 1, 100);

	snprintf(limit, 16, "%ld", lim);
	snprintf(offset, 24, "%ld", (page - 1) * lim);
}

int input_failed(const struct input *in)
{
	return in->fields != NULL || in->oom;
}

enum MHD_Result input_reply(struct input *in, struct request *req,
			    struct MHD_Connection *conn)
{
	cJSON *fields = in->fields;

	in->fields = NULL;
	if (in->oom) {
		cJSON_Delete(fields);
		return http_send_error(req, conn, MHD_HTTP_SERVICE_UNAVAILABLE,
				       "unavailable", "out of memory");
	}
	return http_send_error_fields(req, conn, MHD_HTTP_BAD_REQUEST,
				      "invalid_fields",
				      "some fields are missing or invalid", fields);
}
