/*
 * upload_sweeper.h - removes expired resumable uploads.
 *
 * Every API runs one thread that, every API_TUS_SWEEP_S, takes up to a
 * batch of uploads past their Upload-Expires (tus 1.0, expiration
 * extension): an unfinished one has its S3 multipart upload aborted and
 * its tail object deleted, then its row (tus_store_discard); a finished
 * one only its row (the video stays).  An upload whose lock another
 * session holds (a PATCH still writing) is left for the next round.
 * Instances sweep side by side safely: the lock decides.  Direct
 * uploads never completed lose their row and object too
 * (direct_store_sweep).
 *
 * Life cycle: upload_sweeper_start() after the HTTP server started (it
 * takes its own handles with deps_get), upload_sweeper_stop() before the
 * handles are freed; stop wakes it within a second.
 */
#ifndef SC_UPLOAD_SWEEPER_H
#define SC_UPLOAD_SWEEPER_H

#include "api.h"

struct upload_sweeper;

/* NULL when the thread cannot start (logged). */
struct upload_sweeper *upload_sweeper_start(struct api *api);
/* Joins the thread; NULL does nothing. */
void upload_sweeper_stop(struct upload_sweeper *sw);

/* One round now: the uploads removed, or -1 when PostgreSQL failed. */
int tus_sweep(struct api *api, struct deps *d);

#endif
