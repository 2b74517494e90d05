/*
 * migrate.h - schema migrations.
 *
 * Invariants: a migration is a pair of files NNN_name.up.sql and
 * NNN_name.down.sql in one directory; NNN orders them.  Each one applied
 * is a row (version, name, applied_at) in schema_migrations.  Each
 * migration runs in its own transaction together with its bookkeeping
 * row, so a failed one leaves no trace, and a session advisory lock lets
 * any number of processes run migrate_up() at once at start-up: the
 * first applies, the others find nothing left to do.
 */
#ifndef SC_MIGRATE_H
#define SC_MIGRATE_H

#include <stdio.h>

#include "buf.h"
#include "db.h"
#include "error.h"

/* Apply every pending migration in order; *applied counts them. */
enum sc_err migrate_up(struct db *db, const char *dir, int *applied,
		       struct buf *errmsg);

/* Revert the `steps` (>= 1) newest applied migrations; *reverted counts them. */
enum sc_err migrate_down(struct db *db, const char *dir, int steps,
			 int *reverted, struct buf *errmsg);

/* Print one line per migration file: version, name, applied or pending. */
enum sc_err migrate_status(struct db *db, const char *dir, FILE *out,
			   struct buf *errmsg);

#endif
