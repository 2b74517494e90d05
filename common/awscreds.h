/*
 * awscreds.h - AWS credentials for signing: static keys or the instance role.
 *
 * Invariants: the source is chosen once, at creation, in the order the
 * AWS SDKs use: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (with
 * AWS_SESSION_TOKEN) when set, else the EC2 instance role through IMDSv2
 * (PUT /latest/api/token, then the role name, then its credentials).
 * Role credentials are fetched on first use and refreshed before they
 * expire: when a fifth of their lifetime is left (at least a second, at
 * most five minutes).  If a refresh fails while the old keys are still
 * valid, the old keys are used and the refresh is retried at most once a
 * second.  One provider may be shared by every thread of a process.
 *
 * Life cycle: awscreds_new() at start-up; awscreds_get() before each
 * signature; awscreds_free() after the last user is gone.
 */
#ifndef SC_AWSCREDS_H
#define SC_AWSCREDS_H

#include <time.h>

#include "buf.h"
#include "config.h"
#include "error.h"

struct awscreds;

/* One snapshot of credentials, owned by the caller. */
struct awscreds_keys {
	char access_key[128];
	char secret_key[128];
	char token[4096];	/* "" for long-term keys */
	time_t expires;		/* 0: never */
};

/*
 * Static keys when c has a key id (config_load() has checked that its
 * secret is there too), else the instance role.  NULL when out of memory.
 */
struct awscreds *awscreds_new(const struct config *c);
void awscreds_free(struct awscreds *p);

/*
 * Copy the current keys into *out, refreshing role credentials first when
 * they are due.  SC_ERR_AUTH when there are no usable keys (IMDS cannot
 * be reached and nothing valid is cached); errmsg says why.
 */
enum sc_err awscreds_get(struct awscreds *p, struct awscreds_keys *out,
			 struct buf *errmsg);

/* "environment" or "instance-role". */
const char *awscreds_source(const struct awscreds *p);

#endif
