/*
 * tus_patch.h - the bytes of one tus PATCH, on its transfer's thread
 * (transfer.h): the check before them and what is done with them.
 *
 * tus 1.0 (https://tus.io/protocols/resumable-upload, core protocol and
 * the checksum extension).  A job with a creation (the creation-with-
 * upload extension) first holds the player to the rate limits and quotas
 * (upload_guard_check) and makes the upload's row.  The check takes the upload's lock (another
 * writer: 423), and refuses an unknown or another player's upload (404),
 * an expired one (410), an Upload-Offset that is not the upload's (409)
 * and a Content-Length past Upload-Length (413).  Then the bytes are
 * appended to the upload's part buffer, which starts with the tail
 * object's bytes (tus_store.h); each full part goes to the S3 multipart
 * upload at once.  Without Upload-Checksum every part is committed as it
 * is sent, and when the body stops short (the client went away) the
 * bytes that came are kept: the rest goes to a new tail object and the
 * offset moves to the last byte received.  With Upload-Checksum (sha1)
 * nothing is committed before the whole body has matched it (460 if
 * not; a body cut short is dropped).  The file's type is checked from
 * its first bytes, as the classic upload does (an ISO BMFF ftyp box);
 * another type ends the upload (400, removed).  When the last byte is
 * in, the object is completed and the video recorded exactly as a
 * classic upload is (upload_guard_record).
 *
 * Memory: one part buffer of the upload's part size while the body
 * comes (and the transfer's ring), whatever the file's size.
 *
 * Life cycle: tus_job_new() from the request; the transfer takes it
 * (transfer_check: tus_job_check, tus_job_send, tus_job_done) or, for a
 * PATCH without a body, tus_job_check() then tus_job_done() on a pool
 * thread; the request reads the outcome, then tus_job_unref().
 */
#ifndef SC_TUS_PATCH_H
#define SC_TUS_PATCH_H

#include <stdatomic.h>

#include "rate_guard.h"
#include "transfer.h"
#include "tus_store.h"

#define TUS_SHA1_LEN 20

/* What a job that creates its upload first needs (creation-with-upload). */
struct tus_creation {
	char network[64];		/* the client's, for the rate limits */
	long long length;		/* Upload-Length */
	long long part_size;
	char title[256];
	int is_public;
	int expiry_s;
};

struct tus_job {
	struct api *api;
	long long user;
	char id[40];
	int creating;			/* make the upload first, from create */
	struct tus_creation create;
	long long client_offset;	/* Upload-Offset */
	long long content_length;	/* -1: not sent */
	int has_checksum;
	unsigned char sha1[TUS_SHA1_LEN];	/* Upload-Checksum's */
	/* taken by the check, given back by tus_job_free() */
	struct deps *d;
	int locked;
	struct tus_row row;
	/* the outcome: a refusal (written before refused is set), or the
	 * offset after this PATCH and whether it finished the upload */
	struct refusal refusal;
	atomic_int refused;
	long long offset;
	int completed;
	atomic_int refs;
};

/*
 * NULL when out of memory.  A job has two references, the request's and
 * the transfer's (or the pool's, for a PATCH without a body): the
 * request reads the outcome whenever the transfer ended.
 */
struct tus_job *tus_job_new(struct api *api, long long user, const char *id);
/* One reference less; the last frees the job.  No I/O: any thread. */
void tus_job_unref(struct tus_job *j);
/* The transfer's (or pool's) end: unlocks and gives the handles back
 * (I/O: never on an event loop), then drops its reference; for
 * transfer_check's ctx_free. */
void tus_job_done(void *job);

/* transfer_check's fn: 0 go on; 1 refused (job->refusal).  With
 * job->creating set, the upload is made first. */
int tus_job_check(void *job);

/* transfer_check's send (transfer.h). */
enum sc_err tus_job_send(void *job, struct s3_client *s3, struct transfer *t,
			 long long *size);

#endif
