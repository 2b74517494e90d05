/*
 * dispatch.h - the webhook dispatcher: a thread of the worker that sends
 * due rows of webhook_deliveries to their endpoints (Standard Webhooks v1,
 * signed with common/webhook.h) and records each outcome.
 *
 * Invariants: any number of dispatchers (threads of any number of worker
 * processes) run at once.  A dispatcher claims a batch of due deliveries
 * in one statement (FOR UPDATE SKIP LOCKED) by moving their next_at past
 * a claim lease of twice WEBHOOK_TIMEOUT_MS, so no other dispatcher sees
 * them meanwhile; one that dies mid-batch leaves them to come due again
 * when the lease passes: delivery is at least once, and a receiver
 * deduplicates on webhook-id.  Each outcome is one UPDATE: delivered
 * (2xx); the endpoint disabled and its pending deliveries failed (410);
 * otherwise a retry on the schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 24 h, scaled by WEBHOOK_RETRY_BASE_MS / 5 s, each jittered to 80-120 %,
 * or a longer Retry-After up to 24 h), failed after the attempt that
 * follows the 24 h step.  Only http and https URLs are contacted, no
 * redirect is followed, and a link-local address (169.254.0.0/16,
 * fe80::/10, fd00:ec2::254) is not connected to, nor sent a request on a
 * reused connection, unless WEBHOOK_ALLOW_LINK_LOCAL.
 * The thread has its own PostgreSQL connection and CURL handle; the
 * worker's other threads never wait on it.  Once at start and then hourly
 * it deletes events older than EVENTS_RETENTION_DAYS whose deliveries are
 * all done.
 *
 * Life cycle: dispatch_start() starts the thread; dispatch_stop() asks it
 * to stop (a request in flight is abandoned and its delivery handed back)
 * without waiting; dispatch_free() stops it, waits for it (at most about
 * WEBHOOK_TIMEOUT_MS) and frees it.  dispatch_metrics() may be called
 * from any thread until dispatch_free().
 */
#ifndef SC_DISPATCH_H
#define SC_DISPATCH_H

#include "buf.h"
#include "config.h"
#include "error.h"

struct dispatch;

/*
 * Start a dispatcher with cfg's settings (cfg must outlive it).  On SC_OK
 * the caller owns *out (dispatch_free); on failure *out is NULL
 * (SC_ERR_NOMEM, or SC_ERR_IO when no thread could be made).
 */
enum sc_err dispatch_start(const struct config *cfg, struct dispatch **out);

/* Ask the thread to stop soon; returns at once.  NULL: nothing. */
void dispatch_stop(struct dispatch *d);

/* Stop the thread, wait for it, free everything.  NULL: nothing. */
void dispatch_free(struct dispatch *d);

/*
 * Append the dispatcher's figures as Prometheus text to b: the counters
 * showcase_webhook_deliveries_total{outcome="delivered|failed|retried"}
 * of this process, and the gauges showcase_webhook_pending and
 * showcase_webhook_oldest_pending_seconds (read from PostgreSQL by the
 * thread on each poll; left out until read).  arg is the struct
 * dispatch (the shape of metrics.h's hook).
 */
void dispatch_metrics(void *arg, struct buf *b);

#endif
