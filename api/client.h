/*
 * client.h - who a request comes from: the client's address, as the
 * rate limits, the vote audit and the access log count it.
 *
 * Behind a load balancer every TCP peer is the balancer; the client is
 * in X-Forwarded-For, which the balancer appends to (AWS Elastic Load
 * Balancing: "X-Forwarded-For" in the Application Load Balancer guide;
 * the header's grammar as in RFC 7239 section 5.2 for "for=").  That
 * header is the client's say too, so it is believed only when the peer
 * is a trusted proxy (API_TRUSTED_PROXIES), and then read from the
 * right: the client is the right-most address that is not itself a
 * trusted proxy.  Addresses a client prepends lie to the left of what
 * the balancer appended and are never reached.  From any other peer
 * the header is ignored.
 */
#ifndef SC_CLIENT_H
#define SC_CLIENT_H

#include <arpa/inet.h>

#include "cidr.h"

struct client {
	unsigned char addr[16];		/* IPv6 form (cidr.h) */
	char text[INET6_ADDRSTRLEN];	/* the client, as text */
	char peer[INET6_ADDRSTRLEN];	/* the TCP peer, as text */
	char network[64];		/* what limits count: cidr_network */
	int forwarded;			/* taken from X-Forwarded-For */
};

/* Header lines of X-Forwarded-For looked at: the last ones. */
#define CLIENT_XFF_LINES 16

/*
 * The client of a request from peer (a sockaddr of AF_INET or AF_INET6,
 * or NULL: unknown) and the nxff lines of X-Forwarded-For in xff (in the
 * order they came; several lines are one list, as RFC 9110 section 5.3
 * combines them, so the last line's right-most entry comes first).
 */
void client_resolve(const struct sockaddr *peer, const char *const *xff,
		    int nxff, const struct cidr_list *trusted,
		    struct client *out);

#endif
