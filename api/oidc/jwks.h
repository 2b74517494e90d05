/*
 * oidc/jwks.h - an issuer's signing keys (JWK Set, RFC 7517 section 5),
 * fetched and kept.
 *
 * Invariants: the keys in use are one immutable, reference-counted set;
 * a refresh builds a new set and swaps it in whole, so a check that holds
 * a set is never disturbed.  A fetch that fails (the issuer unreachable,
 * past API_OIDC_JWKS_TIMEOUT_MS, an HTTP error, a body without one usable
 * key) changes nothing: the old set stays in use until a fetch succeeds.
 * Where the set is: API_OIDC_JWKS_URL, or the jwks_uri of the issuer's
 * discovery document (OpenID Connect Discovery 1.0 section 4), whose
 * "issuer" must be the configured one (section 4.3).  Fetches are plain
 * GETs over http(s) only, without redirects, of at most 256 KiB.
 *
 * Refreshes: a thread fetches at start and then every
 * API_OIDC_JWKS_REFRESH_S (every 5 s until the first success).  A token
 * whose kid is in no key may ask for one more, oidc_jwks_refresh_for(),
 * which fetches at most once per OIDC_JWKS_UNKNOWN_KID_S whoever asks (a
 * flood of made-up kids costs the issuer one fetch a minute); asks in the
 * meantime wait for a fetch running or are told no.
 *
 * Life cycle: oidc_jwks_new(), oidc_jwks_start() (the thread),
 * oidc_jwks_free() (stops and joins it).  Thread-safe.
 */
#ifndef SC_OIDC_JWKS_H
#define SC_OIDC_JWKS_H

#include "buf.h"
#include "error.h"
#include "oidc/jwk.h"

#define OIDC_JWKS_UNKNOWN_KID_S 60
#define OIDC_JWKS_BODY_MAX (256 * 1024)

struct oidc_jwks;

/* One key set; read-only once made. */
struct oidc_keyset {
	int refs;			/* under the jwks lock */
	int n;
	struct oidc_jwk keys[];
};

/*
 * Parse a JWK Set document.  Members that are not usable signature keys
 * are skipped (counted in *skipped); SC_ERR_INVALID when none is usable
 * or the document is not a JWK Set (errmsg says why).  SC_OK: *out is the
 * caller's, with one reference (oidc_keyset_put).
 */
enum sc_err oidc_keyset_parse(const char *json, size_t len,
			      struct oidc_keyset **out, int *skipped,
			      struct buf *errmsg);

/* Free a set nobody else holds (one from oidc_keyset_parse, not handed
 * to a struct oidc_jwks); NULL: nothing. */
void oidc_keyset_free(struct oidc_keyset *s);

/*
 * The key for a token's kid: the one with that kid; a token without kid
 * gets the set's only key.  NULL when there is none.
 */
const struct oidc_jwk *oidc_keyset_find(const struct oidc_keyset *s,
					const char *kid);

/*
 * NULL when out of memory.  issuer and jwks_url ("" : discover) are
 * copied; timeout_ms bounds each fetch (connect included).
 */
struct oidc_jwks *oidc_jwks_new(const char *issuer, const char *jwks_url,
				long timeout_ms, long refresh_s);
/* Start the refreshing thread; SC_ERR_IO when it cannot be made. */
enum sc_err oidc_jwks_start(struct oidc_jwks *j);
void oidc_jwks_free(struct oidc_jwks *j);

/* The set in use with a reference (NULL: none fetched yet). */
struct oidc_keyset *oidc_jwks_get(struct oidc_jwks *j);
/* Drop a reference (NULL: nothing). */
void oidc_jwks_put(struct oidc_jwks *j, struct oidc_keyset *s);

/*
 * A token named kid (NULL: none) and no key had it: fetch the set again
 * if that is allowed now (see above).  Blocks for the fetch: never call it
 * on an event loop.  SC_OK: a set holding kid is in use now;
 * SC_ERR_NOT_FOUND: fetched (or fetched moments ago), no such key;
 * SC_ERR_CONFLICT: too soon after the last such fetch; SC_ERR_IO or
 * SC_ERR_TIMEOUT: the fetch failed (the old set stays).
 */
enum sc_err oidc_jwks_refresh_for(struct oidc_jwks *j, const char *kid);

/*
 * Would oidc_jwks_refresh_for() fetch now, rather than say SC_ERR_CONFLICT?
 * No I/O, no waiting: the event loops ask it to refuse a made-up kid at
 * once instead of sending it to a pool thread.
 */
int oidc_jwks_kid_fetch_allowed(struct oidc_jwks *j);

/* Fetches so far, for /metrics: succeeded and failed. */
void oidc_jwks_counts(struct oidc_jwks *j, long long *ok, long long *failed);

#endif
