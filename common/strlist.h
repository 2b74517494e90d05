/*
 * strlist.h - comma-separated word lists ("mp4,mov"), as settings hold them.
 */
#ifndef SC_STRLIST_H
#define SC_STRLIST_H

#include <stddef.h>

/* Is the word (len bytes, not empty) one of the words of list? */
int strlist_has(const char *list, const char *word, size_t len);

/* Does any word of a appear in b? */
int strlist_meet(const char *a, const char *b);

#endif
