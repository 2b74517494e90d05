/*
 * db.h - a PostgreSQL connection that reconnects after it is lost, and
 * never waits on the server past a deadline.
 *
 * Invariants: one struct db is used by one thread at a time.  Queries are
 * parameterised (PQexecParams' protocol); SQL text never contains user
 * data.  Every statement has a deadline, DB_STATEMENT_TIMEOUT_MS by
 * default (db_set_statement_timeout): the server is told it as its
 * statement_timeout when the connection is made, and the client enforces
 * it too, DB_DEADLINE_MARGIN_MS later (the server's own cancel, which
 * keeps the connection, normally comes first): a server that does not
 * answer at all (stopped, its host gone, a network that drops packets)
 * cannot enforce its own timeout.  On the client's deadline the
 * connection is dropped and the call fails with SC_ERR_TIMEOUT; the next
 * call reconnects.  Connecting is bounded by connect_timeout_ms (libpq
 * counts whole seconds, at least 2).  TCP keepalives are on (idle 15 s,
 * then every 5 s, 3 probes; tcp_user_timeout 15 s), so a connection
 * whose peer vanished while it was idle is found dead before a query
 * waits on it; keepalive settings in the URL win over these.  Scripts
 * (db_exec_script: migrations, advisory locks) have no deadline: they may
 * rightly run for minutes.
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

#include "config.h"
#include "error.h"

struct db;

/* The statement deadline of a new handle, in milliseconds. */
#define DB_STATEMENT_TIMEOUT_DEFAULT_MS 5000
/* How much later than the server's statement_timeout the client gives up. */
#define DB_DEADLINE_MARGIN_MS 500

/*
 * NULL only when out of memory.  url (a postgresql:// URL or a libpq
 * key=value string, parameters allowed) is copied; connect_timeout_ms
 * bounds each connection attempt.
 */
struct db *db_new(const char *url, int connect_timeout_ms);
void db_free(struct db *db);

/*
 * The deadline of each later statement, in milliseconds (0: none, not
 * even on the server).  Takes effect on the server at the next statement.
 */
void db_set_statement_timeout(struct db *db, int ms);

/* db_new() with the configuration's DATABASE_URL, CONNECT_TIMEOUT_MS and
 * DB_STATEMENT_TIMEOUT_MS: what the programs use. */
struct db *db_open(const struct config *c);

/*
 * Run sql with nparams text parameters (NULL entries are SQL NULL).
 * On SC_OK *res (if res is not NULL) is the result and the caller owns it
 * (PQclear); on failure *res is NULL and db_errstr() says why.
 * A unique violation gives SC_ERR_CONFLICT; no answer by the statement's
 * deadline SC_ERR_TIMEOUT (the connection is dropped); out of memory
 * SC_ERR_NOMEM; every other failure (the server's statement_timeout
 * included, which cancels the statement and keeps the connection)
 * SC_ERR_DB.
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

/*
 * Run a script of several statements, without parameters (migrations),
 * with no deadline on either side: the session's statement_timeout is
 * turned off first (that SET has the deadline) and back on before the
 * next db_exec(), each outside a transaction block only (a SET in one
 * would be undone by its ROLLBACK).  Errors as db_exec().
 */
enum sc_err db_exec_script(struct db *db, const char *sql);

/* Connect if needed and run SELECT 1 (within the statement deadline). */
enum sc_err db_ping(struct db *db);

/* The last error's message ("" if none); valid until the next call. */
const char *db_errstr(const struct db *db);

#endif
