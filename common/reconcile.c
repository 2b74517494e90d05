/*
 * reconcile.c - one pass of the reconciler (see reconcile.h).
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "reconcile.h"

struct pass {
	struct db *db;
	struct queue *q;
	int idle_s;
	struct reconcile_stats *st;
	enum sc_err err;		/* the first Redis error stops the pass */
};

const char *reconcile_split_error(const char *err, char *code, size_t cap)
{
	const char *colon = strstr(err, ": ");
	size_t n = colon ? (size_t)(colon - err) : 0;
	size_t i;

	/* a code is a short lowercase word ("s3", "worker_lost"): anything
	 * else is all message */
	for (i = 0; i < n; i++)
		if (!((err[i] >= 'a' && err[i] <= 'z') ||
		      (err[i] >= '0' && err[i] <= '9') || err[i] == '_'))
			n = 0;
	if (n == 0 || n >= cap) {
		snprintf(code, cap, "unknown");
		return err;
	}
	memcpy(code, err, n);
	code[n] = '\0';
	return colon + 2;
}

const char *reconcile_public_message(const char *code, const char *detail)
{
	static const struct { const char *code, *text; } ours[] = {
		{ "db", "processing failed on our side (the database); an "
			"operator can retry it" },
		{ "s3", "processing failed on our side (the storage); an "
			"operator can retry it" },
		{ "io", "processing failed on our side (the worker's disk); an "
			"operator can retry it" },
		{ "internal", "processing failed on our side; an operator can "
			      "retry it" },
	};
	size_t i;

	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (!strcmp(code, ours[i].code))
			return ours[i].text;
	return detail;
}

static void one(const char *id, const char *status, void *arg)
{
	struct pass *p = arg;
	char state[16], error[600], code[32];
	const char *msg;
	int created = 0, applied = 0;
	enum sc_err rc;

	if (p->err)
		return;
	p->st->scanned++;
	rc = queue_job_state(p->q, id, state, sizeof(state), error, sizeof(error));
	if (rc == SC_ERR_NOT_FOUND) {
		if ((rc = queue_enqueue(p->q, id, &created))) {
			p->err = rc;
			return;
		}
		if (created) {
			p->st->queued++;
			log_warn("video %s was %s with no job: queued again", id, status);
		}
		return;
	}
	if (rc) {
		p->err = rc;
		return;
	}
	if (strcmp(state, "dead"))
		return;
	msg = reconcile_public_message(code,
				       reconcile_split_error(error, code, sizeof(code)));
	if (videos_fail_unfinished(p->db, id, p->idle_s, code, msg, &applied)) {
		p->err = SC_ERR_DB;
		return;
	}
	if (applied) {
		p->st->failed++;
		log_warn("video %s was %s but its job is dead: failed (%s)", id,
			 status, code);
	}
}

enum sc_err reconcile_pass(struct db *db, struct queue *q, int idle_s,
			   int max_rows, struct videos_cursor *cur,
			   struct reconcile_stats *st)
{
	struct pass p = { db, q, idle_s, st, SC_OK };
	enum sc_err rc;
	int rows;

	memset(st, 0, sizeof(*st));
	while (st->scanned < max_rows) {
		rc = videos_unfinished_page(db, idle_s, RECONCILE_PAGE, cur, one,
					    &p, &rows);
		if (rc)
			return SC_ERR_DB;	/* down, or past its deadline */
		if (p.err)
			return p.err;
		if (rows < RECONCILE_PAGE) {
			memset(cur, 0, sizeof(*cur));	/* the end: start over */
			break;
		}
	}
	return SC_OK;
}
