/* cidr.c - IP networks in CIDR notation (see cidr.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					     0xff, 0xff };

static int is_v4(const unsigned char a[16])
{
	return !memcmp(a, v4_mapped, sizeof(v4_mapped));
}

int cidr_addr(const char *text, unsigned char out[16])
{
	struct in_addr v4;

	if (inet_pton(AF_INET, text, &v4) == 1) {
		memcpy(out, v4_mapped, sizeof(v4_mapped));
		memcpy(out + 12, &v4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, text, out) == 1 ? 0 : -1;
}

static void clear_host_bits(unsigned char a[16], int bits)
{
	int i;

	for (i = 0; i < 16; i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			a[i] &= (unsigned char)(0xff00 >> bits);
			bits = 0;
		}
	}
}

/* One entry, "ADDR" or "ADDR/BITS", of len bytes. */
static int parse_one(const char *s, size_t len, struct cidr *c)
{
	char text[INET6_ADDRSTRLEN + 8], *slash, *end;
	long bits;
	int max;

	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	if ((slash = strchr(text, '/')))
		*slash = '\0';
	if (cidr_addr(text, c->addr))
		return -1;
	max = is_v4(c->addr) && !strchr(text, ':') ? 32 : 128;
	bits = max;
	if (slash) {
		bits = strtol(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end || bits > max)
			return -1;
	}
	c->bits = (int)bits + (max == 32 ? 96 : 0);
	clear_host_bits(c->addr, c->bits);
	return 0;
}

enum sc_err cidr_parse_list(const char *s, struct cidr_list *out, char *why,
			    size_t cap)
{
	const char *p = s, *end;
	size_t len;

	out->n = 0;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!*p)
			break;
		end = p + strcspn(p, ", ");
		len = (size_t)(end - p);
		if (out->n == CIDR_MAX) {
			if (why)
				snprintf(why, cap, "more than %d networks", CIDR_MAX);
			return SC_ERR_INVALID;
		}
		if (parse_one(p, len, &out->net[out->n])) {
			if (why)
				snprintf(why, cap, "\"%.*s\" is not an address or "
					 "ADDRESS/BITS", (int)(len > 60 ? 60 : len), p);
			return SC_ERR_INVALID;
		}
		out->n++;
		p = end;
	}
	return SC_OK;
}

int cidr_contains(const struct cidr_list *l, const unsigned char addr[16])
{
	unsigned char a[16];
	int i;

	for (i = 0; i < l->n; i++) {
		memcpy(a, addr, sizeof(a));
		clear_host_bits(a, l->net[i].bits);
		if (!memcmp(a, l->net[i].addr, sizeof(a)))
			return 1;
	}
	return 0;
}

void cidr_network(const unsigned char addr[16], char out[64])
{
	unsigned char a[16];
	size_t n;

	if (is_v4(addr)) {
		inet_ntop(AF_INET, addr + 12, out, 64);
		return;
	}
	memcpy(a, addr, sizeof(a));
	clear_host_bits(a, 64);
	inet_ntop(AF_INET6, a, out, 64 - 4);
	n = strlen(out);
	snprintf(out + n, 64 - n, "/64");
}
