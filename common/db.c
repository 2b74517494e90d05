/* db.c - PostgreSQL connection with reconnect (see db.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"

struct db {
	PGconn *conn;
	char *url;
	char timeout_s[16];
	char errstr[512];
	const char *prepared[DB_PREPARED_MAX];	/* on this connection */
	int nprepared;
};

static void set_errstr(struct db *db, const char *what, const char *detail)
{
	size_t n;

	snprintf(db->errstr, sizeof(db->errstr), "%s: %s", what,
		 detail && detail[0] ? detail : "unknown error");
	/* libpq messages end with a newline; logs want one line */
	n = strlen(db->errstr);
	while (n && (db->errstr[n - 1] == '\n' || db->errstr[n - 1] == ' '))
		db->errstr[--n] = '\0';
}

struct db *db_new(const char *url, int connect_timeout_ms)
{
	struct db *db = calloc(1, sizeof(*db));

	if (!db)
		return NULL;
	db->url = strdup(url);
	if (!db->url) {
		free(db);
		return NULL;
	}
	/* libpq counts whole seconds and treats 1 as 2 */
	snprintf(db->timeout_s, sizeof(db->timeout_s), "%d",
		 connect_timeout_ms < 2000 ? 2 : (connect_timeout_ms + 999) / 1000);
	return db;
}

void db_free(struct db *db)
{
	if (!db)
		return;
	if (db->conn)
		PQfinish(db->conn);
	free(db->url);
	free(db);
}

const char *db_errstr(const struct db *db)
{
	return db->errstr;
}

/* Server notices ("relation already exists, skipping") go to the debug log. */
static void on_notice(void *arg, const char *message)
{
	(void)arg;
	log_debug("postgresql: %.*s", (int)strcspn(message, "\n"), message);
}

/* Make sure there is a healthy connection; reconnect if there is not. */
static enum sc_err db_connect(struct db *db)
{
	static const char *const keys[] = { "dbname", "connect_timeout",
					    "application_name", NULL };
	const char *values[] = { db->url, db->timeout_s, "showcase", NULL };

	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return SC_OK;
	if (db->conn) {
		log_warn("postgresql connection lost, reconnecting");
		PQfinish(db->conn);
	}
	db->nprepared = 0;	/* statements die with their connection */
	db->conn = PQconnectdbParams(keys, values, 1);
	if (!db->conn) {
		set_errstr(db, "cannot connect to postgresql", "out of memory");
		return SC_ERR_NOMEM;
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		set_errstr(db, "cannot connect to postgresql",
			   PQerrorMessage(db->conn));
		PQfinish(db->conn);
		db->conn = NULL;
		return SC_ERR_DB;
	}
	PQsetNoticeProcessor(db->conn, on_notice, NULL);
	return SC_OK;
}

/* Translate a result: keep it on success, free it and explain otherwise. */
static enum sc_err db_check(struct db *db, PGresult *r, PGresult **res)
{
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	const char *state;
	int unique;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (res)
			*res = r;
		else
			PQclear(r);
		return SC_OK;
	}
	set_errstr(db, "postgresql query failed",
		   r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn));
	/* the SQLSTATE lives in r: read it before r is freed */
	state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	unique = state && strcmp(state, "23505") == 0;
	PQclear(r);
	return unique ? SC_ERR_CONFLICT : SC_ERR_DB;
}

enum sc_err db_exec(struct db *db, const char *sql, int nparams,
		    const char *const *params, PGresult **res)
{
	enum sc_err err;

	if (res)
		*res = NULL;
	err = db_connect(db);
	if (err)
		return err;
	return db_check(db, PQexecParams(db->conn, sql, nparams, NULL, params,
					 NULL, NULL, 0), res);
}

enum sc_err db_exec_prepared(struct db *db, const char *sql, int nparams,
			     const char *const *params, PGresult **res)
{
	char name[16];
	enum sc_err err;
	int i;

	if (res)
		*res = NULL;
	if ((err = db_connect(db)))
		return err;
	for (i = 0; i < db->nprepared && db->prepared[i] != sql; i++)
		;
	if (i == db->nprepared) {
		if (i == DB_PREPARED_MAX)
			return db_exec(db, sql, nparams, params, res);
		snprintf(name, sizeof(name), "sc%d", i);
		err = db_check(db, PQprepare(db->conn, name, sql, nparams, NULL),
			       NULL);
		if (err)
			return err;
		db->prepared[db->nprepared++] = sql;
	}
	snprintf(name, sizeof(name), "sc%d", i);
	return db_check(db, PQexecPrepared(db->conn, name, nparams, params, NULL,
					   NULL, 0), res);
}

enum sc_err db_exec_script(struct db *db, const char *sql)
{
	enum sc_err err = db_connect(db);

	if (err)
		return err;
	return db_check(db, PQexec(db->conn, sql), NULL);
}

enum sc_err db_ping(struct db *db)
{
	enum sc_err err = db_exec(db, "SELECT 1", 0, NULL, NULL);

	/* A connection that died while idle is noticed only by the query
	 * that fails on it; SELECT 1 is safe to send again on a new one. */
	if (err == SC_ERR_DB && db->conn && PQstatus(db->conn) == CONNECTION_BAD)
		err = db_exec(db, "SELECT 1", 0, NULL, NULL);
	return err;
}
