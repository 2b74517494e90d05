/*
 * sns.h - events to an Amazon SNS topic: a kind of webhook endpoint.
 *
 * An endpoint whose url is "sns:<topic ARN>" (migration 006 allows it) is
 * claimed, retried, leased, counted and kept like any other by the
 * dispatcher (dispatch.h); only its sending differs: instead of a signed
 * Standard Webhooks POST, the same JSON body ({"type","timestamp","data"})
 * is published with SNS's query API (Action=Publish, Version 2010-03-31),
 * signed with AWS Signature Version 4 (common/sigv4.h, service "sns", the
 * topic's region) with the keys of common/awscreds.h: AWS_ACCESS_KEY_ID
 * and AWS_SECRET_ACCESS_KEY when set, else the instance role.  The message
 * carries two string attributes: type (the event's type, for subscription
 * filter policies) and id (evt_<event id>, the webhook-id of the same
 * event: delivery is at least once, consumers deduplicate on it).
 *
 * Requests go to EVENTS_SNS_ENDPOINT when set, else to
 * https://sns.REGION.amazonaws.com (amazonaws.com.cn in the aws-cn
 * partition).  The answer is the HTTP status, for the dispatcher's usual
 * rules: 200 with a PublishResponse is delivered; anything else, SNS's
 * throttling and 5xx as well as its other 4xx (a missing permission, a
 * deleted topic), is retried on the webhook schedule and failed after its
 * last step; the error's Code and Message go into last_error.
 *
 * Invariants: EVENTS_SNS_TOPIC_ARN set means one endpoint row sns:<ARN>
 * (a unique index on sns: urls makes the upsert safe between workers
 * starting together); it is created enabled, for every type, and then
 * left to the operator (`showcasectl webhooks` disables, enables or
 * removes it like any endpoint).  Unsetting the variable does not remove
 * the row: `showcasectl webhooks rm` does.
 *
 * Life cycle: sns_new() with the dispatcher; sns_ensure_endpoint() on the
 * dispatcher's thread until it succeeds; sns_publish() per delivery, on
 * that thread only; sns_free().
 */
#ifndef SC_SNS_H
#define SC_SNS_H

#include <stdatomic.h>
#include <stddef.h>

#include "config.h"
#include "db.h"
#include "error.h"

#define SNS_URL_PREFIX "sns:"

struct sns;

/*
 * A publisher with cfg's settings and credentials (cfg must outlive it);
 * a request in flight is abandoned (status 0) once *stopping is non-zero.
 * NULL when out of memory.  sns_free(NULL) does nothing.
 */
struct sns *sns_new(const struct config *cfg, const atomic_int *stopping);
void sns_free(struct sns *s);

/* Is url an SNS endpoint's ("sns:...")? */
int sns_is_endpoint(const char *url);

/*
 * With EVENTS_SNS_TOPIC_ARN set: make sure the endpoint sns:<ARN> exists
 * (added enabled, for every type, when missing; an existing one is left
 * as it is) and log it once.  SC_OK at once when the variable is empty;
 * SC_ERR_DB (or another database error) when PostgreSQL cannot be asked:
 * call again later.
 */
enum sc_err sns_ensure_endpoint(struct sns *s, struct db *db);

/*
 * Publish body[0..len) (the event's JSON) to the topic of endpoint url
 * ("sns:<ARN>"), with the attributes type and id (msg_id, evt_<event
 * id>).  Returns the HTTP status (200 only with a PublishResponse), or 0
 * when there was no answer (not sent, unreachable, stopping); error
 * (cap bytes) says what went wrong, "" on success.
 */
long sns_publish(struct sns *s, const char *url, const char *msg_id,
		 const char *type, const char *body, size_t len, char *error,
		 size_t cap);

#endif
