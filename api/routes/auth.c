/*
 * routes/auth.c - accounts: sign up and log in.
 *
 * POST /api/auth/signup creates a user (emails unique whatever their
 * case, enforced by the database); POST /api/auth/login trades an email
 * and password for an HS256 token.  A login for an unknown email checks
 * the password against a dummy hash, so both failures take as long and
 * say the same thing.
 *
 * With API_LOCAL_ACCOUNTS=0 (players come from the identity provider
 * only: oidc/oidc.h) both answer 404, as routes that do not exist.
 *
 * Both are rate limited (rate_guard.h): signups per client address, failing
 * closed; logins per address and per account (the email asked for, as a
 * keyed hash), failing open, and an account's logins are locked for a
 * growing time after repeated failures (ratelimit.h).  The limits are
 * checked before the password is hashed, so a flood burns no argon2.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "input.h"
#include "jwt.h"
#include "log.h"
#include "password.h"
#include "rate_guard.h"

#define NAME_MAX_BYTES 100

/* API_LOCAL_ACCOUNTS=0: no such route. */
static enum MHD_Result no_local_accounts(struct request *req,
					struct MHD_Connection *conn)
{
	return http_send_error(req, conn, MHD_HTTP_NOT_FOUND, "not_found",
			       "local accounts are switched off: sign in with "
			       "the identity provider");
}

static enum MHD_Result post_signup(struct api *api, struct request *req,
				   struct MHD_Connection *conn)
{
	struct input in = { 0 };
	const char *first, *last, *email, *pw1, *pw2, *city, *country, *weak;
	char hash[PASSWORD_HASH_MAX], idbuf[24];
	struct deps *d;
	PGresult *res;
	enum sc_err rc;
	cJSON *body;

	if (!api->cfg.api_local_accounts)
		return no_local_accounts(req, conn);
	first = input_text(&in, req->json, "first_name", 1, NAME_MAX_BYTES);
	last = input_text(&in, req->json, "last_name", 1, NAME_MAX_BYTES);
	email = input_string(&in, req->json, "email", 3, 254);
	pw1 = input_string(&in, req->json, "password1", 1, PASSWORD_MAX);
	pw2 = input_string(&in, req->json, "password2", 1, PASSWORD_MAX);
	city = input_text(&in, req->json, "city", 1, NAME_MAX_BYTES);
	country = input_text(&in, req->json, "country", 1, NAME_MAX_BYTES);
	if (email && !email_valid(email))
		input_bad(&in, "email", "is not an email address");
	if (pw1 && (weak = password_weakness(pw1)))
		input_bad(&in, "password1", weak);
	if (pw1 && pw2 && strcmp(pw1, pw2))
		input_bad(&in, "password2", "does not match password1");
	if (input_failed(&in))
		return input_reply(&in, req, conn);

	if (!(d = deps_get(api)))
		return http_send_unavailable(req, conn, "the server", "out of memory");
	{
		const struct rl_check c[] = {
			{ RL_SIGNUP_IP, req->client.network },
		};

		if (limits_apply(api, req, d->redis, c, 1, "signups",
				 LIMITS_FAIL_CLOSED)) {
			deps_put(api, d);
			return http_send_recorded(req, conn);
		}
	}
	if (password_hash(pw1, api->cfg.api_argon2_ops, api->cfg.api_argon2_mem_kb,
			  hash)) {
		deps_put(api, d);
		return http_send_unavailable(req, conn, "password hashing",
					     "out of memory");
	}
	{
		const char *params[] = { email, hash, first, last, city, country };

		rc = db_exec_prepared(d->db,
			     "INSERT INTO users (email, password_hash, first_name, "
			     "last_name, city, country) VALUES ($1, $2, $3, $4, $5, $6) "
			     "RETURNING id",
			     6, params, &res);
	}
	if (rc == SC_ERR_CONFLICT) {
		deps_put(api, d);
		return http_send_error(req, conn, MHD_HTTP_BAD_REQUEST,
				       "email_taken",
				       "an account with this email exists already");
	}
	if (rc)
		return http_send_db_unavailable(api, req, conn, d);
	deps_put(api, d);
	snprintf(idbuf, sizeof(idbuf), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	atomic_fetch_add(&api->m.signups, 1);
	log_info("user %s signed up", idbuf);
	body = cJSON_CreateObject();
	if (body && (!cJSON_AddStringToObject(body, "message", "account created") ||
		     !cJSON_AddNumberToObject(body, "user_id", atof(idbuf)))) {
		cJSON_Delete(body);
		body = NULL;
	}
	return http_send_json(req, conn, MHD_HTTP_CREATED, body);
}

/* Check pw against nothing, at the cost of a real check: the dummy hash
 * is made by the first caller that needs it. */
static void check_against_nothing(struct api *api, const char *pw)
{
	pthread_mutex_lock(&api->lock);
	if (!api->argon2_dummy[0] &&
	    password_hash("no such user", api->cfg.api_argon2_ops,
			  api->cfg.api_argon2_mem_kb, api->argon2_dummy))
		log_error("cannot make the dummy password hash: out of memory");
	pthread_mutex_unlock(&api->lock);
	password_check(api->argon2_dummy, pw);
}

/* Whose logins these are, for the limits: the email, lower-cased, as a
 * keyed hash (no email is kept in Redis). */
static void account_of(struct api *api, const char *email,
		       char out[FINGERPRINT_HEX])
{
	char lower[256];
	size_t i;

	for (i = 0; email[i] && i < sizeof(lower) - 1; i++)
		lower[i] = (char)tolower((unsigned char)email[i]);
	lower[i] = '\0';
	fingerprint(&api->audit_key, "email", lower, i, out);
}

/* A login's outcome, for the account's lock. */
static void login_counted(struct api *api, struct deps *d, const char *account,
			  int ok)
{
	long lock_ms = 0;

	if (ok ? ratelimit_login_ok(&api->limits, d->redis, account)
	       : ratelimit_login_failed(&api->limits, d->redis, account, &lock_ms))
		log_warn("login %s not counted: %s", ok ? "success" : "failure",
			 redisconn_errstr(d->redis));
	else if (lock_ms)
		log_info("failed login: the account's logins are locked for "
			 "%ld ms", lock_ms);
}

static enum MHD_Result post_login(struct api *api, struct request *req,
				  struct MHD_Connection *conn)
{
	struct input in = { 0 };
	const char *email, *pw;
	char token[JWT_MAX], account[FINGERPRINT_HEX];
	long long id = 0;
	struct deps *d;
	PGresult *res;
	enum sc_err rc;
	int ok;
	cJSON *body;

	if (!api->cfg.api_local_accounts)
		return no_local_accounts(req, conn);
	email = input_string(&in, req->json, "email", 1, 254);
	pw = input_string(&in, req->json, "password", 1, PASSWORD_MAX);
	if (input_failed(&in))
		return input_reply(&in, req, conn);
	account_of(api, email, account);
	if (!(d = deps_get(api)))
		return http_send_unavailable(req, conn, "the server", "out of memory");
	{
		const struct rl_check c[] = {
			{ RL_LOGIN_IP, req->client.network },
			{ RL_LOGIN_ACCOUNT, account },
			{ RL_LOGIN_FAILURES, account },
		};

		if (limits_apply(api, req, d->redis, c, 3, "logins",
				 LIMITS_FAIL_OPEN)) {
			deps_put(api, d);
			return http_send_recorded(req, conn);
		}
	}
	{
		const char *params[] = { email };

		rc = db_exec_prepared(d->db,
			     "SELECT id, password_hash FROM users "
			     "WHERE lower(email) = lower($1) AND oidc_sub IS NULL",
			     1, params, &res);
	}
	if (rc)
		return http_send_db_unavailable(api, req, conn, d);
	if (PQntuples(res) == 1) {
		ok = password_check(PQgetvalue(res, 0, 1), pw);
		id = atoll(PQgetvalue(res, 0, 0));
	} else {
		check_against_nothing(api, pw);
		ok = 0;
	}
	PQclear(res);
	login_counted(api, d, account, ok);
	deps_put(api, d);
	if (!ok) {
		atomic_fetch_add(&api->m.logins_failed, 1);
		return http_send_error(req, conn, MHD_HTTP_UNAUTHORIZED,
				       "invalid_credentials",
				       "wrong email or password");
	}
	if (jwt_sign(api->cfg.jwt_secret, id, (long long)time(NULL),
		     api->cfg.jwt_ttl_s, token))
		return http_send_error(req, conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				       "internal", "cannot make a token");
	body = cJSON_CreateObject();
	if (body && (!cJSON_AddStringToObject(body, "access_token", token) ||
		     !cJSON_AddStringToObject(body, "token_type", "Bearer") ||
		     !cJSON_AddNumberToObject(body, "expires_in", api->cfg.jwt_ttl_s))) {
		cJSON_Delete(body);
		body = NULL;
	}
	return http_send_json(req, conn, MHD_HTTP_OK, body);
}

const struct route route_auth[] = {
	/* argon2id and one statement: the hashing pool (see http.h) */
	{ "POST", "/api/auth/signup", post_signup, R_JSON | R_CPU, NULL },
	{ "POST", "/api/auth/login", post_login, R_JSON | R_CPU, NULL },
	{ NULL, NULL, NULL, 0, NULL },
};
