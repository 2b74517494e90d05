/*
 * tus_store.h - the state of resumable uploads (tus 1.0) in PostgreSQL
 * and their temporary objects in S3: the SQL of tables tus_uploads and
 * tus_parts (migrations/008_resumable_uploads.up.sql) in one place.
 *
 * Invariants: every part but the last has part_size bytes, so the
 * parts committed are 1..offset / part_size, and the offset % part_size
 * bytes after them wait in the tail object tus_tail_key(id, offset).
 * The offset moves only by tus_store_commit(), fenced by the offset it
 * moves from, so two writers can never both move it.  One writer at a
 * time holds the upload's lock (tus_store_lock: a PostgreSQL session
 * advisory lock, released by tus_store_unlock() or when the session
 * ends, as when the process holding it dies).
 *
 * Errors: db_exec's (SC_ERR_DB, SC_ERR_TIMEOUT, ...); SC_ERR_NOT_FOUND
 * for no such upload; SC_ERR_CONFLICT when the fence failed.
 */
#ifndef SC_TUS_STORE_H
#define SC_TUS_STORE_H

#include "api.h"

/* One upload's row. */
struct tus_row {
	long long user;
	long long length;
	long long offset;
	long long part_size;
	char title[256];		/* at most 200 bytes of UTF-8 */
	int is_public;
	char s3_upload_id[1024];	/* "" until the first part */
	char expires[40];		/* RFC 7231 date (Upload-Expires) */
	int expired;
	int completed;
};

/* The tail object for an upload at offset (VIDEO_KEY_MAX bytes). */
void tus_tail_key(const char *id, long long offset, char *out);

/* A new upload; *expires gets its Upload-Expires (40 bytes). */
enum sc_err tus_store_create(struct db *db, const char *id, long long user,
			     long long length, long long part_size,
			     const char *title, int is_public, int expiry_s,
			     char expires[40]);

/* id's row (any owner's: the caller compares row->user). */
enum sc_err tus_store_get(struct db *db, const char *id, struct tus_row *row);

/* The upload's lock: 1 taken, 0 another session holds it, -1 failed. */
int tus_store_lock(struct db *db, const char *id);
void tus_store_unlock(struct db *db, const char *id);

/* Remember the S3 multipart upload (once, before its first part). */
enum sc_err tus_store_set_s3_upload(struct db *db, const char *id,
				    const char *s3_upload_id);

/*
 * Parts first + 0 .. first + n - 1 with their ETags, and the offset
 * moved from `from` to `to`, in one transaction.  SC_ERR_CONFLICT when
 * the offset was no longer `from`.
 */
enum sc_err tus_store_commit(struct db *db, const char *id, long long from,
			     long long to, int first, char (*etags)[S3_ETAG_MAX],
			     int n);

/* The ETags of parts 1..n into etags (n entries, the caller's). */
enum sc_err tus_store_etags(struct db *db, const char *id, int n,
			    char (*etags)[S3_ETAG_MAX]);

/* The upload is a video now: the offset is its length, parts forgotten. */
enum sc_err tus_store_complete(struct db *db, const char *id, long long length);

/* Forget the upload (its row and parts). */
enum sc_err tus_store_delete(struct db *db, const char *id);

/*
 * Give up an unfinished upload row: abort its S3 multipart upload,
 * delete its tail object, delete the row.  S3 failures are logged (the
 * bucket's lifecycle rule cleans up after them); the row goes anyway.
 */
enum sc_err tus_store_discard(struct deps *d, const char *id,
			      const struct tus_row *row);

#endif
