/*
 * api.h - the API server's state, shared by its routes.
 *
 * Invariants: one struct api per process, made in main() before the HTTP
 * threads start and freed after they stop; routes read cfg freely and
 * take deps.lock around every use of the dependency handles, which are
 * single-threaded objects.
 */
#ifndef SC_API_H
#define SC_API_H

#include <pthread.h>

#include "config.h"
#include "db.h"
#include "redisconn.h"
#include "s3.h"

struct api {
	struct config cfg;
	struct {
		pthread_mutex_t lock;
		struct db *db;
		struct redisconn *redis;
		struct s3_client *s3;
	} deps;
};

#endif
