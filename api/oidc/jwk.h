/*
 * oidc/jwk.h - one public key from a JSON Web Key (RFC 7517, RFC 7518
 * section 6), for checking an issuer's token signatures.
 *
 * Only signature keys of the two kinds OpenID Connect issuers use are
 * taken: RSA (kty "RSA", n and e; at least 2048 bits) for RS256, and
 * P-256 (kty "EC", crv "P-256", x and y, 32 bytes each) for ES256.  The
 * algorithm a key verifies is decided here, by its type and curve, and
 * nowhere else: a token's header cannot ask for another one (RFC 8725
 * section 3.1).  A key that says "use" other than "sig" or "alg" other
 * than its own algorithm is refused.  The key is built by OpenSSL 3 from
 * its parameters (EVP_PKEY_fromdata), which also checks an EC point is on
 * the curve; nothing here parses key encodings.
 */
#ifndef SC_OIDC_JWK_H
#define SC_OIDC_JWK_H

#include <openssl/evp.h>
#include <cjson/cJSON.h>

#include "error.h"

enum oidc_alg { OIDC_RS256 = 1, OIDC_ES256 };

/* A kid is at most this long (NUL included); longer ones are refused. */
#define OIDC_KID_MAX 128

struct oidc_jwk {
	char kid[OIDC_KID_MAX];		/* "" when the JWK has none */
	enum oidc_alg alg;		/* what this key verifies */
	EVP_PKEY *pkey;			/* owned */
};

/*
 * Build *out from one member of a JWKS's "keys".  SC_OK: out->pkey is the
 * caller's (oidc_jwk_clear).  SC_ERR_INVALID: not a usable signature key
 * (why says which; nothing to free); SC_ERR_NOMEM.
 */
enum sc_err oidc_jwk_from_json(const cJSON *jwk, struct oidc_jwk *out,
			       const char **why);

/* Free the key; a cleared or zeroed struct may be cleared again. */
void oidc_jwk_clear(struct oidc_jwk *k);

/* "RS256" or "ES256" (the JWS names, RFC 7518 section 3.1). */
const char *oidc_alg_name(enum oidc_alg alg);

#endif
