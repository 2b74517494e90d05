#!/usr/bin/env bash
# Sign-in with an identity provider against real PostgreSQL, Redis and S3:
# tokens this test signs itself (jwcrypto) with keys it serves as the
# issuer's JWKS (tools/oidc_issuer.py), then a real local provider from
# npm (oauth2-mock-server, tools/mock_idp.mjs).  RS256 and ES256 tokens
# reach the API, their player is made once, a new key is picked up
# without a restart, every kind of bad token is refused with 401, cached
# keys serve while the issuer is down, and API_LOCAL_ACCOUNTS=0 turns
# signup, login and local tokens off.
# jq filters in single quotes name jq's variables ($aud), not the shell's:
# shellcheck disable=SC2016
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

TOOLS="$IT_TOP/tests/integration/tools"
CTL="$BIN_DIR/showcasectl"
PY=/usr/bin/python3
AUD=showcase-app

it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"
export API_RATE_LIMITS=0 API_ARGON2_OPS=1 API_ARGON2_MEM_KB=8192

KEYS="$IT_DIR/keys"
mkdir -p "$KEYS"
keys() { "$PY" "$TOOLS/oidc_tokens.py" "$@"; }
{ keys key "$KEYS" rsa1 rsa && keys key "$KEYS" ec1 ec; } || it_fail "keys"
keys jwks "$KEYS" rsa1 ec1 >"$IT_DIR/jwks.json"
: >"$IT_DIR/jwks.hits"
IPORT=$(sc_free_port)
ISS="http://127.0.0.1:$IPORT"
start_issuer() {
    sc_daemon issuer "$IT_DIR" "$IT_DIR/issuer.log" "$PY" "$TOOLS/oidc_issuer.py" "$IPORT" \
        "$IT_DIR/jwks.json" "$IT_DIR/jwks.hits"
    sc_wait_for curl -sf -o /dev/null "$ISS/.well-known/openid-configuration" ||
        it_fail "the issuer did not start"
}
start_issuer

export API_OIDC_ISSUER=$ISS API_OIDC_AUDIENCE=$AUD
it_start_api api
API="http://127.0.0.1:$IT_API_PORT"
MAIN_API=$API

# shellcheck source=tests/integration/api_client.sh
. "$(dirname "$0")/api_client.sh"

# --- helpers -------------------------------------------------------------

now() { date +%s; }
# claims SUB [JQ]: good claims for SUB, changed by the jq filter
claims() {
    jq -cn --arg iss "$ISS" --arg aud "$AUD" --arg sub "$1" --argjson now "$(now)" \
        '{iss:$iss, aud:$aud, sub:$sub, iat:$now, exp:($now + 300),
          email:($sub + "@example.org"), given_name:"Ada", family_name:"Ng"} | '"${2:-.}"
}
# sign KID SUB [JQ]: a token of key KID (the filter sees $aud, $iss, $now)
sign() { keys sign "$KEYS" "$1" "$(claims "$2" "${3:-.}")"; }
# get_as TOKEN [PATH]: the status of GET PATH (default /api/videos)
get_as() { status_of "$(call GET "${2:-/api/videos}" -H "Authorization: Bearer $1")"; }
players() { it_psql -c "SELECT count(*) FROM users WHERE oidc_sub = '$1'"; }
hits() { wc -l <"$IT_DIR/jwks.hits"; }
refused_sql() { ! it_psql -c "$1" >/dev/null 2>&1; }
made() { curl -s "$API/metrics" | sed -n 's/^showcase_api_oidc_players_made_total //p'; }
# api_with NAME ENV=VALUE...: another API instance with those settings
# (API set to it; tests set it back to MAIN_API)
api_with() {
    local name=$1
    shift
    # shellcheck disable=SC2163  # exports each NAME=VALUE argument
    (export "$@" && it_start_api "$name" && echo "$IT_API_PORT" >"$IT_DIR/$name.port")
    API="http://127.0.0.1:$(cat "$IT_DIR/$name.port" 2>/dev/null)"
}

# --- tokens this test signs ---------------------------------------------

test_rs256_and_es256_tokens_reach_the_videos() {
    local out
    check_eq "RS256" "$(get_as "$(sign rsa1 alice)")" 200
    check_eq "ES256" "$(get_as "$(sign ec1 alice)")" 200
    check_eq "one player for alice" "$(players alice)" 1
    out=$(call GET /api/me -H "Authorization: Bearer $(sign ec1 alice)")
    check_eq "GET /api/me" "$(status_of "$out")" 200
    check_eq "provider" "$(field "$out" .provider)" oidc
    check_eq "email from the token" "$(field "$out" .email)" alice@example.org
    check_eq "name from the token" "$(field "$out" '.first_name + " " + .last_name')" "Ada Ng"
    check_eq "no city yet" "$(field "$out" .city)" null
}

test_the_first_requests_make_the_player_once() {
    local tok i pids=() made_before
    made_before=$(made)
    tok=$(sign rsa1 bob)
    for i in 1 2 3 4 5 6; do
        get_as "$tok" >"$IT_DIR/bob.$i" &
        pids+=($!)
    done
    wait "${pids[@]}"
    check_eq "six answers 200" "$(cat "$IT_DIR"/bob.* | sort | uniq -c | tr -s ' ')" " 6 200"
    check_eq "one player for bob" "$(players bob)" 1
    check_eq "still one after more" "$(get_as "$tok")$(players bob)" 2001
    check_eq "counted once" "$(made)" $((made_before + 1))
}

test_a_first_request_that_uploads() {
    local out
    ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=320x180:r=10:d=1 -c:v libx264 -preset ultrafast \
        "$IT_DIR/clip.mp4" || it_fail "fixture"
    # the player is made while the connection waits at its headers; the
    # body streams once it is known
    out=$(upload "$(sign ec1 uma)" "$IT_DIR/clip.mp4" "first of uma")
    check_eq "upload status" "$(status_of "$out")" 201
    check_eq "the video is uma's" "$(it_psql -c "SELECT u.oidc_sub FROM videos v JOIN users u ON u.id = v.user_id
        WHERE v.title = 'first of uma'")" uma
    out=$(call PUT /api/me -H "Authorization: Bearer $(sign rsa1 vera)" -H 'Content-Type: application/json' \
        --data-binary '{"country":"PE"}')
    check_eq "a first request with a JSON body" "$(field "$out" .country)" PE
}

# The issuer vouches for the token, not for the shape of its claims: one
# the users table cannot hold is left out, and the player is still made.
test_odd_claims_still_make_the_player() {
    local out
    out=$(call GET /api/me -H "Authorization: Bearer $(sign rsa1 odd1 '.email = "ab"')")
    check_eq "a two-letter email" "$(status_of "$out")" 200
    check_eq "... is left out" "$(field "$out" .email)" null
    out=$(call GET /api/me -H "Authorization: Bearer $(sign rsa1 odd2 '.email = "\u00e9\u00e9"')")
    check_eq "an email of two characters in four bytes" "$(status_of "$out")" 200
    out=$(call GET /api/me -H "Authorization: Bearer $(sign rsa1 odd3 'del(.email)')")
    check_eq "no email" "$(status_of "$out"),$(field "$out" .email)" 200,null
    out=$(call GET /api/me -H "Authorization: Bearer $(sign rsa1 odd4 '.email = "a@b"')")
    check_eq "a three-letter email is kept" "$(field "$out" .email)" a@b
}

test_put_me_sets_city_and_country() {
    local tok out
    tok=$(sign rsa1 carol)
    out=$(call PUT /api/me -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        --data-binary '{"city":"Cali","country":"CO"}')
    check_eq "PUT status" "$(status_of "$out")" 200
    check_eq "city and country" "$(field "$out" '.city + "/" + .country')" Cali/CO
    out=$(call GET /api/me -H "Authorization: Bearer $tok")
    check_eq "kept" "$(field "$out" '.city + "/" + .country + "/" + .first_name')" Cali/CO/Ada
    check_eq "in the database" "$(it_psql -c "SELECT city FROM users WHERE oidc_sub = 'carol'")" Cali
    out=$(call PUT /api/me -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        --data-binary '{"city":""}')
    check_eq "empty city" "$(status_of "$out")" 400
    check_eq "empty city's field" "$(field "$out" '.fields | keys[0]')" city
    out=$(call PUT /api/me -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        --data-binary '{"city":"  \t"}')
    check_eq "blank city" "$(status_of "$out")" 400
    check_eq "blank city's reason" "$(field "$out" .fields.city)" "must not be blank"
    out=$(call PUT /api/me -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        --data-binary '{"city":null}')
    check_eq "null city" "$(status_of "$out")" 400
    check_eq "null city's reason" "$(field "$out" .fields.city)" "cannot be removed: leave it out to keep it"
    check_eq "still Cali" "$(it_psql -c "SELECT city FROM users WHERE oidc_sub = 'carol'")" Cali
    out=$(call PUT /api/me -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
        --data-binary '{}')
    check_eq "nothing to change" "$(status_of "$out")" 400
    check_eq "without a token" "$(status_of "$(call PUT /api/me -H 'Content-Type: application/json' \
        --data-binary '{"city":"Cali"}')")" 401
}

test_bad_tokens_are_refused_with_401() {
    local n tok out
    n=$(now)
    check_eq "expired" "$(get_as "$(sign rsa1 dave ".exp = $n - 120")")" 401
    check_eq "expired within the leeway" "$(get_as "$(sign rsa1 dave ".exp = $n - 10")")" 200
    check_eq "not yet valid (nbf)" "$(get_as "$(sign rsa1 dave ".nbf = $n + 600")")" 401
    check_eq "no expiry" "$(get_as "$(sign rsa1 dave 'del(.exp)')")" 401
    check_eq "wrong issuer" "$(get_as "$(sign rsa1 dave '.iss = "https://evil.example.org"')")" 401
    check_eq "wrong audience" "$(get_as "$(sign ec1 dave '.aud = "another-app"')")" 401
    check_eq "audience in a list" "$(get_as "$(sign ec1 dave '.aud = ["x", $aud]')")" 200
    check_eq "no subject" "$(get_as "$(sign ec1 dave 'del(.sub)')")" 401
    out=$(call GET /api/videos -H "Authorization: Bearer $(keys none "$(claims dave)")")
    check_eq "alg none" "$(status_of "$out")" 401
    out=$(call GET /api/videos -H "Authorization: Bearer $(keys hs256-pub "$KEYS" rsa1 "$(claims dave)")")
    check_eq "HS256 with the RSA public key" "$(status_of "$out")" 401
    tok=$(sign rsa1 dave)
    check_eq "signature of another token" \
        "$(get_as "${tok%.*}.$(sign rsa1 eve | cut -d. -f3)")" 401
    # signed by the EC key, its header naming the RSA key and ES256:
    # the key named decides the algorithm, not the header
    out=$(call GET /api/videos -H "Authorization: Bearer $(keys sign "$KEYS" ec1 "$(claims dave)" rsa1)")
    check_eq "ES256 under the RSA key's kid" "$(status_of "$out")" 401
    check_contains "... because of the algorithm" "$out" "algorithm is not its key"
    check_contains "the reason is said" "$(call GET /api/videos -H "Authorization: Bearer $(sign rsa1 dave '.aud = "x"')")" "audience"
    check_eq "none of them made a player but dave" "$(it_psql -c "SELECT count(*) FROM users WHERE oidc_sub = 'eve'")" 0
}

test_cognito_tokens_id_and_access() {
    check_eq "access token (client_id, token_use)" \
        "$(get_as "$(sign rsa1 frank 'del(.aud) | .token_use = "access" | .client_id = $aud')")" 200
    check_eq "access token of another client" \
        "$(get_as "$(sign rsa1 frank 'del(.aud) | .token_use = "access" | .client_id = "other"')")" 401
    check_eq "access token with aud but no client_id" \
        "$(get_as "$(sign rsa1 frank '.token_use = "access"')")" 401
    check_eq "ID token" "$(get_as "$(sign rsa1 frank '.token_use = "id"')")" 200
    check_eq "another token_use" "$(get_as "$(sign rsa1 frank '.token_use = "refresh"')")" 401
    check_eq "one player for frank" "$(players frank)" 1
}

test_a_new_key_is_picked_up_without_restart() {
    local before
    { keys key "$KEYS" rsa2 rsa && keys key "$KEYS" ec2 ec; } || it_fail "keys"
    keys jwks "$KEYS" rsa2 ec1 >"$IT_DIR/jwks.json.new" && mv "$IT_DIR/jwks.json.new" "$IT_DIR/jwks.json"
    before=$(hits)
    check_eq "a token of the new key" "$(get_as "$(sign rsa2 grace)")" 200
    check_eq "the set was fetched once more" "$(hits)" $((before + 1))
    check_eq "the old key left the set" "$(get_as "$(sign rsa1 grace)")" 401
    # another unknown kid within the minute: no fetch, refused
    keys jwks "$KEYS" rsa2 ec1 ec2 >"$IT_DIR/jwks.json.new" && mv "$IT_DIR/jwks.json.new" "$IT_DIR/jwks.json"
    check_eq "a second new kid within a minute" "$(get_as "$(sign ec2 grace)")" 401
    check_eq "... fetched nothing" "$(hits)" $((before + 1))
}

test_cached_keys_serve_while_the_issuer_is_down() {
    local out
    # an instance that refreshes every second
    api_with api_down API_OIDC_JWKS_REFRESH_S=1
    keys key "$KEYS" ec3 ec || it_fail "keys"
    check_eq "before" "$(get_as "$(sign rsa2 heidi)")" 200
    sc_stop_pidfile "$IT_DIR/issuer.pid" 5
    SC_WAIT=10 sc_wait_for grep -q "cannot refresh the identity provider's keys" "$IT_DIR/api_down.log" ||
        it_fail "no failed refresh logged"
    check_contains "a failed fetch counted" "$(curl -s "$API/metrics")" \
        'showcase_api_oidc_key_fetches_total{result="failed"} '
    check "... more than none" bash -c "curl -s '$API/metrics' | grep -q 'oidc_key_fetches_total{result=\"failed\"} [1-9]'"
    check_eq "cached key, known player" "$(get_as "$(sign rsa2 heidi)")" 200
    check_eq "cached key, new player" "$(get_as "$(sign ec1 ivan)")" 200
    out=$(call GET /api/videos -H "Authorization: Bearer $(sign ec3 ivan)")
    check_eq "unknown kid, issuer down" "$(status_of "$out")" 503
    check_contains "the reason" "$out" "keys cannot be fetched"
    API=$MAIN_API
    start_issuer
}

# A discovery document may not send the keys' fetch over plain http off
# loopback, as API_OIDC_JWKS_URL may not (127.0.0.2 is on loopback, so no
# traffic leaves the machine either way, but it is not a name the rule
# allows: the refusal is the rule's, seen in the log).
test_a_discovered_plain_http_key_set_is_refused() {
    local port out
    port=$(sc_free_port)
    OIDC_JWKS_URI="http://127.0.0.2:$IPORT/jwks.json" sc_daemon issuer2 "$IT_DIR" "$IT_DIR/issuer2.log" \
        "$PY" "$TOOLS/oidc_issuer.py" "$port" "$IT_DIR/jwks.json" "$IT_DIR/jwks2.hits"
    sc_wait_for curl -sf -o /dev/null "http://127.0.0.1:$port/.well-known/openid-configuration" ||
        it_fail "the second issuer did not start"
    api_with api_plain API_OIDC_ISSUER="http://127.0.0.1:$port"
    out=$(call GET /api/videos -H "Authorization: Bearer $(keys sign "$KEYS" rsa1 \
        "$(claims mallory ".iss = \"http://127.0.0.1:$port\"")")")
    check "no keys, no entry ($(status_of "$out"))" test "$(status_of "$out")" -ge 401
    check_contains "the log says why" "$(cat "$IT_DIR/api_plain.log")" \
        "jwks_uri http://127.0.0.2:$IPORT/jwks.json must be empty or an https:// URL"
    sc_stop_pidfile "$IT_DIR/api_plain.pid" 5
    sc_stop_pidfile "$IT_DIR/issuer2.pid" 5
    API=$MAIN_API
}

test_local_tokens_still_work() {
    local tok
    check_eq "signup" "$(status_of "$(signup local@example.com)")" 201
    tok=$(token local@example.com)
    check "a local token" test "$tok" != null
    check_eq "local token" "$(get_as "$tok")" 200
    check_eq "local profile" "$(field "$(call GET /api/me -H "Authorization: Bearer $tok")" .provider)" local
    LOCAL_TOKEN=$tok
}

test_the_schema_keeps_the_two_kinds_apart() {
    refused_sql "INSERT INTO users (oidc_issuer, oidc_sub, password_hash, first_name, last_name)
         VALUES ('$ISS', 'zed', 'x', 'Z', '')" ||
        it_fail "an issuer's player with a password: accepted"
    refused_sql "INSERT INTO users (oidc_sub, first_name, last_name) VALUES ('zed', 'Z', '')" ||
        it_fail "a sub without its issuer: accepted"
    refused_sql "INSERT INTO users (email, password_hash, first_name, last_name, country)
         VALUES ('zed@example.org', 'x', 'Z', 'Y', 'CO')" ||
        it_fail "a local account without a city: accepted"
    refused_sql "INSERT INTO users (email, password_hash, first_name, last_name, city, country)
         VALUES ('zed@example.org', 'x', 'Z', '', 'Cali', 'CO')" ||
        it_fail "a local account with an empty last name: accepted"
    it_psql -c "INSERT INTO users (oidc_issuer, oidc_sub, first_name, last_name)
                VALUES ('$ISS', 'yan', 'Y', '')" >/dev/null
    refused_sql "INSERT INTO users (oidc_issuer, oidc_sub, first_name, last_name) VALUES ('$ISS', 'yan', 'A', '')" ||
        it_fail "the same sub twice: accepted"
    check "an issuer's player may share a local account's email" it_psql -c \
        "INSERT INTO users (oidc_issuer, oidc_sub, email, first_name, last_name)
         VALUES ('$ISS', 'zed', 'local@example.com', 'Z', '')"
    check_eq "... and the local account still logs in" "$(get_as "$(token local@example.com)")" 200
}

test_postgresql_down_is_503_not_401() {
    local out
    sc_pg_stop "$IT_DIR/postgres"
    out=$(call GET /api/me -H "Authorization: Bearer $(sign ec1 walt)")
    check_eq "a new player while PostgreSQL is down" "$(status_of "$out")" 503
    check_contains "why" "$out" "the player cannot be looked up"
    check_contains "PostgreSQL's reason logged" "$(tail -n 20 "$IT_DIR/api.log")" \
        "cannot find or make the player of an identity provider's token"
    SC_PG_OPTS="-c fsync=off" sc_pg_start "$IT_DIR/postgres" "$IT_PG_PORT"
    check_eq "made once it is back" "$(get_as "$(sign ec1 walt)")" 200
}

# --- a real identity provider from npm -----------------------------------

test_oauth2_mock_server_tokens() {
    local port out access id
    port=$(sc_free_port)
    sc_daemon idp "$IT_DIR" "$IT_DIR/idp.log" node "$TOOLS/mock_idp.mjs" "$port" "$AUD"
    sc_wait_for curl -sf -o /dev/null "http://127.0.0.1:$port/.well-known/openid-configuration" ||
        { it_fail "oauth2-mock-server did not start: $(cat "$IT_DIR/idp.log")"; return; }
    # its discovery document gives the key set (no API_OIDC_JWKS_URL)
    api_with api_idp API_OIDC_ISSUER="http://127.0.0.1:$port"
    out=$(curl -s -d grant_type=password -d username=judy -d client_id=$AUD "http://127.0.0.1:$port/token")
    access=$(jq -r .access_token <<<"$out")
    id=$(jq -r .id_token <<<"$out")
    check_eq "the access token is RS256" "$(cut -d. -f1 <<<"$access" | basenc -d --base64url 2>/dev/null | jq -r .alg)" RS256
    check_eq "the ID token is ES256" "$(cut -d. -f1 <<<"$id" | basenc -d --base64url 2>/dev/null | jq -r .alg)" ES256
    check_eq "RS256 reaches the videos" "$(get_as "$access")" 200
    check_eq "ES256 reaches the videos" "$(get_as "$id")" 200
    check_eq "one player" "$(players 'mock|judy')" 1
    check_eq "its email" "$(field "$(call GET /api/me -H "Authorization: Bearer $id")" .email)" judy@example.org
    check_eq "a token of the other issuer" "$(get_as "$(sign rsa2 judy)")" 401
    API=$MAIN_API
}

# --- API_LOCAL_ACCOUNTS=0 -----------------------------------------------

test_local_accounts_off() {
    local out
    api_with api_nolocal API_LOCAL_ACCOUNTS=0
    out=$(signup off@example.com)
    check_eq "signup" "$(status_of "$out")" 404
    out=$(post_json /api/auth/login '{"email":"local@example.com","password":"secret123"}')
    check_eq "login" "$(status_of "$out")" 404
    check "a local token from before" test -n "${LOCAL_TOKEN:-}"
    out=$(call GET /api/videos -H "Authorization: Bearer ${LOCAL_TOKEN:-x}")
    check_eq "a local token" "$(status_of "$out")" 401
    check_contains "why" "$out" "only the identity provider"
    check_eq "an issuer's token" "$(get_as "$(sign rsa2 ken)")" 200
    # a token the issuer's checks cannot read says why, not "only the
    # identity provider's" as if it were a local one
    out=$(call GET /api/videos -H "Authorization: Bearer $(sign rsa2 ken ".pad = \"$(head -c 9000 /dev/zero | tr '\0' x)\"")")
    check_eq "a token too long" "$(status_of "$out")" 401
    check_contains "... says so" "$out" "token too long"
    check_contains "not a JWT says so" "$(call GET /api/videos -H "Authorization: Bearer abc")" "not a JWT"
    API=$MAIN_API
}

test_bad_settings_are_refused_at_start() {
    local out
    out=$(API_LOCAL_ACCOUNTS=0 API_OIDC_ISSUER='' API_OIDC_AUDIENCE='' timeout 5 "$BIN_DIR/showcase-api" 2>&1)
    check_eq "no issuer, no local accounts: exit" "$?" 2
    check_contains "why" "$out" "API_LOCAL_ACCOUNTS=0 needs API_OIDC_ISSUER"
    out=$(API_OIDC_AUDIENCE='' timeout 5 "$BIN_DIR/showcase-api" 2>&1)
    check_contains "issuer without audience" "$out" "API_OIDC_AUDIENCE: required"
    out=$(API_OIDC_ISSUER=http://idp.example.org timeout 5 "$BIN_DIR/showcase-api" 2>&1)
    check_contains "plain http off loopback" "$out" "http:// only on loopback"
}

it_main
