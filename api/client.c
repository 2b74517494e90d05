/* client.c - a request's client address (see client.h). */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "client.h"

static void set_text(const unsigned char a[16], char *out, size_t cap)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						  0xff, 0xff };

	if (!memcmp(a, mapped, sizeof(mapped)))
		inet_ntop(AF_INET, a + 12, out, (socklen_t)cap);
	else
		inet_ntop(AF_INET6, a, out, (socklen_t)cap);
}

/*
 * The right-most address of one header line that is not a trusted proxy,
 * into out: 0 found, 1 every entry a trusted proxy (look at the line
 * before), -1 the entry reached there is no address (the peer stands).
 */
static int from_forwarded(const char *xff, const struct cidr_list *trusted,
			  unsigned char out[16])
{
	const char *end = xff + strlen(xff), *seg, *start;
	char text[INET6_ADDRSTRLEN + 2];
	size_t len;

	while (end > xff) {
		seg = end;	/* the entry is [seg, end) */
		while (seg > xff && seg[-1] != ',')
			seg--;
		start = seg;
		len = (size_t)(end - seg);
		while (len && (*start == ' ' || *start == '\t')) {
			start++;
			len--;
		}
		while (len && (start[len - 1] == ' ' || start[len - 1] == '\t'))
			len--;
		if (!len || len >= sizeof(text))
			return -1;
		memcpy(text, start, len);
		text[len] = '\0';
		if (cidr_addr(text, out))
			return -1;
		if (!cidr_contains(trusted, out))
			return 0;
		end = seg > xff ? seg - 1 : xff;	/* before its comma */
	}
	return 1;
}

/* The lines as one list, read from the right (RFC 9110 section 5.3). */
static int from_lines(const char *const *xff, int n,
		      const struct cidr_list *trusted, unsigned char out[16])
{
	int i, r;

	for (i = n - 1; i >= 0; i--)
		if ((r = from_forwarded(xff[i], trusted, out)) <= 0)
			return r;
	return -1;	/* every hop a proxy: nothing better than the peer */
}

void client_resolve(const struct sockaddr *peer, const char *const *xff,
		    int nxff, const struct cidr_list *trusted,
		    struct client *out)
{
	unsigned char fwd[16];

	memset(out, 0, sizeof(*out));
	if (peer && peer->sa_family == AF_INET) {
		out->addr[10] = out->addr[11] = 0xff;
		memcpy(out->addr + 12,
		       &((const struct sockaddr_in *)(const void *)peer)->sin_addr, 4);
	} else if (peer && peer->sa_family == AF_INET6) {
		memcpy(out->addr,
		       &((const struct sockaddr_in6 *)(const void *)peer)->sin6_addr, 16);
	}
	set_text(out->addr, out->peer, sizeof(out->peer));
	if (nxff > 0 && trusted->n && cidr_contains(trusted, out->addr) &&
	    !from_lines(xff, nxff, trusted, fwd)) {
		memcpy(out->addr, fwd, sizeof(fwd));
		out->forwarded = 1;
	}
	set_text(out->addr, out->text, sizeof(out->text));
	cidr_network(out->addr, out->network);
}
