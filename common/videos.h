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

/* A video's objects in S3, at fixed keys (DESIGN: the key layout). */
enum video_object { VIDEO_ORIGINAL, VIDEO_PROCESSED, VIDEO_POSTER, VIDEO_OBJECTS };
#define VIDEO_KEY_MAX 128

/* The key of object o of video id into out (VIDEO_KEY_MAX bytes). */
void videos_key(enum video_object o, const char *id, char *out);

/*
 * Begin an attempt on video id: status 'processing', attempt + 1.  *found
 * is 0 when the video is gone or already processed or failed; else
 * *attempt is the new attempt and key (cap bytes) its original's S3 key.
 */
enum sc_err videos_start(struct db *db, const char *id, int *attempt,
			 char *key, size_t cap, int *found);

/* Mark processed (keys, report JSON); *applied 0 when fenced off. */
enum sc_err videos_processed(struct db *db, const char *id, int attempt,
			     const char *video_key, const char *poster_key,
			     const char *report, int *applied);

/* Mark failed with a reason code and message; report may be NULL. */
enum sc_err videos_failed(struct db *db, const char *id, int attempt,
			  const char *code, const char *message,
			  const char *report, int *applied);

/*
 * Call fn for up to limit videos still 'uploaded' or 'processing' whose
 * row has not changed for idle_s seconds (the reconciler's candidates).
 */
/* Does the row exist (a player may delete a video mid-job)? */
enum sc_err videos_exists(struct db *db, const char *id, int *exists);

enum sc_err videos_unfinished(struct db *db, int idle_s, int limit,
			      void (*fn)(const char *id, void *arg), void *arg);

#endif
