/*
 * test_oidc.c - an identity provider's keys and tokens (api/oidc/): JWKs
 * to keys, signatures, claims and key sets.  The keys and tokens below
 * were made by an independent implementation (Python's jwcrypto).
 */
#include <stdio.h>
#include <string.h>

#include "oidc/jwks.h"
#include "oidc/token.h"
#include "unit.h"

#define NOW 1700000100LL

static const char rsa_jwk[] =
	"{\"e\":\"AQAB\",\"kid\":\"r1\",\"kty\":\"RSA\",\"n\":\"wCscnFjv54noXPq0S7mLPb1Qj"
	"qmcyVktV4R1gy5AfP9L1mXcPDlvuW5VO5l-WmoaSTczTLN4TCHXR-_o3bTL_C6iHGknoAGzd0ql24X"
	"U3IGFnJiJoZRoXySED8W8-u3OCrSrpoy4FUo8QbAgqbsO1S4dvKDI1U1HiXSdnTA_dFZ3pyQ9Mfgbd"
	"dHUaFeObLpQFgulVcilGeqlDViLz2c9FXCVT3d8dnxWA-XaUKoHDwkd4a97V-MLoJdQj2SiIKq__Od"
	"DR2Dcp6zFh2hkxPV35YByhKCh577UKGBvYLai3mIO6WcxNROdNpdL8TUaRGgH3_fOQR3mMKAZX4C7O"
	"QAZLw\"}";
static const char rsa_token[] =
	"eyJhbGciOiJSUzI1NiIsImtpZCI6InIxIn0."
	"eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlLm9yZyIsImF1ZCI6ImFwcCIsInN1YiI6InVz"
	"ZXItMSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwLCJlbWFpbCI6InVAZXhhbXBs"
	"ZS5vcmcifQ."
	"sL_p5m61Lwux4G8PUdRSyRTKx4LqEK3bkDWOuC4fFMuEg2_oZ_FF1XO4GmcC7DJV9i-yPhPee_Hl"
	"8r_c6UVYV64022WEYvr46XrCYwTdS2asZgjsj460klg-cyoXRkFdnNEW45o14g9musOM01aEELek"
	"RBXAJhCG5fgpLoE0Cp2QL3TVNlpLwublFTWXv_yVAaRG_Po4XVpIkSGoR75LPAdwZG2sYrDLjcNF"
	"jMQY7NZ1m05CThrE_Lafx1J5fYp39YIUhm9n4C8jUbn0c93yzkXZvhS_WIKRdkglCBbi8-xKIqzJ"
	"2JVJRZ01ro0_5H3A3GQpClRBmaEqA1EIvHcBUA";
static const char ec_jwk[] =
	"{\"crv\":\"P-256\",\"kid\":\"e1\",\"kty\":\"EC\","
	"\"x\":\"SxoNu2LUXe7w7QygU3akPHslnjya1S56hFfv7txf2CY\","
	"\"y\":\"iTbdRi9SyvOzbrK4_N6w2Vtf4Sbf4-pR1pEIUw81ww8\"}";
static const char ec_token[] =
	"eyJhbGciOiJFUzI1NiIsImtpZCI6ImUxIn0."
	"eyJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlLm9yZyIsImF1ZCI6ImFwcCIsInN1YiI6InVz"
	"ZXItMSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwLCJlbWFpbCI6InVAZXhhbXBs"
	"ZS5vcmcifQ."
	"Moaf8u6J_e42PaAHC7yIpnqo7TWZzHmhKArfSrdrkGjn-t_6GzmCJ2BZ63lV8wBc0GqOxYGq0ASC"
	"UTl7neGslA";

static const struct oidc_expect expect = { "https://issuer.example.org", "app",
					   60 };

static enum sc_err key_of(const char *json, struct oidc_jwk *k, const char **why)
{
	cJSON *j = cJSON_Parse(json);
	enum sc_err rc = oidc_jwk_from_json(j, k, why);

	cJSON_Delete(j);
	return rc;
}

/* Verify token with the key of jwk; the result of the signature check. */
static enum sc_err verify_with(const char *jwk, const char *token)
{
	struct oidc_token t;
	struct oidc_jwk k;
	const char *why;
	enum sc_err rc;

	if (key_of(jwk, &k, &why))
		return SC_ERR_INVALID;
	if ((rc = oidc_token_parse(token, &t, &why)) == SC_OK) {
		rc = oidc_token_signature(&t, token, &k, &why);
		oidc_token_free(&t);
	}
	oidc_jwk_clear(&k);
	return rc;
}

static void test_oidc_jwk_keys_and_their_algorithms(void)
{
	struct oidc_jwk k;
	const char *why;

	CHECK_INT(key_of(rsa_jwk, &k, &why), SC_OK);
	CHECK_INT(k.alg, OIDC_RS256);
	CHECK_STR(k.kid, "r1");
	oidc_jwk_clear(&k);
	CHECK_INT(key_of(ec_jwk, &k, &why), SC_OK);
	CHECK_INT(k.alg, OIDC_ES256);
	oidc_jwk_clear(&k);
	oidc_jwk_clear(&k);	/* twice: nothing */
}

static void test_oidc_jwk_refuses_unusable_keys(void)
{
	struct oidc_jwk k;
	const char *why = NULL;

	CHECK_INT(key_of("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}", &k, &why),
		  SC_ERR_INVALID);
	CHECK_STR(why, "key type is neither RSA nor EC");
	/* a 1024-bit modulus */
	CHECK_INT(key_of("{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"wCscnFjv54noXPq0S7mLPb1Qj"
			 "qmcyVktV4R1gy5AfP9L1mXcPDlvuW5VO5l-WmoaSTczTLN4TCHXR-_o3bTL_C6iHGkno"
			 "AGzd0ql24XU3IGFnJiJoZRoXySED8W8-u3OCrSrpoy4FUo8QbAgqbsO1S4dvKDI1U1HiXQ\"}",
			 &k, &why), SC_ERR_INVALID);
	CHECK_STR(why, "RSA key shorter than 2048 bits");
	/* the EC key with y changed: off the curve */
	CHECK_INT(key_of("{\"crv\":\"P-256\",\"kty\":\"EC\","
			 "\"x\":\"SxoNu2LUXe7w7QygU3akPHslnjya1S56hFfv7txf2CY\","
			 "\"y\":\"iTbdRi8SyvOzbrK4_N6w2Vtf4Sbf4-pR1pEIUw81ww8\"}", &k, &why),
		  SC_ERR_INVALID);
	CHECK_STR(why, "EC point not on P-256");
	CHECK_INT(key_of("{\"crv\":\"P-384\",\"kty\":\"EC\",\"x\":\"AA\",\"y\":\"AA\"}",
			 &k, &why), SC_ERR_INVALID);
	CHECK_STR(why, "EC key not on P-256");
	CHECK_INT(key_of("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"AA\",\"y\":\"AA\"}",
			 &k, &why), SC_ERR_INVALID);
	CHECK_INT(key_of("{\"use\":\"enc\",\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"AA\"}",
			 &k, &why), SC_ERR_INVALID);
	CHECK_STR(why, "not a signature key (use)");
	/* an RSA key that says it is for HS256 */
	CHECK_INT(key_of("{\"alg\":\"HS256\",\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":"
			 "\"wCscnFjv54noXPq0S7mLPb1QjqmcyVktV4R1gy5AfP9L1mXcPDlvuW5VO5l-WmoaSTc"
			 "zTLN4TCHXR-_o3bTL_C6iHGknoAGzd0ql24XU3IGFnJiJoZRoXySED8W8-u3OCrSrpoy4F"
			 "Uo8QbAgqbsO1S4dvKDI1U1HiXSdnTA_dFZ3pyQ9MfgbddHUaFeObLpQFgulVcilGeqlDVi"
			 "Lz2c9FXCVT3d8dnxWA-XaUKoHDwkd4a97V-MLoJdQj2SiIKq__OdDR2Dcp6zFh2hkxPV35"
			 "YByhKCh577UKGBvYLai3mIO6WcxNROdNpdL8TUaRGgH3_fOQR3mMKAZX4C7OQAZLw\"}",
			 &k, &why), SC_ERR_INVALID);
	CHECK_STR(why, "the key's alg does not match its type");
}

static void test_oidc_signatures_of_an_independent_signer(void)
{
	char bad[sizeof(ec_token)];

	CHECK_INT(verify_with(rsa_jwk, rsa_token), SC_OK);
	CHECK_INT(verify_with(ec_jwk, ec_token), SC_OK);
	/* each token against the other's key: the key decides the algorithm */
	CHECK_INT(verify_with(ec_jwk, rsa_token), SC_ERR_AUTH);
	CHECK_INT(verify_with(rsa_jwk, ec_token), SC_ERR_AUTH);
	/* one character of the signature changed */
	memcpy(bad, ec_token, sizeof(bad));
	bad[sizeof(bad) - 3] = bad[sizeof(bad) - 3] == 'A' ? 'B' : 'A';
	CHECK_INT(verify_with(ec_jwk, bad), SC_ERR_AUTH);
	/* one character of the claims changed */
	memcpy(bad, ec_token, sizeof(bad));
	bad[40] = bad[40] == 'A' ? 'B' : 'A';
	CHECK_INT(verify_with(ec_jwk, bad), SC_ERR_AUTH);
}

static void test_oidc_token_shapes(void)
{
	struct oidc_token t;
	const char *why = NULL;

	CHECK_INT(oidc_token_parse("a.b", &t, &why), SC_ERR_AUTH);
	CHECK_STR(why, "not a JWT");
	CHECK_INT(oidc_token_parse("a.b.c.d", &t, &why), SC_ERR_AUTH);
	/* {"kid":"x"}.{} : no alg */
	CHECK_INT(oidc_token_parse("eyJraWQiOiJ4In0.e30.", &t, &why), SC_ERR_AUTH);
	CHECK_STR(why, "no algorithm in the token's header");
	/* {"alg":"none"}.{}. parses; no key takes it */
	CHECK_INT(oidc_token_parse("eyJhbGciOiJub25lIn0.e30.", &t, &why), SC_OK);
	CHECK_STR(t.alg, "none");
	CHECK(t.kid == NULL);
	CHECK_INT(t.sig_len, 0);
	oidc_token_free(&t);
}

/* The claims of a JSON text checked against expect at now. */
static enum sc_err claims_of(const char *json, long long now,
			     struct oidc_identity *id, const char **why)
{
	cJSON *c = cJSON_Parse(json);
	enum sc_err rc = oidc_token_claims(c, &expect, now, id, why);

	cJSON_Delete(c);
	return rc;
}

#define ISS "\"iss\":\"https://issuer.example.org\""

static void test_oidc_claims(void)
{
	struct oidc_identity id;
	const char *why = NULL;

	CHECK_INT(claims_of("{" ISS ",\"aud\":\"app\",\"sub\":\"u1\",\"exp\":1700000000,"
			    "\"email\":\"u@example.org\",\"given_name\":\"Ana\"}",
			    NOW - 100, &id, &why), SC_OK);
	CHECK_STR(id.sub, "u1");
	CHECK_STR(id.email, "u@example.org");
	CHECK_STR(id.given_name, "Ana");
	CHECK_STR(id.family_name, "");
	/* exp: 59 s late is within the leeway, 60 s is not */
	CHECK_INT(claims_of("{" ISS ",\"aud\":\"app\",\"sub\":\"u1\",\"exp\":1700000000}",
			    1700000059, &id, &why), SC_OK);
	CHECK_INT(claims_of("{" ISS ",\"aud\":\"app\",\"sub\":\"u1\",\"exp\":1700000000}",
			    1700000060, &id, &why), SC_ERR_AUTH);
	CHECK_STR(why, "token expired");
	CHECK_INT(claims_of("{" ISS ",\"aud\":\"app\",\"sub\":\"u1\"}", NOW, &id, &why),
		  SC_ERR_AUTH);
	CHECK_STR(why, "no expiry");
	/* a time claim that is there but no number (RFC 7519 section 2:
	 * NumericDate) is named as such, not as missing or early */
	CHECK_INT(claims_of("{" ISS ",\"aud\":\"app\",\"sub\":\"u1\",\"exp\":\"1800000000\"}",
			    NOW, &id, &why), SC_ERR_AUTH);
	CHECK_STR(why, "the token's exp is not a number (NumericDate)");
	CHECK_INT(claims_of("{" ISS ",\"aud\":\"app\",\"sub\":\"u1\",\"exp\":1800000000,"
			    "\"nbf\":\"1\"}", NOW, &id, &why), SC_ERR_AUTH);
	CHECK_STR(why, "the token's nbf is not a number (NumericDate)");
	CHECK_INT(claims_of("{" ISS ",\"aud\":\"app\",\"sub\":\"u1\",\"exp\":1800000000,"
			    "\"iat\":null}", NOW, &id, &why), SC_ERR_AUTH);
	CHECK_STR(why, "the token's iat is not a number (NumericDate)");
	CHECK_INT(claims_of("{" ISS ",\"aud\":\"app\",\"sub\":\"u1\",\"exp\":1800000000,"
			    "\"nbf\":1700000200}", NOW, &id, &why), SC_ERR_AUTH);
	CHECK_STR(why, "token not valid yet (nbf)");
	CHECK_INT(claims_of("{" ISS ",\"aud\":\"app\",\"sub\":\"u1\",\"exp\":1800000000,"
			    "\"nbf\":1700000150}", NOW, &id, &why), SC_OK);
	CHECK_INT(claims_of("{\"iss\":\"https://issuer.example.org/\",\"aud\":\"app\","
			    "\"sub\":\"u1\",\"exp\":1800000000}", NOW, &id, &why),
		  SC_ERR_AUTH);
	CHECK_STR(why, "the token is from another issuer (iss)");
	CHECK_INT(claims_of("{" ISS ",\"aud\":[\"x\",\"app\"],\"sub\":\"u1\","
			    "\"exp\":1800000000}", NOW, &id, &why), SC_OK);
	CHECK_INT(claims_of("{" ISS ",\"aud\":[\"x\"],\"sub\":\"u1\",\"exp\":1800000000}",
			    NOW, &id, &why), SC_ERR_AUTH);
	CHECK_STR(why, "the token is for another audience (aud)");
	/* Cognito: access tokens by client_id, ID tokens by aud */
	CHECK_INT(claims_of("{" ISS ",\"token_use\":\"access\",\"client_id\":\"app\","
			    "\"sub\":\"u1\",\"exp\":1800000000}", NOW, &id, &why), SC_OK);
	CHECK_INT(claims_of("{" ISS ",\"token_use\":\"access\",\"aud\":\"app\","
			    "\"sub\":\"u1\",\"exp\":1800000000}", NOW, &id, &why),
		  SC_ERR_AUTH);
	CHECK_STR(why, "the token is for another client (client_id)");
	CHECK_INT(claims_of("{" ISS ",\"token_use\":\"id\",\"aud\":\"app\","
			    "\"sub\":\"u1\",\"exp\":1800000000}", NOW, &id, &why), SC_OK);
	CHECK_INT(claims_of("{" ISS ",\"token_use\":\"refresh\",\"aud\":\"app\","
			    "\"sub\":\"u1\",\"exp\":1800000000}", NOW, &id, &why),
		  SC_ERR_AUTH);
	CHECK_INT(claims_of("{" ISS ",\"aud\":\"app\",\"sub\":\"u\\u0001\","
			    "\"exp\":1800000000}", NOW, &id, &why), SC_ERR_AUTH);
	CHECK_STR(why, "no usable subject (sub)");
	CHECK_INT(claims_of("{" ISS ",\"aud\":\"app\",\"sub\":7,\"exp\":1800000000}",
			    NOW, &id, &why), SC_ERR_AUTH);
}

static void test_oidc_key_sets(void)
{
	struct buf err = BUF_INIT(1024);
	struct oidc_keyset *s = NULL;
	char doc[2048];
	int skipped = -1;

	snprintf(doc, sizeof(doc), "{\"keys\":[%s,{\"kty\":\"oct\"},%s]}", rsa_jwk,
		 ec_jwk);
	CHECK_INT(oidc_keyset_parse(doc, strlen(doc), &s, &skipped, &err), SC_OK);
	CHECK_INT(skipped, 1);
	CHECK(s && s->n == 2);
	CHECK(oidc_keyset_find(s, "e1") == &s->keys[1]);
	CHECK(oidc_keyset_find(s, "nope") == NULL);
	CHECK(oidc_keyset_find(s, NULL) == NULL);	/* two keys: which? */
	oidc_keyset_free(s);
	snprintf(doc, sizeof(doc), "{\"keys\":[%s]}", ec_jwk);
	CHECK_INT(oidc_keyset_parse(doc, strlen(doc), &s, &skipped, &err), SC_OK);
	CHECK(oidc_keyset_find(s, NULL) == &s->keys[0]);	/* the only one */
	oidc_keyset_free(s);
	CHECK_INT(oidc_keyset_parse("{\"keys\":[{\"kty\":\"oct\"}]}", 26, &s,
				    &skipped, &err), SC_ERR_INVALID);
	CHECK(s == NULL);
	CHECK_INT(oidc_keyset_parse("[]", 2, &s, &skipped, &err), SC_ERR_INVALID);
	buf_release(&err);
}

const struct unit_test test_oidc_suite[] = {
	UNIT_TEST(test_oidc_jwk_keys_and_their_algorithms),
	UNIT_TEST(test_oidc_jwk_refuses_unusable_keys),
	UNIT_TEST(test_oidc_signatures_of_an_independent_signer),
	UNIT_TEST(test_oidc_token_shapes),
	UNIT_TEST(test_oidc_claims),
	UNIT_TEST(test_oidc_key_sets),
	{ NULL, NULL },
};
