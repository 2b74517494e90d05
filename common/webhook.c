/*
 * webhook.c - Standard Webhooks v1 secrets and HMAC-SHA256 signatures
 * (see webhook.h), with libsodium.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "webhook.h"

#define PREFIX_LEN (sizeof(WEBHOOK_SECRET_PREFIX) - 1)
#define B64 sodium_base64_VARIANT_ORIGINAL

/* the base64 of the key must fit after the prefix */
_Static_assert(PREFIX_LEN + sodium_base64_ENCODED_LEN(WEBHOOK_KEY_BYTES, B64)
	       <= WEBHOOK_SECRET_MAX, "WEBHOOK_SECRET_MAX too small");
_Static_assert(3 + sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES, B64)
	       <= WEBHOOK_SIGNATURE_MAX, "WEBHOOK_SIGNATURE_MAX too small");

void webhook_new_secret(char out[WEBHOOK_SECRET_MAX])
{
	unsigned char key[WEBHOOK_KEY_BYTES];

	randombytes_buf(key, sizeof(key));
	memcpy(out, WEBHOOK_SECRET_PREFIX, PREFIX_LEN);
	sodium_bin2base64(out + PREFIX_LEN, WEBHOOK_SECRET_MAX - PREFIX_LEN,
			  key, sizeof(key), B64);
	sodium_memzero(key, sizeof(key));
}

enum sc_err webhook_sign(const char *secret, const char *msg_id, long long timestamp,
			 const char *body, size_t len, char out[WEBHOOK_SIGNATURE_MAX])
{
	unsigned char key[WEBHOOK_KEY_MAX], mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	char ts[24];
	enum sc_err err = SC_ERR_INVALID;
	size_t keylen = 0;
	int n;

	out[0] = '\0';
	if (strncmp(secret, WEBHOOK_SECRET_PREFIX, PREFIX_LEN) ||
	    sodium_base642bin(key, sizeof(key), secret + PREFIX_LEN,
			      strlen(secret + PREFIX_LEN), NULL, &keylen, NULL,
			      B64) || keylen == 0 ||
	    !*msg_id || strchr(msg_id, '.'))
		goto out_wipe;
	n = snprintf(ts, sizeof(ts), "%lld", timestamp);
	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg_id,
				      strlen(msg_id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, (size_t)n);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)".", 1);
	if (len)
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "v1,", 3);
	sodium_bin2base64(out + 3, WEBHOOK_SIGNATURE_MAX - 3, mac, sizeof(mac), B64);
	sodium_memzero(&st, sizeof(st));
	err = SC_OK;
out_wipe:
	sodium_memzero(key, sizeof(key));
	return err;
}
