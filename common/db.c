/* db.c - PostgreSQL connection with reconnect and deadlines (see db.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "db.h"
#include "log.h"

struct db {
	PGconn *conn;
	char *url;
	char timeout_s[16];
	int statement_ms;		/* 0: no deadline */
	int server_ms;			/* the session's statement_timeout */
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
	db->statement_ms = DB_STATEMENT_TIMEOUT_DEFAULT_MS;
	return db;
}

void db_set_statement_timeout(struct db *db, int ms)
{
	db->statement_ms = ms > 0 ? ms : 0;
}

struct db *db_open(const struct config *c)
{
	struct db *db = db_new(c->database_url, c->connect_timeout_ms);

	if (db)
		db_set_statement_timeout(db, c->db_statement_timeout_ms);
	return db;
}

/* Close the connection: the next call makes a new one. */
static void drop(struct db *db)
{
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
	db->nprepared = 0;	/* statements die with their connection */
}

void db_free(struct db *db)
{
	if (!db)
		return;
	drop(db);
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

/* Wait until the socket is ready for events, or the deadline (0: none).
 * 1 ready, 0 deadline passed, -1 error. */
static int wait_socket(PGconn *c, short events, long deadline)
{
	struct pollfd p = { .fd = PQsocket(c), .events = events };
	long left;
	int n;

	if (p.fd < 0)
		return -1;
	for (;;) {
		left = deadline ? deadline - clock_ms() : -1;
		if (deadline && left <= 0)
			return 0;
		n = poll(&p, 1, deadline ? (int)left : -1);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * The answer to what was just sent, by the deadline (0: none): the first
 * error result, else the last result (NULL if none).  On the deadline
 * the connection is dropped; on a broken one it is left for db_connect()
 * to find broken.
 */
static enum sc_err await(struct db *db, long deadline, PGresult **out)
{
	PGresult *r, *keep = NULL;
	int f, w = 1;

	*out = NULL;
	while ((f = PQflush(db->conn)) == 1) {
		/* reading too: the server may be waiting for us to read */
		if ((w = wait_socket(db->conn, POLLOUT | POLLIN, deadline)) <= 0 ||
		    !PQconsumeInput(db->conn))
			goto fail;
	}
	if (f < 0)
		goto fail;
	for (;;) {
		while (!PQisBusy(db->conn)) {
			r = PQgetResult(db->conn);
			if (!r) {
				*out = keep;
				return SC_OK;
			}
			if (keep && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
				PQclear(r);	/* the first error is the one */
			} else {
				PQclear(keep);
				keep = r;
			}
		}
		if ((w = wait_socket(db->conn, POLLIN, deadline)) <= 0 ||
		    !PQconsumeInput(db->conn))
			goto fail;
	}
fail:
	PQclear(keep);
	if (w == 0) {
		char detail[96];

		snprintf(detail, sizeof(detail),
			 "no answer within %d ms; connection dropped",
			 db->statement_ms + DB_DEADLINE_MARGIN_MS);
		set_errstr(db, "postgresql query timed out", detail);
		drop(db);
		return SC_ERR_TIMEOUT;
	}
	set_errstr(db, "postgresql query failed", PQerrorMessage(db->conn));
	return SC_ERR_DB;
}

/* The client's deadline of a statement starting now; 0: none. */
static long deadline_now(const struct db *db)
{
	return db->statement_ms ? clock_ms() + db->statement_ms +
					  DB_DEADLINE_MARGIN_MS
				: 0;
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

/* What PQsend*() returned (1 sent), then the answer, translated. */
static enum sc_err finish(struct db *db, int sent, long deadline,
			  PGresult **res)
{
	PGresult *r;
	enum sc_err err;

	if (!sent) {
		set_errstr(db, "postgresql query failed", PQerrorMessage(db->conn));
		return SC_ERR_DB;
	}
	if ((err = await(db, deadline, &r)))
		return err;
	return db_check(db, r, res);
}

/*
 * Make the session's statement_timeout ms (0: off), if it is not.  Only
 * outside a transaction block: a SET inside one would be undone by its
 * ROLLBACK, and fails in one that is aborted (where only ROLLBACK works).
 */
static enum sc_err server_timeout(struct db *db, int ms)
{
	char sql[64];
	enum sc_err err;

	if (db->server_ms == ms || PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		return SC_OK;
	snprintf(sql, sizeof(sql), "SET statement_timeout = %d", ms);
	err = finish(db, PQsendQuery(db->conn, sql), deadline_now(db), NULL);
	if (!err)
		db->server_ms = ms;
	return err;
}

/*
 * An idle connection has nothing to read unless the server spoke first:
 * a restart's "terminating connection" and the close after it (or a
 * ParameterStatus, harmless).  Read it now: a connection the server
 * closed is dropped here, before a statement is sent on it and fails.
 */
static void drop_if_closed(struct db *db)
{
	struct pollfd p;
	int i;

	/* the message comes first (libpq takes an error while idle as a
	 * notice), the end of the stream after it: read until both are in */
	for (i = 0; i < 4 && db->conn && PQstatus(db->conn) == CONNECTION_OK; i++) {
		p.fd = PQsocket(db->conn);
		p.events = POLLIN;
		p.revents = 0;
		if (p.fd < 0 || poll(&p, 1, 0) <= 0)
			return;
		if (!PQconsumeInput(db->conn) ||
		    PQstatus(db->conn) != CONNECTION_OK) {
			log_warn("postgresql closed an idle connection (%s); "
				 "reconnecting", PQerrorMessage(db->conn));
			drop(db);
		}
	}
}

/* Make sure there is a healthy connection; reconnect if there is not. */
static enum sc_err db_connect(struct db *db)
{
	/* keepalives first: settings in the URL override them; ours after */
	static const char *const keys[] = {
		"keepalives", "keepalives_idle", "keepalives_interval",
		"keepalives_count", "tcp_user_timeout", "dbname",
		"connect_timeout", "application_name", NULL
	};
	const char *values[] = { "1", "15", "5", "3", "15000", db->url,
				 db->timeout_s, "showcase", NULL };
	enum sc_err err;

	drop_if_closed(db);
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return SC_OK;
	if (db->conn)
		log_warn("postgresql connection lost, reconnecting");
	drop(db);
	db->conn = PQconnectdbParams(keys, values, 1);
	if (!db->conn) {
		set_errstr(db, "cannot connect to postgresql", "out of memory");
		return SC_ERR_NOMEM;
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		set_errstr(db, "cannot connect to postgresql",
			   PQerrorMessage(db->conn));
		drop(db);
		return SC_ERR_DB;
	}
	PQsetNoticeProcessor(db->conn, on_notice, NULL);
	/* sends and waits go through poll() with the deadline */
	if (PQsetnonblocking(db->conn, 1)) {
		set_errstr(db, "cannot connect to postgresql",
			   PQerrorMessage(db->conn));
		drop(db);
		return SC_ERR_DB;
	}
	db->server_ms = -1;	/* the server's default or the URL's: set ours */
	if ((err = server_timeout(db, db->statement_ms))) {
		drop(db);
		return err;
	}
	return SC_OK;
}

/* Connect if needed, with the session's timeout as statements need it. */
static enum sc_err ready(struct db *db, int ms)
{
	enum sc_err err = db_connect(db);

	return err ? err : server_timeout(db, ms);
}

enum sc_err db_exec(struct db *db, const char *sql, int nparams,
		    const char *const *params, PGresult **res)
{
	enum sc_err err;

	if (res)
		*res = NULL;
	if ((err = ready(db, db->statement_ms)))
		return err;
	return finish(db, PQsendQueryParams(db->conn, sql, nparams, NULL,
					    params, NULL, NULL, 0),
		      deadline_now(db), res);
}

enum sc_err db_exec_prepared(struct db *db, const char *sql, int nparams,
			     const char *const *params, PGresult **res)
{
	char name[16];
	enum sc_err err;
	int i;

	if (res)
		*res = NULL;
	if ((err = ready(db, db->statement_ms)))
		return err;
	for (i = 0; i < db->nprepared && db->prepared[i] != sql; i++)
		;
	if (i == db->nprepared) {
		if (i == DB_PREPARED_MAX)
			return db_exec(db, sql, nparams, params, res);
		snprintf(name, sizeof(name), "sc%d", i);
		err = finish(db, PQsendPrepare(db->conn, name, sql, nparams, NULL),
			     deadline_now(db), NULL);
		if (err)
			return err;
		db->prepared[db->nprepared++] = sql;
	}
	snprintf(name, sizeof(name), "sc%d", i);
	return finish(db, PQsendQueryPrepared(db->conn, name, nparams, params,
					      NULL, NULL, 0),
		      deadline_now(db), res);
}

enum sc_err db_exec_script(struct db *db, const char *sql)
{
	enum sc_err err = ready(db, 0);

	if (err)
		return err;
	return finish(db, PQsendQuery(db->conn, sql), 0, NULL);
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
