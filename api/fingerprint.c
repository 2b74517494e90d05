/* fingerprint.c - keyed BLAKE2b hashes (see fingerprint.h). */
#include <string.h>

#include <sodium.h>

#include "fingerprint.h"

#define DERIVE_LABEL "showcase vote audit key v1"

void fingerprint_key_init(struct fingerprint_key *key, const char *audit_key,
			  const char *jwt_secret)
{
	const char *secret = audit_key && audit_key[0] ? audit_key : jwt_secret;
	crypto_generichash_state st;

	/* a fixed label, then the secret whatever its length */
	crypto_generichash_init(&st, NULL, 0, sizeof(key->k));
	crypto_generichash_update(&st, (const unsigned char *)DERIVE_LABEL,
				  sizeof(DERIVE_LABEL));	/* with its NUL */
	crypto_generichash_update(&st, (const unsigned char *)secret,
				  strlen(secret));
	crypto_generichash_final(&st, key->k, sizeof(key->k));
}

void fingerprint(const struct fingerprint_key *key, const char *label,
		 const char *text, size_t len, char out[FINGERPRINT_HEX])
{
	crypto_generichash_state st;
	unsigned char h[16];

	crypto_generichash_init(&st, key->k, sizeof(key->k), sizeof(h));
	crypto_generichash_update(&st, (const unsigned char *)label,
				  strlen(label) + 1);	/* the NUL ends it */
	crypto_generichash_update(&st, (const unsigned char *)text, len);
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, FINGERPRINT_HEX, h, sizeof(h));
}
