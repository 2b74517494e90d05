/*
 * videos.h - the videos table, as the worker changes it, and the fixed S3
 * keys of a video's objects (the API's and the worker's).
 *
 * Invariants: a worker's changes are fenced by the row's attempt: starting
 * a job increments it, and the final update applies only while the row is
 * still 'processing' at that attempt, so a worker that lost its job (its
 * lease expired and another worker started again) cannot overwrite the
 * newer result.  Running a job twice leaves the row as running it once.
 */
#ifndef SC_VIDEOS_H
#define SC_VIDEOS_H

#include <stddef.h>

#include "db.h"
#include "error.h"

/*
 * A video's objects in S3.  The original has one fixed key; the outputs
 * have one per attempt, so a stale attempt can never overwrite what a
 * newer one stored:
 *
 *   originals/<id>/source.mp4
 *   processed/<id>/<attempt>/video.mp4
 *   processed/<id>/<attempt>/poster.jpg
 *   processed/<id>/hls/<attempt>/...     HLS playlists and media files
 *
 * The fenced update that marks the video processed names the attempt's
 * keys in the row (processed_key, poster_key), which makes them current;
 * readers take the keys from the row, never compute them.
 */
enum video_object { VIDEO_ORIGINAL, VIDEO_PROCESSED, VIDEO_POSTER, VIDEO_OBJECTS };
#define VIDEO_KEY_MAX 128

/* The key of object o of video id (attempt ignored for the original)
 * into out (VIDEO_KEY_MAX bytes). */
void videos_key(enum video_object o, const char *id, int attempt, char *out);

/* Is id a video id: a uuid in its canonical text form, lowercase
 * 8-4-4-4-12 hex (RFC 9562 section 4), as PostgreSQL prints it and the
 * queue's keys and S3's keys hold it?  Anything else names no row: the
 * queries below then change nothing rather than fail. */
int videos_valid_id(const char *id);

/* "processed/<id>/": the prefix of every attempt's outputs. */
void videos_outputs_prefix(const char *id, char *out);

/* "processed/<id>/hls/<attempt>/": the prefix of an attempt's HLS files
 * (into out, VIDEO_KEY_MAX bytes). */
void videos_hls_prefix(const char *id, int attempt, char *out);

/*
 * Begin an attempt on video id: status 'processing', attempt + 1.  *found
 * is 0 when the video is gone or already processed or failed; else
 * *attempt is the new attempt and key (cap bytes) its original's S3 key.
 */
enum sc_err videos_start(struct db *db, const char *id, int *attempt,
			 char *key, size_t cap, int *found);

/* Mark processed (keys, the HLS playlists' JSON or NULL for none: see
 * migrations/010_hls.up.sql, report JSON); *applied 0 when fenced off. */
enum sc_err videos_processed(struct db *db, const char *id, int attempt,
			     const char *video_key, const char *poster_key,
			     const char *hls, const char *report, int *applied);

/* Mark failed with a reason code and message; report may be NULL. */
enum sc_err videos_failed(struct db *db, const char *id, int attempt,
			  const char *code, const char *message,
			  const char *report, int *applied);

/* Does the row exist (a player may delete a video mid-job)? */
enum sc_err videos_exists(struct db *db, const char *id, int *exists);

/*
 * Does the video need no job any more: is it 'processed', or deleted?
 * *settled is 0 when in doubt (on error).  A job dead-lettered after its
 * video was processed (its worker killed between the update and the
 * acknowledgement) is such a case.
 */
enum sc_err videos_settled(struct db *db, const char *id, int *settled);

/* Where a walk over unfinished videos stands; zeroed: at the start. */
struct videos_cursor {
	char uploaded_at[40];		/* ISO 8601, microseconds, UTC */
	char id[40];			/* uuid */
};

typedef void (*videos_row_fn)(const char *id, const char *status, void *arg);

/*
 * The reconciler's walk: call fn(id, status) for up to limit videos still
 * 'uploaded' or 'processing' whose row has not changed for idle_s seconds,
 * after *cur in (uploaded_at, id) order, and move *cur past them.  *rows
 * is how many; fewer than limit means the walk reached the end.
 */
enum sc_err videos_unfinished_page(struct db *db, int idle_s, int limit,
				   struct videos_cursor *cur,
				   videos_row_fn fn, void *arg, int *rows);

/*
 * Fail an unfinished video whatever its attempt (its job died in the
 * queue: the reaper, the reconciler, an admin's purge), provided the row
 * has not changed for idle_s seconds (0: no such condition), so a video
 * an admin revived or a worker touched meanwhile is left alone.
 */
enum sc_err videos_fail_unfinished(struct db *db, const char *id, int idle_s,
				   const char *code, const char *message,
				   int *applied);

/* A failed video back to 'uploaded' (an admin's retry); *applied 0 when
 * the video is not failed. */
enum sc_err videos_revive(struct db *db, const char *id, int *applied);

/*
 * Videos still 'uploaded' or 'processing' more than older_than_s seconds
 * after their upload: *count of them and *oldest_s, the age in seconds of
 * the oldest (0 when there is none).  What an alarm watches: a healthy
 * fleet finishes every video within minutes of its upload.
 */
enum sc_err videos_stuck_summary(struct db *db, int older_than_s,
				 long long *count, long long *oldest_s);

typedef void (*videos_stuck_fn)(const char *id, const char *status,
				long long age_s, int attempt, void *arg);

/* Call fn for up to limit of those videos, oldest first, with their age
 * since upload (seconds) and the row's attempt (`showcasectl videos stuck`). */
enum sc_err videos_stuck_list(struct db *db, int older_than_s, int limit,
			      videos_stuck_fn fn, void *arg);

#endif
