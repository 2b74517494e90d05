/*
 * oidc/oidc.h - sign-in with an OpenID Connect issuer (API_OIDC_ISSUER,
 * Amazon Cognito or any other): the API's check of an issuer's token.
 *
 * A Bearer token whose header says RS256 or ES256 is the issuer's; it is
 * accepted when its signature verifies with the issuer's key named by its
 * kid (oidc/jwks.h; the key decides the algorithm: oidc/jwk.h) and its
 * claims are right (oidc/token.h).  Its player is found or made from its
 * sub (oidc/players.h).  Every other token is the API's own (jwt.h).
 *
 * The check comes in two halves because the HTTP event loops must never
 * wait (http.h):
 *   oidc_check_fast()  on the event loop: parsing, the signature, the
 *                      claims, and the player if known; no I/O;
 *   oidc_check_slow()  on a pool thread, when the fast half could not
 *                      finish: a kid not in the keys (one more fetch,
 *                      rate limited) or a player not seen yet (PostgreSQL).
 *
 * Life cycle: oidc_new() from the configuration, oidc_start() (the key
 * set's refreshing thread), oidc_free().  Thread-safe.
 */
#ifndef SC_OIDC_H
#define SC_OIDC_H

#include "buf.h"
#include "config.h"
#include "db.h"
#include "error.h"

struct oidc;

enum oidc_verdict {
	OIDC_NOT_MINE,		/* not RS256 or ES256: a local token; *why
				 * says why it is not the issuer's */
	OIDC_ACCEPTED,		/* *user_id is the player */
	OIDC_REFUSED,		/* 401; *why says why */
	OIDC_NEEDS_IO,		/* call oidc_check_slow() off the loop */
};

/* NULL when out of memory; c->api_oidc_issuer must be set. */
struct oidc *oidc_new(const struct config *c);
/* Start fetching the keys; SC_ERR_IO when the thread cannot be made. */
enum sc_err oidc_start(struct oidc *o);
void oidc_free(struct oidc *o);

/*
 * The fast half (see above) for token at `now` (seconds since the
 * epoch).  Never blocks on I/O.
 */
enum oidc_verdict oidc_check_fast(struct oidc *o, const char *token,
				  long long now, long long *user_id,
				  const char **why);

/*
 * The whole check, fetching keys and making the player as needed (blocks:
 * never on an event loop).  SC_OK: *user_id; SC_ERR_AUTH: refused (why);
 * SC_ERR_IO, SC_ERR_TIMEOUT: the issuer's keys could not be fetched for a
 * kid not seen yet; SC_ERR_DB: PostgreSQL failed (logged with its
 * message); SC_ERR_NOMEM.  why is set on every failure.
 */
enum sc_err oidc_check_slow(struct oidc *o, struct db *db, const char *token,
			    long long now, long long *user_id, const char **why);

/*
 * Append the Prometheus lines of the identity provider to out: fetches of
 * its keys by result, players made.  Errors of buf_appendf.
 */
enum sc_err oidc_metrics(struct oidc *o, struct buf *out);

#endif
