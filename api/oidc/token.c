/* oidc/token.c - parse and check an issuer's JWT (see token.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <sodium.h>

#include "oidc/token.h"

#define B64URL sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define ES256_HALF 32

static enum sc_err refuse(const char **why, const char *reason)
{
	*why = reason;
	return SC_ERR_AUTH;
}

/* Decode the base64url segment [s, s+len) as a JSON object, or NULL. */
static cJSON *segment_json(const char *s, size_t len)
{
	unsigned char *bin = malloc(len + 1);
	cJSON *j = NULL;
	size_t n;

	if (bin && !sodium_base642bin(bin, len, s, len, NULL, &n, NULL, B64URL)) {
		j = cJSON_ParseWithLength((const char *)bin, n);
		if (j && !cJSON_IsObject(j)) {
			cJSON_Delete(j);
			j = NULL;
		}
	}
	free(bin);
	return j;
}

enum sc_err oidc_token_parse(const char *token, struct oidc_token *t,
			     const char **why)
{
	const char *dot1, *dot2, *sig;
	const cJSON *alg, *kid;

	memset(t, 0, sizeof(*t));
	if (strlen(token) >= OIDC_TOKEN_MAX)
		return refuse(why, "token too long");
	dot1 = strchr(token, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot2 || strchr(dot2 + 1, '.'))
		return refuse(why, "not a JWT");
	t->header = segment_json(token, (size_t)(dot1 - token));
	t->claims = segment_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (!t->header || !t->claims) {
		oidc_token_free(t);
		return refuse(why, "not a JWT");
	}
	alg = cJSON_GetObjectItemCaseSensitive(t->header, "alg");
	kid = cJSON_GetObjectItemCaseSensitive(t->header, "kid");
	if (!cJSON_IsString(alg) || (kid && !cJSON_IsString(kid))) {
		oidc_token_free(t);
		return refuse(why, "no algorithm in the token's header");
	}
	t->alg = alg->valuestring;
	t->kid = kid ? kid->valuestring : NULL;
	t->signed_len = (size_t)(dot2 - token);
	sig = dot2 + 1;
	if (sodium_base642bin(t->sig, sizeof(t->sig), sig, strlen(sig), NULL,
			      &t->sig_len, NULL, B64URL)) {
		oidc_token_free(t);
		return refuse(why, "bad signature");
	}
	return SC_OK;
}

void oidc_token_free(struct oidc_token *t)
{
	cJSON_Delete(t->header);
	cJSON_Delete(t->claims);
	t->header = t->claims = NULL;
}

/* RFC 7518 section 3.4: R || S, each 32 bytes, as OpenSSL's DER
 * ECDSA-Sig-Value.  *der is the caller's (OPENSSL_free); 0 on failure. */
static int es256_der(const unsigned char *raw, unsigned char **der)
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, ES256_HALF, NULL);
	BIGNUM *ss = BN_bin2bn(raw + ES256_HALF, ES256_HALF, NULL);
	int len = 0;

	*der = NULL;
	if (s && r && ss && ECDSA_SIG_set0(s, r, ss)) {
		r = ss = NULL;	/* s owns them now */
		len = i2d_ECDSA_SIG(s, der);
	}
	BN_free(r);
	BN_free(ss);
	ECDSA_SIG_free(s);
	return len > 0 ? len : 0;
}

enum sc_err oidc_token_signature(const struct oidc_token *t, const char *token,
				 const struct oidc_jwk *key, const char **why)
{
	const unsigned char *sig = t->sig;
	unsigned char *der = NULL;
	size_t sig_len = t->sig_len;
	EVP_MD_CTX *md;
	enum sc_err rc = SC_ERR_NOMEM;
	int ok;

	if (strcmp(t->alg, oidc_alg_name(key->alg)))
		return refuse(why, "the token's algorithm is not its key's");
	if (key->alg == OIDC_ES256) {
		if (sig_len != 2 * ES256_HALF)
			return refuse(why, "bad signature");
		if (!(sig_len = (size_t)es256_der(t->sig, &der)))
			return SC_ERR_NOMEM;
		sig = der;
	}
	if (!(md = EVP_MD_CTX_new()))
		goto out;
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) <= 0)
		goto out;
	ok = EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)token,
			      t->signed_len);
	rc = ok == 1 ? SC_OK : refuse(why, "bad signature");
out:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	return rc;
}

/* ---- claims ------------------------------------------------------------ */

static const char *claim_string(const cJSON *claims, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(claims, name));
}

/* Copy claim `name` into out when it is a string that fits and holds no
 * control character; else leave out "". */
static void copy_claim(const cJSON *claims, const char *name, char *out,
		       size_t cap)
{
	const char *v = claim_string(claims, name);
	size_t n, i;

	out[0] = '\0';
	if (!v || (n = strlen(v)) >= cap)
		return;
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return;
	memcpy(out, v, n + 1);
}

/* Does aud (a string or an array of strings) hold audience? */
static int aud_holds(const cJSON *aud, const char *audience)
{
	const cJSON *a;

	if (cJSON_IsString(aud))
		return !strcmp(aud->valuestring, audience);
	if (!cJSON_IsArray(aud))
		return 0;
	cJSON_ArrayForEach(a, aud)
		if (cJSON_IsString(a) && !strcmp(a->valuestring, audience))
			return 1;
	return 0;
}

static const char *audience_wrong(const cJSON *claims, const char *audience)
{
	const char *use = claim_string(claims, "token_use");
	const char *client = claim_string(claims, "client_id");

	if (use && !strcmp(use, "access"))
		return client && !strcmp(client, audience)
			       ? NULL
			       : "the token is for another client (client_id)";
	if (use && strcmp(use, "id"))
		return "the token is neither an ID nor an access token (token_use)";
	return aud_holds(cJSON_GetObjectItemCaseSensitive(claims, "aud"), audience)
		       ? NULL
		       : "the token is for another audience (aud)";
}

/* The time claims; NULL when they allow `now`. */
static const char *time_wrong(const cJSON *claims, long long now, long leeway)
{
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(claims, "exp");
	const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(claims, "nbf");
	const cJSON *iat = cJSON_GetObjectItemCaseSensitive(claims, "iat");

	/* RFC 7519 section 2: NumericDate; a string is named as such, so
	 * that an issuer's odd token is not taken for an expired one */
	if (!exp)
		return "no expiry";
	if (!cJSON_IsNumber(exp))
		return "the token's exp is not a number (NumericDate)";
	if (nbf && !cJSON_IsNumber(nbf))
		return "the token's nbf is not a number (NumericDate)";
	if (iat && !cJSON_IsNumber(iat))
		return "the token's iat is not a number (NumericDate)";
	if (exp->valuedouble + (double)leeway <= (double)now)
		return "token expired";
	if (nbf && nbf->valuedouble - (double)leeway > (double)now)
		return "token not valid yet (nbf)";
	if (iat && iat->valuedouble - (double)leeway > (double)now)
		return "token issued in the future (iat)";
	return NULL;
}

enum sc_err oidc_token_claims(const cJSON *claims, const struct oidc_expect *e,
			      long long now, struct oidc_identity *id,
			      const char **why)
{
	const char *iss = claim_string(claims, "iss");
	const char *wrong;

	memset(id, 0, sizeof(*id));
	if (!iss || strcmp(iss, e->issuer))
		return refuse(why, "the token is from another issuer (iss)");
	if ((wrong = time_wrong(claims, now, e->leeway_s)) ||
	    (wrong = audience_wrong(claims, e->audience)))
		return refuse(why, wrong);
	copy_claim(claims, "sub", id->sub, sizeof(id->sub));
	if (!id->sub[0])
		return refuse(why, "no usable subject (sub)");
	copy_claim(claims, "email", id->email, sizeof(id->email));
	copy_claim(claims, "given_name", id->given_name, sizeof(id->given_name));
	copy_claim(claims, "family_name", id->family_name,
		   sizeof(id->family_name));
	if (!id->given_name[0] && !id->family_name[0])
		copy_claim(claims, "name", id->given_name, sizeof(id->given_name));
	return SC_OK;
}
