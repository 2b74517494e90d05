/* password.c - password rules and argon2id hashing (see password.h). */
#include <ctype.h>
#include <string.h>

#include <sodium.h>

#include "password.h"

const char *password_weakness(const char *pw)
{
	size_t n = strlen(pw);
	int letter = 0, digit = 0;
	const char *p;

	if (n < PASSWORD_MIN)
		return "must be at least 8 characters";
	if (n > PASSWORD_MAX)
		return "must be at most 128 characters";
	for (p = pw; *p; p++) {
		if (isdigit((unsigned char)*p))
			digit = 1;
		else if (isalpha((unsigned char)*p) || (unsigned char)*p >= 0x80)
			letter = 1;
	}
	if (!letter || !digit)
		return "must contain a letter and a digit";
	return NULL;
}

enum sc_err password_hash(const char *pw, int ops, int mem_kb, char *out)
{
	if (crypto_pwhash_str(out, pw, strlen(pw), (unsigned long long)ops,
			      (size_t)mem_kb * 1024))
		return SC_ERR_NOMEM;	/* libsodium's only failure */
	return SC_OK;
}

int password_check(const char *hash, const char *pw)
{
	return crypto_pwhash_str_verify(hash, pw, strlen(pw)) == 0;
}

int email_valid(const char *s)
{
	static const char local_ok[] = "abcdefghijklmnopqrstuvwxyz"
				       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				       ".!#$%&'*+/=?^_`{|}~-";
	const char *at = strchr(s, '@'), *label, *tld = NULL;
	size_t local, n;

	if (!at || strchr(at + 1, '@'))
		return 0;
	local = (size_t)(at - s);
	if (local == 0 || local > 64 || strspn(s, local_ok) != local ||
	    s[0] == '.' || at[-1] == '.' || strstr(s, ".."))
		return 0;
	/* domain: labels of letters, digits and inner hyphens, two or more */
	for (label = at + 1;; label += n + 1) {
		n = strspn(label, "abcdefghijklmnopqrstuvwxyz"
				  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
		if (n == 0 || n > 63 || label[0] == '-' || label[n - 1] == '-')
			return 0;
		if (label[n] == '\0') {
			tld = label;
			break;
		}
		if (label[n] != '.')
			return 0;
	}
	return tld != at + 1 && strlen(tld) >= 2 &&
	       !isdigit((unsigned char)tld[0]);
}
