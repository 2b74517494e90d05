/*
 * peruser.h - how many of something each player holds at once, capped.
 *
 * The API counts a player's uploads in flight with it (waiting for a
 * slot or streaming) and refuses one past API_UPLOADS_PER_USER.
 *
 * Invariants: a player has an entry only while the count is above zero,
 * so the table is as long as the players holding something, at most the
 * connections the server takes.  Thread-safe.
 *
 * Life cycle: peruser_init(); peruser_enter() and, for each 1 it
 * returned, one peruser_leave(); peruser_destroy().
 */
#ifndef SC_PERUSER_H
#define SC_PERUSER_H

#include <pthread.h>
#include <stddef.h>

struct peruser_entry {
	long long user;
	int count;
};

struct peruser {
	pthread_mutex_t lock;
	int max;			/* per player; 0: no cap */
	struct peruser_entry *e;	/* n used of cap */
	size_t n, cap;
};

void peruser_init(struct peruser *p, int max);
void peruser_destroy(struct peruser *p);

/* One more for user: 1 taken, 0 the player is at the cap, -1 no memory. */
int peruser_enter(struct peruser *p, long long user);

/* One less for user (one that peruser_enter() counted). */
void peruser_leave(struct peruser *p, long long user);

/* What user holds now. */
int peruser_count(struct peruser *p, long long user);

#endif
