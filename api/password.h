/*
 * password.h - password rules and hashing (argon2id, libsodium).
 *
 * Hashes are libsodium's self-describing strings ($argon2id$v=19$m=...),
 * so the cost settings can change without invalidating old hashes.
 */
#ifndef SC_PASSWORD_H
#define SC_PASSWORD_H

#include <stddef.h>

#include "error.h"

#define PASSWORD_MIN 8
#define PASSWORD_MAX 128
#define PASSWORD_HASH_MAX 128	/* crypto_pwhash_STRBYTES */

/* NULL if pw is acceptable, else why not. */
const char *password_weakness(const char *pw);

/* Hash pw with ops passes over mem_kb KiB into out (PASSWORD_HASH_MAX). */
enum sc_err password_hash(const char *pw, int ops, int mem_kb, char *out);

/* 1 if pw matches hash, 0 if not (or the hash is malformed). */
int password_check(const char *hash, const char *pw);

/* Is s an email address (local@domain.tld, the common subset)? */
int email_valid(const char *s);

#endif
