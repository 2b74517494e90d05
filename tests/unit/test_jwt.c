/* test_jwt.c - HS256 tokens, password rules and email syntax. */
#include <string.h>

#include <sodium.h>

#include "jwt.h"
#include "password.h"
#include "unit.h"

#define SECRET "unit-test-secret-unit-test-secret"
#define NOW 1700000000LL

/* Made with Python's hmac and base64 modules for the same claims. */
static const char known[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	"eyJzdWIiOiI0MiIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwfQ."
	"kcM77gvEQmjmzMCvFzAWUl-qt78EnwI6Gtl54p2a-0U";

static void test_sign_matches_an_independent_signer(void)
{
	char tok[JWT_MAX];

	CHECK_INT(jwt_sign(SECRET, 42, NOW, 3600, tok), SC_OK);
	CHECK_STR(tok, known);
}

static void test_verify_accepts_good_and_refuses_expired(void)
{
	long long sub = -1;
	const char *why = NULL;

	CHECK_INT(jwt_verify(SECRET, known, NOW + 10, &sub, &why), SC_OK);
	CHECK_INT(sub, 42);
	CHECK_INT(jwt_verify(SECRET, known, NOW + 3600, &sub, &why), SC_ERR_AUTH);
	CHECK_STR(why, "token expired");
	CHECK_INT(sub, 0);
	CHECK_INT(jwt_verify("another-secret-another-secret-xx", known, NOW, &sub,
			     &why), SC_ERR_AUTH);
	CHECK_STR(why, "bad signature");
}

static void test_verify_refuses_tampering(void)
{
	char tok[JWT_MAX];
	const char *why = NULL;
	long long sub;
	size_t i, n = strlen(known);

	/* change any one character: never accepted */
	for (i = 0; i < n; i++) {
		if (known[i] == '.')
			continue;
		memcpy(tok, known, n + 1);
		tok[i] = tok[i] == 'A' ? 'B' : 'A';
		CHECK(jwt_verify(SECRET, tok, NOW, &sub, &why) == SC_ERR_AUTH);
	}
}

static void test_verify_refuses_other_algorithms_and_shapes(void)
{
	const char *why = NULL;
	long long sub;
	/* {"alg":"none","typ":"JWT"} with the known claims, no signature */
	static const char none[] =
		"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0."
		"eyJzdWIiOiI0MiIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwfQ.";

	CHECK_INT(jwt_verify(SECRET, none, NOW, &sub, &why), SC_ERR_AUTH);
	CHECK_STR(why, "algorithm is not HS256");
	CHECK_INT(jwt_verify(SECRET, "", NOW, &sub, &why), SC_ERR_AUTH);
	CHECK_INT(jwt_verify(SECRET, "a.b", NOW, &sub, &why), SC_ERR_AUTH);
	CHECK_STR(why, "not a JWT");
	CHECK_INT(jwt_verify(SECRET, "a.b.c.d", NOW, &sub, &why), SC_ERR_AUTH);
	CHECK_INT(jwt_verify(SECRET, "!!.??.**", NOW, &sub, &why), SC_ERR_AUTH);
}

static void test_sign_rejects_nothing_it_makes(void)
{
	char tok[JWT_MAX];
	long long sub = 0;
	const char *why;

	CHECK_INT(jwt_sign(SECRET, 9223372036854775807LL, NOW, 60, tok), SC_OK);
	CHECK_INT(jwt_verify(SECRET, tok, NOW, &sub, &why), SC_OK);
	CHECK_INT(sub, 9223372036854775807LL);
}

static void test_password_rules_and_hashes(void)
{
	char hash[PASSWORD_HASH_MAX];

	CHECK(password_weakness("secret123") == NULL);
	CHECK_STR(password_weakness("short1"), "must be at least 8 characters");
	CHECK_STR(password_weakness("lettersonly"), "must contain a letter and a digit");
	CHECK_STR(password_weakness("12345678"), "must contain a letter and a digit");
	CHECK_INT(password_hash("secret123", 1, 8192, hash), SC_OK);
	CHECK(strncmp(hash, "$argon2id$", 10) == 0);
	CHECK(password_check(hash, "secret123"));
	CHECK(!password_check(hash, "secret124"));
	CHECK(!password_check("not a hash", "secret123"));
}

static void test_email_syntax(void)
{
	CHECK(email_valid("ana@example.com"));
	CHECK(email_valid("ana.diaz+anb@mail.example.co"));
	CHECK(!email_valid("ana"));
	CHECK(!email_valid("ana@"));
	CHECK(!email_valid("@example.com"));
	CHECK(!email_valid("ana@example"));
	CHECK(!email_valid("ana@@example.com"));
	CHECK(!email_valid("ana @example.com"));
	CHECK(!email_valid("ana@exa_mple.com"));
	CHECK(!email_valid("ana..diaz@example.com"));
	CHECK(!email_valid("ana@-example.com"));
	CHECK(!email_valid("ana@example.123"));
}

const struct unit_test test_jwt_suite[] = {
	UNIT_TEST(test_sign_matches_an_independent_signer),
	UNIT_TEST(test_verify_accepts_good_and_refuses_expired),
	UNIT_TEST(test_verify_refuses_tampering),
	UNIT_TEST(test_verify_refuses_other_algorithms_and_shapes),
	UNIT_TEST(test_sign_rejects_nothing_it_makes),
	UNIT_TEST(test_password_rules_and_hashes),
	UNIT_TEST(test_email_syntax),
	{ NULL, NULL },
};
