/* test_client.c - the client behind the proxies; CIDR lists; rates. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "cidr.h"
#include "client.h"
#include "config.h"
#include "fingerprint.h"
#include "unit.h"

static struct sockaddr_in v4(const char *text)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, text, &a.sin_addr);
	return a;
}

/* The client of a request with one X-Forwarded-For line. */
static void one(const struct sockaddr_in *peer, const char *xff,
		const struct cidr_list *trusted, struct client *c)
{
	const char *lines[] = { xff };

	client_resolve((const struct sockaddr *)peer, lines, 1, trusted, c);
}

static void test_cidr_list_parses_and_refuses(void)
{
	struct cidr_list l;
	char why[160] = "";
	unsigned char a[16];

	CHECK_INT(cidr_parse_list("10.0.0.0/16, fd00::/8,192.0.2.7", &l, why,
				  sizeof(why)), SC_OK);
	CHECK_INT(l.n, 3);
	CHECK(!cidr_addr("10.0.200.1", a) && cidr_contains(&l, a));
	CHECK(!cidr_addr("10.1.0.1", a) && !cidr_contains(&l, a));
	CHECK(!cidr_addr("fd12::1", a) && cidr_contains(&l, a));
	CHECK(!cidr_addr("192.0.2.7", a) && cidr_contains(&l, a));
	CHECK(!cidr_addr("192.0.2.8", a) && !cidr_contains(&l, a));
	/* an IPv6 socket's view of an IPv4 peer */
	CHECK(!cidr_addr("::ffff:10.0.3.4", a) && cidr_contains(&l, a));
	CHECK_INT(cidr_parse_list("", &l, why, sizeof(why)), SC_OK);
	CHECK_INT(l.n, 0);
	CHECK_INT(cidr_parse_list("10.0.0.0/33", &l, why, sizeof(why)),
		  SC_ERR_INVALID);
	CHECK(strstr(why, "10.0.0.0/33") != NULL);
	CHECK_INT(cidr_parse_list("10.0.0.0/", &l, NULL, 0), SC_ERR_INVALID);
	CHECK_INT(cidr_parse_list("example.org", &l, NULL, 0), SC_ERR_INVALID);
	CHECK_INT(cidr_parse_list("::/129", &l, NULL, 0), SC_ERR_INVALID);
}

static void test_cidr_network_is_the_v4_address_or_the_v6_slash_64(void)
{
	unsigned char a[16];
	char net[64];

	cidr_addr("198.51.100.7", a);
	cidr_network(a, net);
	CHECK_STR(net, "198.51.100.7");
	cidr_addr("2001:db8:1:2:aaaa:bbbb:cccc:dddd", a);
	cidr_network(a, net);
	CHECK_STR(net, "2001:db8:1:2::/64");
}

static void test_client_forwarded_only_from_a_trusted_peer(void)
{
	struct sockaddr_in lb = v4("10.0.1.5"), other = v4("203.0.113.9");
	struct cidr_list trusted;
	struct client c;

	cidr_parse_list("10.0.0.0/16", &trusted, NULL, 0);
	/* the balancer appended the client's address */
	one(&lb, "198.51.100.7", &trusted, &c);
	CHECK_STR(c.text, "198.51.100.7");
	CHECK_STR(c.peer, "10.0.1.5");
	CHECK_INT(c.forwarded, 1);
	/* what the client wrote itself lies to the left: never reached */
	one(&lb, "1.2.3.4, 198.51.100.7", &trusted, &c);
	CHECK_STR(c.text, "198.51.100.7");
	/* a chain of trusted proxies is walked through */
	one(&lb, "198.51.100.7,10.0.2.2 , 10.0.3.3", &trusted, &c);
	CHECK_STR(c.text, "198.51.100.7");
	/* from an untrusted peer the header is ignored */
	one(&other, "198.51.100.7", &trusted, &c);
	CHECK_STR(c.text, "203.0.113.9");
	CHECK_INT(c.forwarded, 0);
	/* garbage where the balancer's entry should be: the peer stands */
	one(&lb, "198.51.100.7, nonsense", &trusted, &c);
	CHECK_STR(c.text, "10.0.1.5");
	CHECK_INT(c.forwarded, 0);
	/* several lines are one list: the last line's entry is the
	 * balancer's, whatever the client sent in an earlier line */
	{
		const char *lines[] = { "203.0.113.50", "198.51.100.7" };
		const char *spoof[] = { "198.51.100.7", "10.0.9.9" };

		client_resolve((struct sockaddr *)&lb, lines, 2, &trusted, &c);
		CHECK_STR(c.text, "198.51.100.7");
		/* a line of proxies only: the line before is read */
		client_resolve((struct sockaddr *)&lb, spoof, 2, &trusted, &c);
		CHECK_STR(c.text, "198.51.100.7");
	}
	/* no trusted proxies at all: never believed */
	trusted.n = 0;
	one(&lb, "198.51.100.7", &trusted, &c);
	CHECK_STR(c.text, "10.0.1.5");
	CHECK_STR(c.network, "10.0.1.5");
}

static void test_rates_parse(void)
{
	long n;
	long long ms;

	CHECK_INT(config_parse_rate("30/m", &n, &ms), 0);
	CHECK_INT(n, 30);
	CHECK_INT(ms, 60000);
	CHECK_INT(config_parse_rate("1/d", &n, &ms), 0);
	CHECK_INT(ms, 86400000);
	CHECK_INT(config_parse_rate("0", &n, &ms), 0);
	CHECK_INT(n, 0);
	CHECK_INT(config_parse_rate("30", &n, &ms), -1);
	CHECK_INT(config_parse_rate("30/min", &n, &ms), -1);
	CHECK_INT(config_parse_rate("-3/m", &n, &ms), -1);
	CHECK_INT(config_parse_rate("0/m", &n, &ms), -1);
	CHECK_INT(config_parse_rate("/m", &n, &ms), -1);
}

static void test_fingerprints_are_keyed_and_labelled(void)
{
	struct fingerprint_key k1, k2;
	char a[FINGERPRINT_HEX], b[FINGERPRINT_HEX];

	fingerprint_key_init(&k1, "", "a-jwt-secret-of-32-bytes-or-more-000");
	fingerprint_key_init(&k2, "contest-2027", "a-jwt-secret-of-32-bytes-or-more-000");
	fingerprint(&k1, "network", "198.51.100.7", 12, a);
	CHECK_INT(strlen(a), 32);
	CHECK_INT(strspn(a, "0123456789abcdef"), 32);
	fingerprint(&k1, "network", "198.51.100.7", 12, b);
	CHECK_STR(a, b);			/* stable */
	fingerprint(&k2, "network", "198.51.100.7", 12, b);
	CHECK(strcmp(a, b) != 0);		/* the key rotates it */
	fingerprint(&k1, "agent", "198.51.100.7", 12, b);
	CHECK(strcmp(a, b) != 0);		/* kinds kept apart */
}

const struct unit_test test_client_suite[] = {
	UNIT_TEST(test_cidr_list_parses_and_refuses),
	UNIT_TEST(test_cidr_network_is_the_v4_address_or_the_v6_slash_64),
	UNIT_TEST(test_client_forwarded_only_from_a_trusted_peer),
	UNIT_TEST(test_rates_parse),
	UNIT_TEST(test_fingerprints_are_keyed_and_labelled),
	{ NULL, NULL },
};
