/*
 * routes/events.c - live status of a player's own videos (sse.h).
 *
 * A browser's EventSource cannot send an Authorization header, so it
 * first asks for a ticket with its token (POST .../ticket) and opens the
 * stream with ?ticket=; other clients send their Bearer token.  The
 * stream replays the events after Last-Event-ID (the header an
 * EventSource sends when it reconnects, or ?last_event_id=) first.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "sse.h"

static enum MHD_Result post_ticket(struct api *api, struct request *req,
				   struct MHD_Connection *conn)
{
	char ticket[SSE_TICKET_MAX];
	cJSON *body;

	if (sse_ticket_make(api->cfg.jwt_secret, req->user_id,
			    (long long)time(NULL), ticket))
		return http_send_error(req, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "internal", "cannot make a ticket");
	body = http_strings("ticket", ticket, NULL);
	if (body && !cJSON_AddNumberToObject(body, "expires_in",
					     SSE_TICKET_TTL_S)) {
		cJSON_Delete(body);
		body = NULL;
	}
	return http_send_json(req, conn, MHD_HTTP_OK, body);
}

/* The id to replay after: -1 when none was given, -2 when it is bad. */
static long long last_event_id(struct MHD_Connection *conn)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						    "Last-Event-ID");
	long long id;
	char *end;

	if (!v || !*v)
		v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
						"last_event_id");
	if (!v || !*v)
		return -1;
	id = strtoll(v, &end, 10);
	if (*end || id < 0 || strlen(v) > 19)
		return -2;
	return id;
}

static enum MHD_Result get_events(struct api *api, struct request *req,
				  struct MHD_Connection *conn)
{
	const char *ticket = MHD_lookup_connection_value(conn,
							 MHD_GET_ARGUMENT_KIND,
							 "ticket");
	const char *why;
	long long last = last_event_id(conn);

	if (!req->user_id) {
		if (!ticket || !*ticket) {
			return http_send_error(req, conn, MHD_HTTP_UNAUTHORIZED,
					       "unauthorized",
					       "no Bearer token in the Authorization "
					       "header and no ticket");
		}
		if (sse_ticket_check(api, ticket, (long long)time(NULL),
				     &req->user_id, &why)) {
			return http_send_error(req, conn, MHD_HTTP_UNAUTHORIZED,
					       "unauthorized", why);
		}
	}
	if (last == -2)
		return http_send_error(req, conn, MHD_HTTP_BAD_REQUEST,
				       "invalid_last_event_id",
				       "Last-Event-ID must be an event id (a "
				       "non-negative integer)");
	return sse_open(api, req, conn, req->user_id, last);
}

const struct route route_events[] = {
	{ "POST", "/api/videos/events/ticket", post_ticket, R_AUTH, NULL },
	{ "GET", "/api/videos/events", get_events, R_AUTH_OPTIONAL, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
