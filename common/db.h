/*
 * db.h - a PostgreSQL connection that reconnects after it is lost.
 *
 * Invariants: one struct db is used by one thread at a time.  Queries are
 * parameterised (PQexecParams); SQL text never contains user data.
 *
 * Life cycle: db_new() makes the handle without connecting (the server
 * may be down at start-up); the first query connects.  A query on a
 * connection found broken resets it first; a query that fails in flight
 * is not repeated (it may have taken effect) but the next one reconnects.
 * db_free() closes.
 */
#ifndef SC_DB_H
#define SC_DB_H

#include <libpq-fe.h>

#include "error.h"

struct db;

/* NULL only when out of memory.  url is copied. */
struct db *db_new(const char *url, int connect_timeout_ms);
void db_free(struct db *db);

/*
 * Run sql with nparams text parameters (NULL entries are SQL NULL).
 * On SC_OK *res (if res is not NULL) is the result and the caller owns it
 * (PQclear); on failure *res is NULL and db_errstr() says why.
 * A unique violation gives SC_ERR_CONFLICT; other failures SC_ERR_DB.
 */
enum sc_err db_exec(struct db *db, const char *sql, int nparams,
		    const char *const *params, PGresult **res);

/*
 * The same for a statement run often: sql must be a string constant (it
 * is known by its address).  It is prepared once per connection, so
 * PostgreSQL parses and plans it once, not on every call; up to
 * DB_PREPARED_MAX statements are kept, others run as db_exec().
 */
#define DB_PREPARED_MAX 32
enum sc_err db_exec_prepared(struct db *db, const char *sql, int nparams,
			     const char *const *params, PGresult **res);

/* Run a script of several statements, without parameters (migrations). */
enum sc_err db_exec_script(struct db *db, const char *sql);

/* Connect if needed and run SELECT 1. */
enum sc_err db_ping(struct db *db);

/* The last error's message ("" if none); valid until the next call. */
const char *db_errstr(const struct db *db);

#endif
