/*
 * lease.h - keeps one job's lease alive for the whole job.
 *
 * A job's lease must cover everything the worker does for it: the start
 * in PostgreSQL, the download of the original, the transcode, the
 * uploads, the final write and the acknowledgement.  A keeper renews it
 * from a thread of its own, every third of the lease, whatever the job
 * thread is blocked on, so a slow S3 transfer can no longer let the lease
 * lapse and hand the video to a second worker while the first still works.
 *
 * The job thread asks lease_lost() between steps (and the S3 client and
 * the transcoder's watcher poll it): once it is true the job is someone
 * else's, and the thread stops at once without writing anything.  The
 * lease is deemed lost when Redis answers that another attempt holds the
 * job (the fencing token no longer matches), or when no renewal succeeded
 * for a whole lease (Redis unreachable: the reaper may have handed the job
 * on meanwhile, so going on would race the next holder).
 *
 * Life cycle: lease_keeper_new() once per job thread, with a Redis
 * connection of its own (hiredis connections are not shared between
 * threads); lease_keep() when a job is leased, lease_release() when it is
 * settled; lease_keeper_free().
 */
#ifndef SC_LEASE_H
#define SC_LEASE_H

#include "error.h"
#include "queue.h"

struct lease_keeper;

/* On SC_OK *out is the caller's.  redis_url and prefix as in config.h. */
enum sc_err lease_keeper_new(const char *redis_url, int connect_timeout_ms,
			     const char *prefix, struct lease_keeper **out);
void lease_keeper_free(struct lease_keeper *k);

/*
 * Start renewing job's lease (lease_ms long, taken just now) from the
 * keeper's thread.  job must stay valid until lease_release().
 * SC_ERR_NOMEM if the thread cannot start (the job must not go on).
 */
enum sc_err lease_keep(struct lease_keeper *k, const struct queue_job *job,
		       int lease_ms);

/* Stop renewing; waits for the thread. */
void lease_release(struct lease_keeper *k);

/* The progress (0..100) the next renewal reports. */
void lease_progress(struct lease_keeper *k, int percent);

/* Is the lease lost?  Safe from any thread. */
int lease_lost(const struct lease_keeper *k);

#endif
