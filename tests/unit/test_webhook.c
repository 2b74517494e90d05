/*
 * test_webhook.c - the Standard Webhooks v1 signer and secrets.
 *
 * The known answer is the one every library of the Standard Webhooks
 * repository is tested with (github.com/standard-webhooks/standard-webhooks,
 * libraries/go/webhook_test.go TestWebhookSign, the same in
 * libraries/csharp/StandardWebhooks.Tests/WebhookTest.cs and
 * libraries/java/.../TestScenario.java); checked again with
 * `openssl dgst -sha256 -mac HMAC` over the same bytes.
 */
#include <string.h>

#include <sodium.h>

#include "unit.h"
#include "webhook.h"

#define KAT_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define KAT_MSG_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define KAT_TS 1614265330LL
#define KAT_BODY "{\"test\": 2432232314}"
#define KAT_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

static enum sc_err sign(const char *secret, const char *id, long long ts,
			const char *body, char out[WEBHOOK_SIGNATURE_MAX])
{
	return webhook_sign(secret, id, ts, body, strlen(body), out);
}

static void test_webhook_known_answer(void)
{
	char sig[WEBHOOK_SIGNATURE_MAX];

	CHECK_INT(sign(KAT_SECRET, KAT_MSG_ID, KAT_TS, KAT_BODY, sig), SC_OK);
	CHECK_STR(sig, KAT_SIG);
}

/* Every part of the signed content counts: id, timestamp, body, key. */
static void test_webhook_every_part_signed(void)
{
	char sig[WEBHOOK_SIGNATURE_MAX];

	CHECK_INT(sign(KAT_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJel", KAT_TS,
		       KAT_BODY, sig), SC_OK);
	CHECK(strcmp(sig, KAT_SIG) != 0);
	CHECK_INT(sign(KAT_SECRET, KAT_MSG_ID, KAT_TS + 1, KAT_BODY, sig), SC_OK);
	CHECK(strcmp(sig, KAT_SIG) != 0);
	CHECK_INT(sign(KAT_SECRET, KAT_MSG_ID, KAT_TS, "{\"test\":2432232314}",
		       sig), SC_OK);
	CHECK(strcmp(sig, KAT_SIG) != 0);
	CHECK_INT(sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx", KAT_MSG_ID,
		       KAT_TS, KAT_BODY, sig), SC_OK);
	CHECK(strcmp(sig, KAT_SIG) != 0);
	/* the whole body, NUL bytes included, and only len of it */
	CHECK_INT(webhook_sign(KAT_SECRET, KAT_MSG_ID, KAT_TS, KAT_BODY "xyz",
			       strlen(KAT_BODY), sig), SC_OK);
	CHECK_STR(sig, KAT_SIG);
	CHECK_INT(webhook_sign(KAT_SECRET, KAT_MSG_ID, KAT_TS, "", 0, sig), SC_OK);
	CHECK(strncmp(sig, "v1,", 3) == 0 && strlen(sig) == 47);
	CHECK_INT(webhook_sign(KAT_SECRET, KAT_MSG_ID, KAT_TS, NULL, 0, sig), SC_OK);
	CHECK(strncmp(sig, "v1,", 3) == 0 && strlen(sig) == 47);
}

static void test_webhook_bad_secret(void)
{
	static const char *const bad[] = {
		"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",		/* no prefix */
		"whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",	/* asymmetric */
		"WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"whsec_",					/* empty key */
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa!w",	/* not base64 */
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",	/* cut */
		"whsec_MfKQ9r8G KYqrTwjUPD8ILPZIo2LaLaSw",
		/* 66 bytes: past the spec's 64 */
		"whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"",
	};
	char sig[WEBHOOK_SIGNATURE_MAX];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(sig, "junk", 5);
		CHECK_INT(sign(bad[i], KAT_MSG_ID, KAT_TS, KAT_BODY, sig),
			  SC_ERR_INVALID);
		CHECK_STR(sig, "");
	}
	/* a 64-byte key, the longest allowed, is taken */
	CHECK_INT(sign("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", KAT_MSG_ID, KAT_TS,
		       KAT_BODY, sig), SC_OK);
}

/* The spec: a message id with a '.' would make the signed content ambiguous. */
static void test_webhook_bad_msg_id(void)
{
	char sig[WEBHOOK_SIGNATURE_MAX];

	CHECK_INT(sign(KAT_SECRET, "msg.1", KAT_TS, KAT_BODY, sig), SC_ERR_INVALID);
	CHECK_INT(sign(KAT_SECRET, "", KAT_TS, KAT_BODY, sig), SC_ERR_INVALID);
}

static void test_webhook_new_secret(void)
{
	char a[WEBHOOK_SECRET_MAX], b[WEBHOOK_SECRET_MAX];
	unsigned char key[WEBHOOK_KEY_MAX];
	char sig[WEBHOOK_SIGNATURE_MAX];
	size_t keylen = 0;

	webhook_new_secret(a);
	webhook_new_secret(b);
	CHECK(strncmp(a, "whsec_", 6) == 0);
	CHECK(strncmp(b, "whsec_", 6) == 0);
	CHECK_INT(strlen(a), 6 + 32);
	CHECK(strcmp(a, b) != 0);
	CHECK_INT(sodium_base642bin(key, sizeof(key), a + 6, strlen(a + 6), NULL,
				    &keylen, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	CHECK_INT(keylen, 24);
	/* and the signer takes it */
	CHECK_INT(sign(a, KAT_MSG_ID, KAT_TS, KAT_BODY, sig), SC_OK);
}

const struct unit_test test_webhook_suite[] = {
	UNIT_TEST(test_webhook_known_answer),
	UNIT_TEST(test_webhook_every_part_signed),
	UNIT_TEST(test_webhook_bad_secret),
	UNIT_TEST(test_webhook_bad_msg_id),
	UNIT_TEST(test_webhook_new_secret),
	{ NULL, NULL },
};
