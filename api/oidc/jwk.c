/* oidc/jwk.c - JWK members to OpenSSL 3 public keys (see jwk.h). */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include "oidc/jwk.h"

#define B64URL sodium_base64_VARIANT_URLSAFE_NO_PADDING
/* 8192-bit moduli are the largest keys an issuer publishes */
#define RSA_BYTES_MAX 1024
#define RSA_BITS_MIN 2048
#define P256_BYTES 32

const char *oidc_alg_name(enum oidc_alg alg)
{
	return alg == OIDC_ES256 ? "ES256" : "RS256";
}

/* base64url member `name` of jwk into out (at most cap bytes); the
 * decoded length, or -1 when missing or malformed. */
static long member_bytes(const cJSON *jwk, const char *name,
			 unsigned char *out, size_t cap)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(jwk, name);
	size_t n;

	if (!cJSON_IsString(m) ||
	    sodium_base642bin(out, cap, m->valuestring, strlen(m->valuestring),
			      NULL, &n, NULL, B64URL))
		return -1;
	return (long)n;
}

static const char *member_string(const cJSON *jwk, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(jwk, name));
}

/* EVP_PKEY_fromdata of a public key of type `type` ("RSA", "EC"). */
static enum sc_err from_params(const char *type, OSSL_PARAM_BLD *bld,
			       EVP_PKEY **out)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	enum sc_err rc = SC_ERR_NOMEM;

	*out = NULL;
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0)
		goto out;
	rc = EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) > 0
		     ? SC_OK
		     : SC_ERR_INVALID;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return rc;
}

static enum sc_err rsa_key(const cJSON *jwk, EVP_PKEY **out, const char **why)
{
	unsigned char n[RSA_BYTES_MAX], e[8];
	long nlen = member_bytes(jwk, "n", n, sizeof(n));
	long elen = member_bytes(jwk, "e", e, sizeof(e));
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *bn = NULL, *be = NULL;
	enum sc_err rc = SC_ERR_NOMEM;

	*why = "RSA key without a usable n and e";
	if (nlen <= 0 || elen <= 0)
		return SC_ERR_INVALID;
	if (!(bn = BN_bin2bn(n, (int)nlen, NULL)) ||
	    !(be = BN_bin2bn(e, (int)elen, NULL)) ||
	    !(bld = OSSL_PARAM_BLD_new()))
		goto out;
	if (BN_num_bits(bn) < RSA_BITS_MIN) {
		*why = "RSA key shorter than 2048 bits";
		rc = SC_ERR_INVALID;
		goto out;
	}
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
		goto out;
	rc = from_params("RSA", bld, out);
	*why = "OpenSSL refused the RSA key";
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return rc;
}

static enum sc_err p256_key(const cJSON *jwk, EVP_PKEY **out, const char **why)
{
	unsigned char point[1 + 2 * P256_BYTES];
	const char *crv = member_string(jwk, "crv");
	OSSL_PARAM_BLD *bld;
	EVP_PKEY_CTX *check;
	enum sc_err rc = SC_ERR_NOMEM;

	*why = "EC key not on P-256";
	if (!crv || strcmp(crv, "P-256"))
		return SC_ERR_INVALID;
	*why = "EC key without 32-byte x and y";
	/* SEC 1 section 2.3.3: an uncompressed point is 04 || x || y */
	point[0] = 0x04;
	if (member_bytes(jwk, "x", point + 1, P256_BYTES + 1) != P256_BYTES ||
	    member_bytes(jwk, "y", point + 1 + P256_BYTES, P256_BYTES + 1) !=
		    P256_BYTES)
		return SC_ERR_INVALID;
	if (!(bld = OSSL_PARAM_BLD_new()))
		return SC_ERR_NOMEM;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					    "prime256v1", 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
					     point, sizeof(point)))
		rc = from_params("EC", bld, out);
	OSSL_PARAM_BLD_free(bld);
	/* with 32-byte coordinates on a named curve, OpenSSL refuses only a
	 * point that is not on it */
	*why = "EC point not on P-256";
	if (rc)
		return rc;
	/* a point off the curve would make every check meaningless: checked
	 * again, whatever the provider checked on import */
	check = EVP_PKEY_CTX_new_from_pkey(NULL, *out, NULL);
	if (!check || EVP_PKEY_public_check(check) <= 0) {
		*why = "EC point not on P-256";
		rc = check ? SC_ERR_INVALID : SC_ERR_NOMEM;
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	EVP_PKEY_CTX_free(check);
	return rc;
}

enum sc_err oidc_jwk_from_json(const cJSON *jwk, struct oidc_jwk *out,
			       const char **why)
{
	const char *kty = member_string(jwk, "kty");
	const char *use = member_string(jwk, "use");
	const char *alg = member_string(jwk, "alg");
	const char *kid = member_string(jwk, "kid");
	enum sc_err rc;

	memset(out, 0, sizeof(*out));
	*why = "not a JWK object";
	if (!cJSON_IsObject(jwk))
		return SC_ERR_INVALID;
	if (kid && strlen(kid) >= sizeof(out->kid)) {
		*why = "kid too long";
		return SC_ERR_INVALID;
	}
	if (use && strcmp(use, "sig")) {
		*why = "not a signature key (use)";
		return SC_ERR_INVALID;
	}
	if (kty && !strcmp(kty, "RSA")) {
		out->alg = OIDC_RS256;
		rc = rsa_key(jwk, &out->pkey, why);
	} else if (kty && !strcmp(kty, "EC")) {
		out->alg = OIDC_ES256;
		rc = p256_key(jwk, &out->pkey, why);
	} else {
		*why = "key type is neither RSA nor EC";
		return SC_ERR_INVALID;
	}
	if (rc == SC_OK && alg && strcmp(alg, oidc_alg_name(out->alg))) {
		*why = "the key's alg does not match its type";
		rc = SC_ERR_INVALID;
	}
	if (rc) {
		oidc_jwk_clear(out);
		return rc;
	}
	if (kid)
		memcpy(out->kid, kid, strlen(kid) + 1);
	return SC_OK;
}

void oidc_jwk_clear(struct oidc_jwk *k)
{
	EVP_PKEY_free(k->pkey);
	k->pkey = NULL;
}
