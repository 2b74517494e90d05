/*
 * direct_store.h - direct uploads to S3 (a presigned POST) not completed
 * yet: the SQL of table direct_uploads (migrations/008_resumable_uploads)
 * in one place.  A row is made with the presigned form, taken (deleted,
 * by one caller only) when the upload is completed or given up, and
 * swept after expires_at with the object it may have.
 *
 * Errors: db_exec's; SC_ERR_NOT_FOUND for no such row.
 */
#ifndef SC_DIRECT_STORE_H
#define SC_DIRECT_STORE_H

#include "api.h"

struct direct_row {
	long long user;
	char title[256];
	int is_public;
};

enum sc_err direct_store_create(struct db *db, const char *id, long long user,
				const char *title, int is_public, int live_s);

/* id's row (any owner's: the caller compares row->user). */
enum sc_err direct_store_get(struct db *db, const char *id,
			     struct direct_row *row);

/* Delete id's row: SC_OK for the caller that deleted it, SC_ERR_NOT_FOUND
 * for everyone else (it was taken already). */
enum sc_err direct_store_take(struct db *db, const char *id);

/* Remove up to a batch of expired rows and their objects: how many, or
 * -1 when PostgreSQL failed.  S3 failures are logged (the lifecycle rule
 * of the bucket does not cover complete objects: they are logged). */
int direct_store_sweep(struct deps *d);

#endif
