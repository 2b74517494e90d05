/*
 * oidc/token.h - an issuer's signed JWT (RFC 7519 over JWS compact
 * serialization, RFC 7515 section 7.1): taken apart, its signature and
 * its claims checked.
 *
 * The three steps are separate so that each can be tested on its own and
 * so that the caller can fetch a key between parsing and checking:
 *
 *   oidc_token_parse()      header and claims as JSON, the signature's bytes
 *   oidc_token_signature()  against one key; the key decides the algorithm
 *   oidc_token_claims()     iss, exp, nbf, iat, aud / client_id, sub
 *
 * Rules (OpenID Connect Core 1.0 section 3.1.3.7, RFC 8725):
 *   - the header's alg must be the key's own algorithm (oidc/jwk.h): an
 *     "alg":"none" token, or an HS256 token made with an RSA public key
 *     as its secret, finds no key that verifies it;
 *   - ES256 signatures are the raw R || S of RFC 7518 section 3.4 (64
 *     bytes), turned into DER for OpenSSL here;
 *   - iss must equal the configured issuer exactly; exp is required;
 *     exp, nbf and iat are allowed `leeway_s` of clock skew;
 *   - the audience: with "token_use":"access" (Amazon Cognito's access
 *     tokens, which carry no aud) client_id must equal it; otherwise
 *     (ID tokens, "token_use":"id", and other issuers' tokens) aud, a
 *     string or an array, must hold it; any other token_use is refused;
 *   - sub is required: 1 to 255 bytes, no control characters.
 */
#ifndef SC_OIDC_TOKEN_H
#define SC_OIDC_TOKEN_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "oidc/jwk.h"

/* Longer tokens are refused before anything is decoded. */
#define OIDC_TOKEN_MAX 8192
#define OIDC_SUB_MAX 256	/* NUL included */
#define OIDC_EMAIL_MAX 255
#define OIDC_NAME_MAX 101

struct oidc_token {
	cJSON *header;			/* owned */
	cJSON *claims;			/* owned */
	const char *alg;		/* in header */
	const char *kid;		/* in header; NULL when absent */
	size_t signed_len;		/* bytes of "header.claims" */
	unsigned char sig[512];
	size_t sig_len;
};

/* What a token must say to be accepted. */
struct oidc_expect {
	const char *issuer;
	const char *audience;
	long leeway_s;
};

/* Who a token names; strings are "" when the token does not say. */
struct oidc_identity {
	char sub[OIDC_SUB_MAX];
	char email[OIDC_EMAIL_MAX];
	char given_name[OIDC_NAME_MAX];
	char family_name[OIDC_NAME_MAX];
};

/*
 * Take token (a NUL-terminated compact JWS) apart into *t.  SC_OK: free t
 * with oidc_token_free().  SC_ERR_AUTH: malformed (why says how; nothing
 * to free).  SC_ERR_NOMEM.
 */
enum sc_err oidc_token_parse(const char *token, struct oidc_token *t,
			     const char **why);
void oidc_token_free(struct oidc_token *t);

/*
 * Check t's signature over the first t->signed_len bytes of token (the
 * string given to oidc_token_parse) with key.  SC_OK when it verifies
 * with the key's algorithm and the header names that algorithm;
 * SC_ERR_AUTH otherwise (why); SC_ERR_NOMEM.
 */
enum sc_err oidc_token_signature(const struct oidc_token *t, const char *token,
				 const struct oidc_jwk *key, const char **why);

/*
 * Check claims against e at `now` (seconds since the epoch).  SC_OK: *id
 * is filled in; SC_ERR_AUTH: refused (why).
 */
enum sc_err oidc_token_claims(const cJSON *claims, const struct oidc_expect *e,
			      long long now, struct oidc_identity *id,
			      const char **why);

#endif
