/*
 * webhook.h - endpoint secrets and signatures for webhooks, as Standard
 * Webhooks v1 defines them (https://www.standardwebhooks.com; the text is
 * spec/standard-webhooks.md in github.com/standard-webhooks/standard-webhooks,
 * "Signature scheme" and "Webhook headers"):
 *
 *   secret     "whsec_" + base64 (RFC 4648, with padding) of a random key
 *              of 24 to 64 bytes; ours are 24 bytes
 *   signed     "<webhook-id>.<webhook-timestamp>.<body>", the body byte
 *              for byte as it is sent
 *   signature  "v1," + base64(HMAC-SHA256(key, signed)), sent in the
 *              webhook-signature header
 *
 * Invariants: the key is the secret's base64 decoded, never the secret's
 * text; a message id must not contain '.' (the spec's rule: the signed
 * content would be ambiguous).  sodium_init() must have succeeded before
 * either function is called (the programs call it at start-up).  Both
 * are thread-safe and allocate nothing.
 */
#ifndef SC_WEBHOOK_H
#define SC_WEBHOOK_H

#include <stddef.h>

#include "error.h"

#define WEBHOOK_SECRET_MAX 64      /* "whsec_" + base64 of 24 bytes + NUL fits */
#define WEBHOOK_SIGNATURE_MAX 64   /* "v1," + base64 of 32 bytes + NUL */

/* The secrets' prefix, and the key lengths the spec allows (bytes). */
#define WEBHOOK_SECRET_PREFIX "whsec_"
#define WEBHOOK_KEY_BYTES 24       /* what webhook_new_secret() makes */
#define WEBHOOK_KEY_MAX 64         /* the longest key webhook_sign() takes */

/* A new endpoint secret, "whsec_" + base64(24 random bytes). */
void webhook_new_secret(char out[WEBHOOK_SECRET_MAX]);

/*
 * out = "v1," + base64(HMAC-SHA256(base64decode(secret without "whsec_"),
 *        msg_id "." timestamp "." body[0..len))).  SC_ERR_INVALID: not a
 * whsec_ secret (no prefix, not base64, a key that is empty or longer
 * than WEBHOOK_KEY_MAX bytes), or a msg_id that is empty or holds a '.';
 * out is then "".  body may hold any bytes (NULL when len is 0).
 */
enum sc_err webhook_sign(const char *secret, const char *msg_id, long long timestamp,
			 const char *body, size_t len, char out[WEBHOOK_SIGNATURE_MAX]);

#endif
