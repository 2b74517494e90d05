/* jwt.c - HS256 tokens with libsodium's HMAC-SHA-256 (see jwt.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "jwt.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static void hmac(const char *secret, const char *msg, size_t len,
		 unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
				    strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, len);
	crypto_auth_hmacsha256_final(&st, mac);
}

/* Append base64url(data) at out + *pos; 0 if it does not fit. */
static int put_b64(char *out, size_t *pos, const void *data, size_t len)
{
	size_t need = sodium_base64_ENCODED_LEN(len, B64);

	if (*pos + need > JWT_MAX)
		return 0;
	sodium_bin2base64(out + *pos, need, data, len, B64);
	*pos += strlen(out + *pos);
	return 1;
}

enum sc_err jwt_sign(const char *secret, long long sub, long long now,
		     long ttl_s, char *out)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char payload[128];
	size_t pos = 0;
	int n;

	n = snprintf(payload, sizeof(payload),
		     "{\"sub\":\"%lld\",\"iat\":%lld,\"exp\":%lld}", sub, now,
		     now + ttl_s);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return SC_ERR_INVALID;
	if (!put_b64(out, &pos, header, sizeof(header) - 1) || pos + 1 >= JWT_MAX)
		return SC_ERR_INVALID;
	out[pos++] = '.';
	if (!put_b64(out, &pos, payload, (size_t)n) || pos + 1 >= JWT_MAX)
		return SC_ERR_INVALID;
	hmac(secret, out, pos, mac);
	out[pos++] = '.';
	if (!put_b64(out, &pos, mac, sizeof(mac)))
		return SC_ERR_INVALID;
	return SC_OK;
}

/* Decode one base64url segment [s, s+len) as a JSON object. */
static cJSON *segment_json(const char *s, size_t len)
{
	unsigned char bin[JWT_MAX];
	size_t n;
	cJSON *j;

	if (sodium_base642bin(bin, sizeof(bin) - 1, s, len, NULL, &n, NULL, B64))
		return NULL;
	bin[n] = '\0';
	j = cJSON_ParseWithLength((const char *)bin, n);
	if (j && !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

static enum sc_err refuse(const char **why, const char *reason)
{
	*why = reason;
	return SC_ERR_AUTH;
}

enum sc_err jwt_verify(const char *secret, const char *token, long long now,
		       long long *sub, const char **why)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	unsigned char given[crypto_auth_hmacsha256_BYTES + 1];
	const char *dot1, *dot2, *sig;
	const cJSON *alg, *exp, *s;
	cJSON *header, *claims;
	size_t n;
	char *end;
	long long id;
	enum sc_err rc;

	*sub = 0;
	if (strlen(token) >= JWT_MAX)
		return refuse(why, "token too long");
	dot1 = strchr(token, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot2 || strchr(dot2 + 1, '.'))
		return refuse(why, "not a JWT");
	header = segment_json(token, (size_t)(dot1 - token));
	alg = cJSON_GetObjectItemCaseSensitive(header, "alg");
	if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "HS256")) {
		cJSON_Delete(header);
		return refuse(why, "algorithm is not HS256");
	}
	cJSON_Delete(header);
	sig = dot2 + 1;
	if (sodium_base642bin(given, sizeof(given), sig, strlen(sig), NULL, &n,
			      NULL, B64) ||
	    n != sizeof(mac))
		return refuse(why, "bad signature");
	hmac(secret, token, (size_t)(dot2 - token), mac);
	if (sodium_memcmp(mac, given, sizeof(mac)))
		return refuse(why, "bad signature");

	claims = segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
	s = cJSON_GetObjectItemCaseSensitive(claims, "sub");
	rc = SC_OK;
	if (!cJSON_IsNumber(exp))
		rc = refuse(why, "no expiry");
	else if (exp->valuedouble <= (double)now)
		rc = refuse(why, "token expired");
	else if (!cJSON_IsString(s))
		rc = refuse(why, "no subject");
	else {
		id = strtoll(s->valuestring, &end, 10);
		if (*end || end == s->valuestring || id <= 0)
			rc = refuse(why, "bad subject");
		else
			*sub = id;
	}
	cJSON_Delete(claims);
	return rc;
}
