/*
 * jwt.h - HS256 JSON Web Tokens (RFC 7519) for login sessions.
 *
 * A token says who (sub: the user id) and until when (exp).  Only HS256
 * is accepted: the header's alg must be exactly "HS256", so "none" and
 * every other algorithm are refused before the signature is looked at.
 * The signature is compared in constant time.
 */
#ifndef SC_JWT_H
#define SC_JWT_H

#include <stddef.h>

#include "error.h"

/* The longest token jwt_sign() makes, NUL included. */
#define JWT_MAX 512

/*
 * Sign a token for user id `sub` valid from `now` for ttl_s seconds
 * into out (JWT_MAX bytes).  SC_ERR_INVALID if the result would not fit.
 */
enum sc_err jwt_sign(const char *secret, long long sub, long long now,
		     long ttl_s, char *out);

/*
 * Check token against secret at time now.  On SC_OK *sub is the user id.
 * SC_ERR_AUTH for a token that is malformed, not HS256, badly signed,
 * expired, or without a positive integer sub; *why then says which.
 */
enum sc_err jwt_verify(const char *secret, const char *token, long long now,
		       long long *sub, const char **why);

#endif
