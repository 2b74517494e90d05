/*
 * cidr.h - lists of IP networks in CIDR notation (RFC 4632 for IPv4,
 * RFC 4291 section 2.3 for IPv6), and an address's network.
 *
 * An IPv4 address is kept as its IPv4-mapped IPv6 form (::ffff:a.b.c.d,
 * RFC 4291 section 2.5.5.2), so "10.0.0.0/8" also matches a peer that an
 * IPv6 socket reports as ::ffff:10.1.2.3.
 */
#ifndef SC_CIDR_H
#define SC_CIDR_H

#include <stddef.h>

#include "error.h"

#define CIDR_MAX 64		/* networks in one list */

struct cidr {
	unsigned char addr[16];	/* IPv6 form, host bits cleared */
	int bits;		/* prefix length over those 128 bits */
};

struct cidr_list {
	struct cidr net[CIDR_MAX];
	int n;
};

/*
 * Parse "10.0.0.0/16, fd00::/8, 192.0.2.7" (a bare address is one host)
 * into *out.  "" is the empty list.  SC_ERR_INVALID names the bad entry
 * in why (cap bytes) when why is not NULL.
 */
enum sc_err cidr_parse_list(const char *s, struct cidr_list *out, char *why,
			    size_t cap);

/*
 * Parse one textual address (inet_pton's forms) into its IPv6 form;
 * 0, or -1 when it is no address.
 */
int cidr_addr(const char *text, unsigned char out[16]);

/* 1 when addr (IPv6 form) is in one of l's networks. */
int cidr_contains(const struct cidr_list *l, const unsigned char addr[16]);

/*
 * The network an address stands for when counting clients: an IPv4
 * address itself, an IPv6 address's /64 (one subscriber's usual
 * delegation, RFC 6177).  Written as text into out ("192.0.2.7",
 * "2001:db8:1:2::/64").
 */
void cidr_network(const unsigned char addr[16], char out[64]);

#endif
