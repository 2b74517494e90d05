/* deps.c - sets of dependency handles for the routes (see api.h). */
#include <stdlib.h>

#include "api.h"
#include "log.h"

static void deps_free(struct deps *d)
{
	if (!d)
		return;
	queue_free(d->queue);
	redisconn_free(d->redis);
	db_free(d->db);
	s3_client_free(d->s3);
	free(d);
}

struct s3_client *api_s3_client(struct api *api)
{
	struct config c = api->cfg;

	/* an upload holds one part buffer: memory stays per-upload small */
	c.s3_part_size_mb = api->cfg.api_upload_part_mb;
	c.s3_parts_in_flight = 1;
	return s3_client_new(&c, api->creds);
}

static struct deps *deps_new(struct api *api)
{
	struct deps *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->db = db_open(&api->cfg);
	d->s3 = s3_client_new(&api->cfg, api->creds);
	if (!d->db || !d->s3 ||
	    redisconn_new(api->cfg.redis_url, api->cfg.connect_timeout_ms,
			  &d->redis) ||
	    queue_new(d->redis, api->cfg.queue_prefix, &d->queue)) {
		deps_free(d);
		return NULL;
	}
	return d;
}

struct deps *deps_get(struct api *api)
{
	struct deps *d;

	pthread_mutex_lock(&api->lock);
	d = api->idle;
	if (d)
		api->idle = d->next;
	pthread_mutex_unlock(&api->lock);
	if (d)
		return d;
	d = deps_new(api);
	if (!d) {
		log_error("cannot make connections for a request: out of memory");
		return NULL;
	}
	pthread_mutex_lock(&api->lock);
	api->ndeps++;
	pthread_mutex_unlock(&api->lock);
	return d;
}

void deps_put(struct api *api, struct deps *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&api->lock);
	d->next = api->idle;
	api->idle = d;
	pthread_mutex_unlock(&api->lock);
}

void deps_free_all(struct api *api)
{
	struct deps *d;

	while ((d = api->idle)) {
		api->idle = d->next;
		deps_free(d);
	}
}
