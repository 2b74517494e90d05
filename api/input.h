/*
 * input.h - validation of what clients send: JSON fields, query
 * parameters, path ids.
 *
 * A route checks every field before it acts and answers with all the
 * problems at once: the checks below record each bad field's reason in a
 * struct input, and input_reply() sends 400 invalid_fields with a
 * "fields" object ({"email":"is not an email address", ...}) in the
 * project's error shape.  Strings are counted in bytes after UTF-8
 * validation (cJSON passes bytes through), and kept verbatim: SQL is
 * parameterised, so "'; DROP TABLE" is just a title.
 */
#ifndef SC_INPUT_H
#define SC_INPUT_H

#include <cjson/cJSON.h>

#include "http.h"

struct input {
	cJSON *fields;		/* name -> reason; NULL while all is well */
	int oom;
};

/* The string field name of obj, min..max bytes, or NULL (reason recorded). */
const char *input_string(struct input *in, const cJSON *obj, const char *name,
			 size_t min, size_t max);

/*
 * A name-like field (a person's name, a city, a country): input_string(),
 * and not only spaces or tabs ("must not be blank"), which a ranking per
 * city or a player's card could not show.
 */
const char *input_text(struct input *in, const cJSON *obj, const char *name,
		       size_t min, size_t max);

/* An optional boolean field (JSON true/false); def when absent. */
int input_bool(struct input *in, const cJSON *obj, const char *name, int def);

/* Record a reason for name (the first reason per field is kept). */
void input_bad(struct input *in, const char *name, const char *reason);

/* Query parameter name as an integer in [min, max], def when absent. */
long input_query_long(struct input *in, struct MHD_Connection *conn,
		      const char *name, long def, long min, long max);

/* ?page= (from 1) and ?limit= (1..100, default 20) as SQL text. */
void input_page(struct input *in, struct MHD_Connection *conn, char limit[16],
		char offset[24]);

/* Parse a boolean form value ("true", "false", "1", "0", "on", "off"). */
int input_parse_bool(const char *v, int *out);

/* Is s valid UTF-8 without control characters other than tab? */
int input_text_ok(const char *s, size_t len);


/* Anything recorded?  Then send 400 invalid_fields and free; else 0. */
int input_failed(const struct input *in);
enum MHD_Result input_reply(struct input *in, struct request *req,
			    struct MHD_Connection *conn);

#endif
