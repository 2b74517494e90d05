/*
 * fingerprint.h - keyed hashes that stand for a voter's network, browser
 * or email without revealing them.
 *
 * BLAKE2b (RFC 7693, libsodium's crypto_generichash) under a 32-byte key
 * made from API_VOTE_AUDIT_KEY, or when that is empty from JWT_SECRET
 * (hashed with a label, so neither key can be recovered from the other).
 * Changing the key with each contest makes an address hash differently
 * from one contest to the next.  A label keeps the kinds apart: the same
 * text hashes differently as a network and as an email.
 */
#ifndef SC_FINGERPRINT_H
#define SC_FINGERPRINT_H

#include <stddef.h>

#define FINGERPRINT_KEY_BYTES 32
#define FINGERPRINT_HEX 33	/* 16 bytes as lowercase hex, and a NUL */

struct fingerprint_key {
	unsigned char k[FINGERPRINT_KEY_BYTES];
};

/* The key from the configured secret (audit_key, else jwt_secret). */
void fingerprint_key_init(struct fingerprint_key *key, const char *audit_key,
			  const char *jwt_secret);

/*
 * out = hex(BLAKE2b-128(key, label || 0 || text[0..len))).  label is a
 * constant such as "network", "agent", "email".
 */
void fingerprint(const struct fingerprint_key *key, const char *label,
		 const char *text, size_t len, char out[FINGERPRINT_HEX]);

#endif
