/*
 * strlist.c - comma-separated word lists.
 */
#include <string.h>

#include "strlist.h"

int strlist_has(const char *list, const char *word, size_t len)
{
	const char *p = list;
	size_t n;

	if (!len)
		return 0;
	for (;;) {
		n = strcspn(p, ",");
		if (n == len && !strncmp(p, word, len))
			return 1;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

int strlist_meet(const char *a, const char *b)
{
	const char *p = a;
	size_t n;

	for (;;) {
		n = strcspn(p, ",");
		if (strlist_has(b, p, n))
			return 1;
		if (!p[n])
			return 0;
		p += n + 1;
	}
}
