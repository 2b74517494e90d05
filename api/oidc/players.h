/*
 * oidc/players.h - the player an issuer's identity is.
 *
 * A player from the issuer is a users row known by (oidc_issuer,
 * oidc_sub) (migrations/009), made on the first request that brings a
 * valid token for that sub, from its email and names where the token has
 * them (first_name "Player" when it has none); city and country are
 * theirs to set (PUT /api/me).  The row is made once whatever the races:
 * the unique index decides, a loser reads the winner's row.  Nothing is
 * linked by email: an issuer's player is never a local account.
 *
 * The ids found are kept in a small table in memory (direct-mapped, a
 * newer entry replaces an older one in its slot), so a known player's
 * requests are authenticated without PostgreSQL.
 *
 * Life cycle: oidc_players_new(), oidc_players_free().  Thread-safe.
 */
#ifndef SC_OIDC_PLAYERS_H
#define SC_OIDC_PLAYERS_H

#include "db.h"
#include "error.h"
#include "oidc/token.h"

#define OIDC_PLAYERS_SLOTS 1024

struct oidc_players;

/* issuer is copied; NULL when out of memory. */
struct oidc_players *oidc_players_new(const char *issuer);
void oidc_players_free(struct oidc_players *p);

/* The user id of sub if it is in the table, else 0.  No I/O. */
long long oidc_players_cached(struct oidc_players *p, const char *sub);

/*
 * The user id of id->sub into *user_id, the row made if there is none
 * (*created then 1).  Errors of db_exec() (SC_ERR_DB, SC_ERR_TIMEOUT,
 * SC_ERR_NOMEM): db_errstr() says why.
 */
enum sc_err oidc_players_provision(struct oidc_players *p, struct db *db,
				   const struct oidc_identity *id,
				   long long *user_id, int *created);

#endif
