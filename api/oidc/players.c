/* oidc/players.c - an issuer's identities as players (see players.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "oidc/players.h"

struct slot {
	char sub[OIDC_SUB_MAX];
	long long id;			/* 0: empty */
};

struct oidc_players {
	char *issuer;
	pthread_mutex_t lock;		/* guards slots */
	struct slot slots[OIDC_PLAYERS_SLOTS];
};

/* FNV-1a: spreads subs over the slots; not a defence, none is needed
 * (a collision only costs a lookup in PostgreSQL). */
static size_t slot_of(const char *sub)
{
	unsigned long long h = 14695981039346656037ULL;

	for (; *sub; sub++)
		h = (h ^ (unsigned char)*sub) * 1099511628211ULL;
	return (size_t)(h % OIDC_PLAYERS_SLOTS);
}

struct oidc_players *oidc_players_new(const char *issuer)
{
	struct oidc_players *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (!(p->issuer = strdup(issuer))) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	return p;
}

void oidc_players_free(struct oidc_players *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p->issuer);
	free(p);
}

long long oidc_players_cached(struct oidc_players *p, const char *sub)
{
	struct slot *s = &p->slots[slot_of(sub)];
	long long id = 0;

	pthread_mutex_lock(&p->lock);
	if (s->id && !strcmp(s->sub, sub))
		id = s->id;
	pthread_mutex_unlock(&p->lock);
	return id;
}

static void remember(struct oidc_players *p, const char *sub, long long id)
{
	struct slot *s = &p->slots[slot_of(sub)];

	pthread_mutex_lock(&p->lock);
	memcpy(s->sub, sub, strlen(sub) + 1);	/* < OIDC_SUB_MAX (token.h) */
	s->id = id;
	pthread_mutex_unlock(&p->lock);
}

/* Run sql (one id column, 0 or 1 row); *id 0 when no row. */
static enum sc_err one_id(struct db *db, const char *sql, int nparams,
			  const char *const *params, long long *id)
{
	PGresult *res;
	enum sc_err rc = db_exec_prepared(db, sql, nparams, params, &res);

	*id = 0;
	if (rc)
		return rc;
	if (PQntuples(res) == 1)
		*id = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return SC_OK;
}

enum sc_err oidc_players_provision(struct oidc_players *p, struct db *db,
				   const struct oidc_identity *id,
				   long long *user_id, int *created)
{
	static const char find[] =
		"SELECT id FROM users WHERE oidc_issuer = $1 AND oidc_sub = $2";
	/* a race with another request for the same sub: DO NOTHING, and
	 * the loser finds the winner's row with `find`; an email the column
	 * cannot hold (3 to 254 characters: migrations/001) is left out, as
	 * if the issuer had sent none, rather than refusing every request */
	static const char make[] =
		"INSERT INTO users (oidc_issuer, oidc_sub, email, first_name, "
		"last_name) VALUES ($1, $2, CASE WHEN length($3::text) "
		"BETWEEN 3 AND 254 THEN $3 END, $4, $5) "
		"ON CONFLICT (oidc_issuer, oidc_sub) WHERE oidc_sub IS NOT NULL "
		"DO NOTHING RETURNING id";
	const char *params[] = {
		p->issuer, id->sub, id->email,
		id->given_name[0] ? id->given_name : "Player", id->family_name,
	};
	enum sc_err rc;

	*created = 0;
	if ((rc = one_id(db, find, 2, params, user_id)))
		return rc;
	if (!*user_id) {
		if ((rc = one_id(db, make, 5, params, user_id)))
			return rc;
		*created = *user_id != 0;
		if (!*user_id && (rc = one_id(db, find, 2, params, user_id)))
			return rc;
	}
	if (!*user_id)
		return SC_ERR_DB;	/* made and gone at once: deleted */
	remember(p, id->sub, *user_id);
	return SC_OK;
}
