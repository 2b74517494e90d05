/* oidc/oidc.c - an issuer's tokens, checked in two halves (see oidc.h). */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "oidc/jwks.h"
#include "oidc/oidc.h"
#include "oidc/players.h"
#include "oidc/token.h"

struct oidc {
	struct oidc_expect expect;	/* strings: the config's */
	struct oidc_jwks *jwks;
	struct oidc_players *players;
	atomic_llong players_made;	/* for /metrics */
};

struct oidc *oidc_new(const struct config *c)
{
	struct oidc *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->expect.issuer = c->api_oidc_issuer;
	o->expect.audience = c->api_oidc_audience;
	o->expect.leeway_s = c->api_oidc_leeway_s;
	o->jwks = oidc_jwks_new(c->api_oidc_issuer, c->api_oidc_jwks_url,
				c->api_oidc_jwks_timeout_ms,
				c->api_oidc_jwks_refresh_s);
	o->players = oidc_players_new(c->api_oidc_issuer);
	if (!o->jwks || !o->players) {
		oidc_free(o);
		return NULL;
	}
	return o;
}

enum sc_err oidc_start(struct oidc *o)
{
	return oidc_jwks_start(o->jwks);
}

void oidc_free(struct oidc *o)
{
	if (!o)
		return;
	oidc_jwks_free(o->jwks);
	oidc_players_free(o->players);
	free(o);
}

/*
 * The token's signature and claims with the keys in use, no fetching.
 * SC_OK: *id; SC_ERR_NOT_FOUND: no key has its kid; SC_ERR_AUTH (why).
 */
static enum sc_err verified(struct oidc *o, const struct oidc_token *t,
			    const char *token, long long now,
			    struct oidc_identity *id, const char **why)
{
	struct oidc_keyset *s = oidc_jwks_get(o->jwks);
	const struct oidc_jwk *key = oidc_keyset_find(s, t->kid);
	enum sc_err rc;

	if (!key) {
		*why = "the token's key (kid) is not the identity provider's";
		rc = SC_ERR_NOT_FOUND;
	} else if (!(rc = oidc_token_signature(t, token, key, why))) {
		rc = oidc_token_claims(t->claims, &o->expect, now, id, why);
	}
	oidc_jwks_put(o->jwks, s);
	return rc;
}

static int is_mine(const char *alg)
{
	return !strcmp(alg, "RS256") || !strcmp(alg, "ES256");
}

enum oidc_verdict oidc_check_fast(struct oidc *o, const char *token,
				  long long now, long long *user_id,
				  const char **why)
{
	struct oidc_identity id;
	struct oidc_token t;
	enum sc_err rc;

	*user_id = 0;
	if ((rc = oidc_token_parse(token, &t, why)))
		/* a local token is not parsed here: leave it to jwt.h */
		return rc == SC_ERR_NOMEM ? OIDC_NEEDS_IO : OIDC_NOT_MINE;
	if (!is_mine(t.alg)) {
		oidc_token_free(&t);
		*why = "only the identity provider's tokens (RS256, ES256) "
		       "are accepted";
		return OIDC_NOT_MINE;
	}
	rc = verified(o, &t, token, now, &id, why);
	oidc_token_free(&t);
	/* an unknown kid that may not fetch now is refused here: a flood of
	 * made-up kids takes no pool thread */
	if (rc == SC_ERR_AUTH ||
	    (rc == SC_ERR_NOT_FOUND && !oidc_jwks_kid_fetch_allowed(o->jwks)))
		return OIDC_REFUSED;
	if (rc || !(*user_id = oidc_players_cached(o->players, id.sub)))
		return OIDC_NEEDS_IO;
	return OIDC_ACCEPTED;
}

enum sc_err oidc_check_slow(struct oidc *o, struct db *db, const char *token,
			    long long now, long long *user_id, const char **why)
{
	struct oidc_identity id;
	struct oidc_token t;
	enum sc_err rc;
	int created;

	*user_id = 0;
	if ((rc = oidc_token_parse(token, &t, why)))
		return rc;
	if ((rc = verified(o, &t, token, now, &id, why)) == SC_ERR_NOT_FOUND) {
		rc = oidc_jwks_refresh_for(o->jwks, t.kid);
		if (rc == SC_OK)
			rc = verified(o, &t, token, now, &id, why);
		else if (rc == SC_ERR_IO || rc == SC_ERR_TIMEOUT)
			*why = "the identity provider's keys cannot be fetched";
		else
			rc = SC_ERR_AUTH;	/* why: from verified() */
	}
	oidc_token_free(&t);
	if (rc)
		return rc;
	if ((rc = oidc_players_provision(o->players, db, &id, user_id,
					 &created))) {
		log_warn("cannot find or make the player of an identity "
			 "provider's token: %s", db_errstr(db));
		*why = "the player cannot be looked up";
		return rc == SC_ERR_NOMEM ? rc : SC_ERR_DB;
	}
	if (created) {
		atomic_fetch_add(&o->players_made, 1);
		log_info("user %lld made for a sub of the identity provider",
			 *user_id);
	}
	return SC_OK;
}

enum sc_err oidc_metrics(struct oidc *o, struct buf *out)
{
	long long ok, failed;

	oidc_jwks_counts(o->jwks, &ok, &failed);
	return buf_appendf(out,
		"# HELP showcase_api_oidc_key_fetches_total Fetches of the identity provider's keys by result (a failed one keeps the keys in use).\n"
		"# TYPE showcase_api_oidc_key_fetches_total counter\n"
		"showcase_api_oidc_key_fetches_total{result=\"ok\"} %lld\n"
		"showcase_api_oidc_key_fetches_total{result=\"failed\"} %lld\n"
		"# HELP showcase_api_oidc_players_made_total Players made on their first request with the identity provider's token.\n"
		"# TYPE showcase_api_oidc_players_made_total counter\n"
		"showcase_api_oidc_players_made_total %lld\n",
		ok, failed, (long long)atomic_load(&o->players_made));
}
