/* migrate.c - the migration runner (see migrate.h). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate.h"

#define MIGRATION_MAX_BYTES (1 << 20)
#define MIGRATIONS_MAX 999
/* any constant works, as long as every runner uses the same */
#define MIGRATE_LOCK_KEY "8313371"

struct migration {
	int version;
	char name[128];		/* "001_initial" */
};

static const char create_table_sql[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version integer PRIMARY KEY,"
	" name text NOT NULL,"
	" applied_at timestamptz NOT NULL DEFAULT now())";

/* "001_initial.up.sql" -> {1, "001_initial"}; -1 if not a migration. */
static int parse_name(const char *file, struct migration *m)
{
	size_t n = strlen(file), i;
	const char *suffix = ".up.sql";
	size_t slen = strlen(suffix);

	if (n <= slen + 4 || strcmp(file + n - slen, suffix) ||
	    n - slen >= sizeof(m->name))
		return -1;
	for (i = 0; i < 3; i++)
		if (file[i] < '0' || file[i] > '9')
			return -1;
	if (file[3] != '_')
		return -1;
	for (i = 4; i < n - slen; i++)
		if (!((file[i] >= 'a' && file[i] <= 'z') || file[i] == '_' ||
		      (file[i] >= '0' && file[i] <= '9')))
			return -1;
	m->version = (file[0] - '0') * 100 + (file[1] - '0') * 10 + (file[2] - '0');
	memcpy(m->name, file, n - slen);
	m->name[n - slen] = '\0';
	return 0;
}

static int cmp_migration(const void *a, const void *b)
{
	return ((const struct migration *)a)->version -
	       ((const struct migration *)b)->version;
}

/* The migrations found in dir, sorted; the caller frees *out. */
static enum sc_err list_migrations(const char *dir, struct migration **out,
				   int *count, struct buf *errmsg)
{
	struct migration *list = NULL, *grown, m;
	struct dirent *de;
	int n = 0, cap = 0, i;
	DIR *d = opendir(dir);

	*out = NULL;
	*count = 0;
	if (!d) {
		buf_appendf(errmsg, "cannot open migrations directory %s: %s",
			    dir, strerror(errno));
		return SC_ERR_IO;
	}
	while ((de = readdir(d))) {
		if (parse_name(de->d_name, &m))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = cap > MIGRATIONS_MAX ? NULL
				: realloc(list, (size_t)cap * sizeof(*list));
			if (!grown) {
				closedir(d);
				free(list);
				buf_appends(errmsg, "too many migrations or out of memory");
				return SC_ERR_NOMEM;
			}
			list = grown;
		}
		list[n++] = m;
	}
	closedir(d);
	if (n)
		qsort(list, (size_t)n, sizeof(*list), cmp_migration);
	for (i = 1; i < n; i++) {
		if (list[i].version == list[i - 1].version) {
			buf_appendf(errmsg, "two migrations share version %03d: %s and %s",
				    list[i].version, list[i - 1].name, list[i].name);
			free(list);
			return SC_ERR_INVALID;
		}
	}
	*out = list;
	*count = n;
	return SC_OK;
}

/* Is version recorded in schema_migrations?  1 yes, 0 no, -1 error. */
static int is_applied(struct db *db, int version)
{
	char v[16];
	const char *params[] = { v };
	PGresult *res;
	int applied;

	snprintf(v, sizeof(v), "%d", version);
	if (db_exec(db, "SELECT 1 FROM schema_migrations WHERE version = $1",
		    1, params, &res))
		return -1;
	applied = PQntuples(res) > 0;
	PQclear(res);
	return applied;
}

/*
 * Run the file of migration m in direction "up" or "down" in one
 * transaction with its bookkeeping statement.
 */
static enum sc_err run_one(struct db *db, const char *dir,
			   const struct migration *m, const char *direction,
			   struct buf *errmsg)
{
	struct buf path = BUF_INIT(4096), sql = BUF_INIT(MIGRATION_MAX_BYTES);
	char v[16];
	const char *params[] = { v, m->name };
	enum sc_err err;

	snprintf(v, sizeof(v), "%d", m->version);
	err = buf_appendf(&path, "%s/%s.%s.sql", dir, m->name, direction);
	if (err)
		goto out;
	err = buf_read_file(&sql, path.data, errmsg);
	if (err)
		goto out;
	err = db_exec_script(db, "BEGIN");
	if (err)
		goto out_report;
	err = db_exec_script(db, sql.data);
	if (!err && strcmp(direction, "up") == 0)
		err = db_exec(db, "INSERT INTO schema_migrations (version, name)"
			      " VALUES ($1, $2)", 2, params, NULL);
	else if (!err)
		err = db_exec(db, "DELETE FROM schema_migrations WHERE version = $1",
			      1, params, NULL);
	if (!err)
		err = db_exec_script(db, "COMMIT");
	if (err) {
		buf_appendf(errmsg, "migration %s.%s failed: %s", m->name,
			    direction, db_errstr(db));
		db_exec_script(db, "ROLLBACK");
		goto out;
	}
	goto out;

out_report:
	buf_appendf(errmsg, "migration %s.%s failed: %s", m->name, direction,
		    db_errstr(db));
out:
	buf_release(&sql);
	buf_release(&path);
	return err;
}

/* Take the advisory lock and make sure the bookkeeping table exists. */
static enum sc_err prepare(struct db *db, struct buf *errmsg)
{
	enum sc_err err = db_exec_script(db, "SELECT pg_advisory_lock("
					 MIGRATE_LOCK_KEY ")");

	if (!err)
		err = db_exec_script(db, create_table_sql);
	if (err)
		buf_appendf(errmsg, "cannot prepare migrations: %s", db_errstr(db));
	return err;
}

static void release(struct db *db)
{
	db_exec_script(db, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")");
}

/*
 * One pass over the migrations, oldest first or (reverse) newest first.
 * With a direction, run those not yet in that state, at most limit of
 * them (0: no limit), counting them in *count; without one, print each.
 */
struct walk {
	const char *direction;	/* "up", "down", or NULL to print status */
	int reverse;
	int limit;
	FILE *out;
	int count;
};

static enum sc_err walk(struct db *db, const char *dir, struct walk *w,
			struct buf *errmsg)
{
	struct migration *list, *m;
	enum sc_err err;
	int n, k, done, up = w->direction && strcmp(w->direction, "up") == 0;

	err = list_migrations(dir, &list, &n, errmsg);
	if (err)
		return err;
	err = prepare(db, errmsg);
	if (err)
		goto out_free;
	for (k = 0; k < n && (!w->limit || w->count < w->limit); k++) {
		m = &list[w->reverse ? n - 1 - k : k];
		done = is_applied(db, m->version);
		if (done < 0) {
			buf_appendf(errmsg, "cannot read schema_migrations: %s",
				    db_errstr(db));
			err = SC_ERR_DB;
			break;
		}
		if (!w->direction) {
			fprintf(w->out, "%03d %-40s %s\n", m->version, m->name,
				done ? "applied" : "pending");
			continue;
		}
		if (done == up)
			continue;
		err = run_one(db, dir, m, w->direction, errmsg);
		if (err)
			break;
		w->count++;
	}
	release(db);
out_free:
	free(list);
	return err;
}

enum sc_err migrate_up(struct db *db, const char *dir, int *applied,
		       struct buf *errmsg)
{
	struct walk w = { .direction = "up" };
	enum sc_err err = walk(db, dir, &w, errmsg);

	*applied = w.count;
	return err;
}

enum sc_err migrate_down(struct db *db, const char *dir, int steps,
			 int *reverted, struct buf *errmsg)
{
	struct walk w = { .direction = "down", .reverse = 1, .limit = steps };
	enum sc_err err;

	*reverted = 0;
	if (steps < 1)
		return SC_ERR_INVALID;
	err = walk(db, dir, &w, errmsg);

	*reverted = w.count;
	return err;
}

enum sc_err migrate_status(struct db *db, const char *dir, FILE *out,
			   struct buf *errmsg)
{
	struct walk w = { .out = out };

	return walk(db, dir, &w, errmsg);
}
