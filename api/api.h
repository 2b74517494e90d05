/*
 * api.h - the API server's state, shared by its routes.
 *
 * Invariants: one struct api per process, made in main() before the HTTP
 * threads start and freed after they stop; routes read cfg freely.  The
 * dependency handles (PostgreSQL, Redis, S3) are single-threaded objects,
 * so they come in sets: a route takes a set with deps_get() for the time
 * it runs and gives it back with deps_put().  Sets are made on demand and
 * kept, so there are about as many as requests ever ran at once: at most
 * one per thread that waits on them (the I/O and hashing pools, the
 * uploads' transfers; the HTTP event loops never take one), each with its
 * own connections.
 */
#ifndef SC_API_H
#define SC_API_H

#include <pthread.h>
#include <stdatomic.h>

#include "awscreds.h"
#include "cidr.h"
#include "config.h"
#include "db.h"
#include "fingerprint.h"
#include "gate.h"
#include "latency.h"
#include "lcache.h"
#include "peruser.h"
#include "queue.h"
#include "quota.h"
#include "ratelimit.h"
#include "redisconn.h"
#include "s3.h"

struct oidc;
struct pool;
struct portal_files;
struct refusal_memo;
struct sse_hub;
struct transfers;

struct deps {
	struct db *db;
	struct redisconn *redis;
	struct queue *queue;
	struct s3_client *s3;
	struct deps *next;		/* in the idle list */
};

/* Counters for /metrics; updated without locks. */
struct api_metrics {
	atomic_llong requests[6];	/* by status class: 1xx..5xx, other */
	atomic_llong uploads_accepted;
	atomic_llong uploads_refused;
	atomic_llong upload_bytes;
	atomic_llong signups;
	atomic_llong logins_failed;
	atomic_llong votes;
	atomic_llong uploads_in_flight;
	atomic_llong uploads_too_many;		/* 429: the player's cap */
	atomic_llong uploads_gave_up;		/* 503: no slot in time */
	/* connections closed under a body: below the minimum rate, past the
	 * body's deadline, a refused body past its drain */
	atomic_llong bodies_cut_slow;
	atomic_llong bodies_cut_deadline;
	atomic_llong bodies_cut_refused;
	atomic_llong quota_daily;		/* uploads refused by a quota */
	atomic_llong quota_total;
	atomic_llong own_votes;			/* 400 own_video */
	atomic_int requests_in_flight;		/* SIGTERM waits for these */
	atomic_int stopping;			/* SIGTERM came: answers close */
	struct latency latency;			/* by route; made by http_start */
};

struct api {
	struct config cfg;
	struct awscreds *creds;		/* shared by every S3 client */
	pthread_mutex_t lock;		/* guards idle, ndeps, argon2_dummy */
	struct deps *idle;
	int ndeps;
	struct api_metrics m;
	struct lcache rankings;		/* this instance's copy of hot pages */
	struct gate uploads;		/* uploads streaming at once */
	struct peruser uploaders;	/* each player's uploads in flight */
	struct cidr_list trusted;	/* API_TRUSTED_PROXIES */
	struct ratelimit limits;	/* API_LIMIT_*, shared in Redis */
	struct quota quota;		/* API_VIDEOS_PER_DAY, API_VIDEOS_MAX */
	struct refusal_memo *upload_refusals;	/* refused at the headers */
	struct fingerprint_key audit_key;	/* votes' and logins' hashes */
	/* the portal's files (API_PORTAL); NULL: not served */
	struct portal_files *portal;
	/* threads that wait for the event loops (http.h); made and freed
	 * by http_start() and http_stop() */
	struct pool *io_pool;		/* PostgreSQL, Redis, S3: API_WORKERS */
	struct pool *cpu_pool;		/* password hashing: API_HASH_WORKERS */
	struct transfers *transfers;	/* uploads to S3: API_UPLOAD_SLOTS */
	/* live status streams and their listener thread (sse.h); made by
	 * main() before http_start(), freed after http_stop() */
	struct sse_hub *sse;
	/* the identity provider's tokens (oidc/oidc.h), NULL without
	 * API_OIDC_ISSUER; made and started by main() before http_start(),
	 * freed after http_stop() */
	struct oidc *oidc;
	/* checked for unknown emails, at the cost of a real check; made on
	 * first use (argon2id takes its memory, which an idle API need not);
	 * under lock */
	char argon2_dummy[128];
};

/* A set of handles, or NULL when out of memory. */
struct deps *deps_get(struct api *api);
void deps_put(struct api *api, struct deps *d);
/* Free every set (after the HTTP threads stopped). */
void deps_free_all(struct api *api);

/* A new S3 client of the API's (uploads hold one each); NULL: no memory. */
struct s3_client *api_s3_client(struct api *api);

#endif
