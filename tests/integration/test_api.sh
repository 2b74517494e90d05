#!/usr/bin/env bash
# The HTTP API against real PostgreSQL, Redis, the S3 server and a worker:
# the contract end to end, then hostile and broken requests, each with
# the contract's error and never a 5xx.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

CTL="$BIN_DIR/showcasectl"

it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"
# quick jobs: short clips accepted, no cards
export POLICY_MIN_SECONDS=0 POLICY_MIN_SHORT_SIDE=0 TRANSCODE_CARD_MS=0
export WORKER_METRICS_PORT=0 WORKER_TMP_DIR="$IT_DIR" WORKER_RECONCILE_S=5
if grep -q __asan_init "$BIN_DIR/showcase-transcode"; then export WORKER_MEMORY_MB=0; fi
export API_CORS_ORIGINS=https://portal.example.org API_BODY_TIMEOUT_S=3
# cheap hashes: the tests log in often (the cost is benchmarked instead)
export API_ARGON2_OPS=1 API_ARGON2_MEM_KB=8192
# these tests sign up and log in far more often from one address than a
# contest allows; test_limits.sh tests the limits, and the Postman
# collection below runs under the defaults
export API_RATE_LIMITS=0
it_start_api api
API="http://127.0.0.1:$IT_API_PORT"
FX="$IT_DIR/fx"
mkdir -p "$FX"

# --- helpers -------------------------------------------------------------

# shellcheck source=tests/integration/api_client.sh
. "$(dirname "$0")/api_client.sh"

# no_5xx [LOG]: none in the API's access log (default api.log)
no_5xx() {
    check_eq "no 5xx in the access log" \
        "$(grep -c '"msg":"[A-Z]* [^ ]* 5[0-9][0-9] ' "$IT_DIR/${1:-api.log}")" 0
}

ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=640x360:r=15:d=2 -f lavfi -i sine=d=2 \
    -c:v libx264 -preset ultrafast -c:a aac -shortest "$FX/clip.mp4" || it_fail "fixture"

# --- the contract, end to end -------------------------------------------

test_signup_login_upload_process_watch_vote_rank() {
    local out tok id url voter
    out=$(signup player@example.com Medellin)
    check_eq "signup status" "$(status_of "$out")" 201
    check "signup message" test -n "$(field "$out" .message)"
    out=$(post_json /api/auth/login '{"email":"Player@Example.com","password":"secret123"}')
    check_eq "login status (email in any case)" "$(status_of "$out")" 200
    check_eq "token type" "$(field "$out" .token_type)" Bearer
    check_eq "expires_in" "$(field "$out" .expires_in)" 3600
    tok=$(field "$out" .access_token)

    out=$(upload "$tok" "$FX/clip.mp4" "Crossover drill" -F is_public=true)
    check_eq "upload status" "$(status_of "$out")" 201
    id=$(field "$out" .video_id)
    check_eq "task id" "$(field "$out" .task_id)" "$id"
    check_eq "row uploaded" "$(it_psql -c "SELECT status || ' ' || original_key FROM videos WHERE id = '$id'")" \
        "uploaded originals/$id/source.mp4"
    check_eq "queued" "$(redis-cli -p "$IT_REDIS_PORT" LRANGE 'showcase:{q}:pending' 0 -1)" "$id"
    check "original in S3" "$CTL" s3 head "originals/$id/source.mp4"
    check "same bytes in S3" bash -c "'$CTL' s3 get originals/$id/source.mp4 '$FX/back.mp4' && cmp -s '$FX/back.mp4' '$FX/clip.mp4'"

    out=$(call GET /api/videos -H "Authorization: Bearer $tok")
    check_eq "list status" "$(status_of "$out")" 200
    check_eq "listed" "$(field "$out" '.[0].video_id + " " + .[0].title')" "$id Crossover drill"

    sc_daemon worker "$IT_DIR" "$IT_DIR/worker.log" "$BIN_DIR/showcase-worker"
    check_eq "processed" "$(wait_processed "$tok" "$id" 120)" processed
    out=$(call GET "/api/videos/$id" -H "Authorization: Bearer $tok")
    check_eq "detail status" "$(status_of "$out")" 200
    check_eq "progress" "$(field "$out" .progress)" 100
    check "processed_at" test "$(field "$out" .processed_at)" != null
    url=$(field "$out" .processed_url)
    check_contains "presigned" "$url" "X-Amz-Signature="
    check_eq "a Range request on the presigned URL" \
        "$(curl -s -o "$FX/head.bin" -w '%{http_code}' -r 0-1023 "$url")" 206
    check_eq "the range's length" "$(stat -c %s "$FX/head.bin")" 1024
    curl -s -o "$FX/out.mp4" "$url"
    check_eq "1280x720 video" "$(ffprobe -v error -select_streams v -show_entries stream=width,height -of csv=p=0 "$FX/out.mp4")" "1280,720"
    check_eq "no audio" "$(ffprobe -v error -select_streams a -show_entries stream=index -of csv=p=0 "$FX/out.mp4")" ""
    check_eq "poster" "$(curl -s -o /dev/null -w '%{http_code}' "$(field "$out" .poster_url)")" 200

    out=$(call GET /api/public/videos)
    check_eq "public list" "$(field "$out" '.[0].video_id + " " + .[0].city')" "$id Medellin"
    signup voter@example.com >/dev/null
    voter=$(token voter@example.com)
    out=$(call GET /api/public/rankings)
    check_eq "ranking before the vote" "$(field "$out" '.[0].votes')" 0
    out=$(call POST "/api/public/videos/$id/vote" -H "Authorization: Bearer $voter")
    check_eq "vote" "$(status_of "$out")" 200
    out=$(call GET "/api/public/rankings?city=medellin")
    check_eq "ranking shows the vote" "$(field "$out" '.[0] | "\(.position) \(.username) \(.city) \(.votes)"')" \
        "1 Ana Diaz Medellin 1"
    check_eq "other city" "$(field "$(call GET '/api/public/rankings?city=Cali')" length)" 0
    out=$(call POST "/api/public/videos/$id/vote" -H "Authorization: Bearer $voter")
    check_eq "second vote" "$(status_of "$out")" 400
    check_eq "second vote error" "$(field "$out" .error)" already_voted
    check_eq "one vote stored" "$(it_psql -c "SELECT count(*) FROM votes")" 1
    out=$(call DELETE "/api/videos/$id" -H "Authorization: Bearer $tok")
    check_eq "public and processed: not deleted" "$(status_of "$out")" 400
    check_eq "its error" "$(field "$out" .error)" published
    echo "$id" >"$IT_DIR/public_id"
    no_5xx
}

# --- accounts -----------------------------------------------------------

test_signup_refuses_bad_fields() {
    local out
    out=$(post_json /api/auth/signup '{"first_name":"A","last_name":"B","email":"not-an-email","password1":"secret123","password2":"other1234","city":"X","country":"Y"}')
    check_eq "status" "$(status_of "$out")" 400
    check_eq "error" "$(field "$out" .error)" invalid_fields
    check_eq "email reason" "$(field "$out" .fields.email)" "is not an email address"
    check_eq "password2 reason" "$(field "$out" .fields.password2)" "does not match password1"
    check "request id in the body" test -n "$(field "$out" .request_id)"
    out=$(post_json /api/auth/signup '{"first_name":"A","email":"a@b.co","password1":"short","password2":"short"}')
    check_eq "missing and weak: status" "$(status_of "$out")" 400
    check_eq "missing" "$(field "$out" .fields.city)" "is required"
    check_eq "weak" "$(field "$out" .fields.password1)" "must be at least 8 characters"
    out=$(post_json /api/auth/signup '{"first_name":" ","last_name":"B","email":"blank@example.com","password1":"secret123","password2":"secret123","city":"  ","country":"Y"}')
    check_eq "blank names" "$(field "$out" '.fields | [.first_name, .city] | join(",")')" \
        "must not be blank,must not be blank"
    out=$(post_json /api/auth/signup '{"first_name":7,"last_name":["x"],"email":true,"password1":"secret123","password2":"secret123","city":"X","country":"Y"}')
    check_eq "mistyped" "$(field "$out" '.fields | [.first_name, .last_name, .email] | join(",")')" \
        "must be a string,must be a string,must be a string"
    out=$(post_json /api/auth/signup '{"first_name": "A",')
    check_eq "malformed JSON" "$(status_of "$out") $(field "$out" .error)" "400 invalid_json"
    out=$(post_json /api/auth/signup '[1,2]')
    check_eq "not an object" "$(status_of "$out") $(field "$out" .error)" "400 invalid_json"
    out=$(post_json /api/auth/signup "{\"first_name\":\"$(head -c 20000 /dev/zero | tr '\0' a)\"}")
    check_eq "oversized JSON" "$(status_of "$out") $(field "$out" .error)" "413 too_large"
    out=$(call POST /api/auth/signup -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
        --data-binary "{\"first_name\":\"$(head -c 20000 /dev/zero | tr '\0' a)\"}")
    check_eq "oversized JSON without a length" "$(status_of "$out") $(field "$out" .error)" "413 too_large"
    # a NUL would cut the strings short: two different passwords would match
    out=$(post_json /api/auth/signup '{"first_name":"A","last_name":"B","email":"nul@example.com","password1":"longpass1\u0000tail","password2":"longpass1\u0000else","city":"X","country":"Y"}')
    check_eq "a NUL in a string" "$(status_of "$out") $(field "$out" .error)" "400 invalid_json"
    check_eq "no account" "$(it_psql -c "SELECT count(*) FROM users WHERE email LIKE 'nul@%'")" 0
    out=$(post_json /api/auth/signup '{"first_name":"A\\u0000","last_name":"B","email":"bs@example.com","password1":"secret123","password2":"secret123","city":"X","country":"Y"}')
    check_eq "an escaped backslash before u0000 is no NUL" "$(status_of "$out")" 201
    check_eq "stored as sent" "$(it_psql -c "SELECT first_name FROM users WHERE email = 'bs@example.com'")" 'A\u0000'
    signup dup@example.com >/dev/null
    out=$(signup DUP@example.COM)
    check_eq "duplicate email, other case" "$(status_of "$out") $(field "$out" .error)" "400 email_taken"
    check_eq "one account" "$(it_psql -c "SELECT count(*) FROM users WHERE lower(email) = 'dup@example.com'")" 1
    no_5xx
}

test_sql_looking_strings_are_stored_verbatim() {
    local evil="Robert'); DROP TABLE users;--" out
    out=$(post_json /api/auth/signup "$(jq -cn --arg n "$evil" \
        '{first_name:$n,last_name:"O\u0027Brien",email:"bobby@example.com",password1:"secret123",password2:"secret123",city:"Cali",country:"CO"}')")
    check_eq "signup" "$(status_of "$out")" 201
    check_eq "stored as sent" "$(it_psql -c "SELECT first_name || '|' || last_name FROM users WHERE email = 'bobby@example.com'")" \
        "$evil|O'Brien"
    check_eq "users table intact" "$(it_psql -c "SELECT count(*) > 0 FROM users")" t
    out=$(call GET "/api/public/rankings?city=x'%20OR%20'1'='1")
    check_eq "SQL in a query parameter" "$(status_of "$out") $(field "$out" length)" "200 0"
}

test_login_failures_and_tokens() {
    local out tok header payload sig now
    signup tokens@example.com >/dev/null
    out=$(post_json /api/auth/login '{"email":"tokens@example.com","password":"wrong1234"}')
    check_eq "wrong password" "$(status_of "$out") $(field "$out" .error)" "401 invalid_credentials"
    out=$(post_json /api/auth/login '{"email":"nobody@example.com","password":"secret123"}')
    check_eq "unknown email, same answer" "$(status_of "$out") $(field "$out" .error)" "401 invalid_credentials"
    tok=$(token tokens@example.com)
    check_eq "valid token" "$(status_of "$(call GET /api/videos -H "Authorization: Bearer $tok")")" 200
    check_eq "no token" "$(status_of "$(call GET /api/videos)")" 401
    check_eq "not Bearer" "$(status_of "$(call GET /api/videos -H "Authorization: Basic $tok")")" 401
    IFS=. read -r header payload sig <<<"$tok"
    # tampered: another user id in the payload, the old signature
    local forged
    forged=$(printf '{"sub":"1","iat":1,"exp":9999999999}' | base64 -w0 | tr '+/' '-_' | tr -d '=')
    check_eq "tampered payload" "$(status_of "$(call GET /api/videos -H "Authorization: Bearer $header.$forged.$sig")")" 401
    # alg none, no signature
    local none
    none=$(printf '{"alg":"none","typ":"JWT"}' | base64 -w0 | tr '+/' '-_' | tr -d '=')
    out=$(call GET /api/videos -H "Authorization: Bearer $none.$payload.")
    check_eq "alg none" "$(status_of "$out")" 401
    check_contains "alg none reason" "$(field "$out" .message)" "not HS256"
    # expired, but properly signed with the server's own secret
    now=$(date +%s)
    out=$(/usr/bin/python3 - "$JWT_SECRET" "$now" <<'PY'
import base64, hashlib, hmac, json, sys
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
secret, now = sys.argv[1].encode(), int(sys.argv[2])
h = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
p = b(json.dumps({"sub": "1", "iat": now - 7200, "exp": now - 3600}).encode())
s = b(hmac.new(secret, f"{h}.{p}".encode(), hashlib.sha256).digest())
print(f"{h}.{p}.{s}")
PY
)
    out=$(call GET /api/videos -H "Authorization: Bearer $out")
    check_eq "expired" "$(status_of "$out")" 401
    check_contains "expired reason" "$(field "$out" .message)" "expired"
    check_eq "WWW-Authenticate" "$(curl -s -D - -o /dev/null "$API/api/videos" | tr -d '\r' | grep -i '^www-authenticate')" \
        "WWW-Authenticate: Bearer"
    no_5xx
}

# --- uploads ------------------------------------------------------------

objects_under() { find "$IT_DIR/s3" -path "*$1*" -type f | grep -v -e '/\.' -c; }

test_upload_refusals_leave_nothing_behind() {
    local tok out before objects
    signup uploader@example.com >/dev/null
    tok=$(token uploader@example.com)
    before=$(it_psql -c "SELECT count(*) FROM videos")
    objects=$(objects_under originals)
    ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=320x240 -frames:v 1 "$FX/img.png"
    out=$(upload "$tok" "$FX/img.png" "A picture")
    check_eq "PNG as video" "$(status_of "$out") $(field "$out" .error)" "400 unsupported_media"
    cp "$FX/img.png" "$FX/img.mp4"
    out=$(upload "$tok" "$FX/img.mp4" "A picture named mp4")
    check_eq "PNG named .mp4 with video/mp4" "$(status_of "$out") $(field "$out" .error)" "400 unsupported_media"
    out=$(call POST /api/videos/upload -H "Authorization: Bearer $tok" -F "video_file=@$FX/clip.mp4")
    check_eq "no title" "$(status_of "$out") $(field "$out" .fields.title)" "400 is required"
    out=$(call POST /api/videos/upload -H "Authorization: Bearer $tok" -F "title=x")
    check_eq "no file" "$(status_of "$out") $(field "$out" .fields.video_file)" "400 is required"
    out=$(upload "$tok" "$FX/clip.mp4" "$(head -c 300 /dev/zero | tr '\0' t)")
    check_eq "title too long" "$(status_of "$out")" 400
    out=$(upload "$tok" "$FX/clip.mp4" "x" -F is_public=maybe)
    check_eq "is_public not a boolean" "$(field "$out" .fields.is_public)" "must be true or false"
    out=$(call POST /api/videos/upload -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' --data '{}')
    check_eq "not multipart" "$(status_of "$out")" 400
    out=$(call POST /api/videos/upload -F "video_file=@$FX/clip.mp4" -F title=x)
    check_eq "no token" "$(status_of "$out")" 401

    # 101 MB: refused from its Content-Length, before a byte is stored
    head -c $((101 * 1024 * 1024)) /dev/zero >"$FX/big.mp4"
    printf '\0\0\0\x20ftypisom' | dd of="$FX/big.mp4" conv=notrunc status=none
    out=$(upload "$tok" "$FX/big.mp4" "Too big")
    check_eq "101 MB with a length" "$(status_of "$out") $(field "$out" .error)" "400 too_large"
    # 101 MB sent chunked: streamed into S3 and cut off at the limit
    out=$(upload "$tok" "$FX/big.mp4" "Too big, chunked" -H 'Transfer-Encoding: chunked')
    check_eq "101 MB chunked" "$(status_of "$out") $(field "$out" .error)" "400 too_large"
    check_contains "cut off while streaming" "$(cat "$IT_DIR/api.log")" "the S3 upload was aborted"
    check_eq "no row" "$(it_psql -c "SELECT count(*) FROM videos")" "$before"
    check_eq "no object" "$(objects_under originals)" "$objects"
    no_5xx
}

test_file_names_are_ignored() {
    local tok out id
    tok=$(token uploader@example.com)
    out=$(upload "$tok" "$FX/clip.mp4" "Named" -F "video_file=@$FX/clip.mp4;filename=../../../etc/passwd")
    check_eq "second video_file refused" "$(status_of "$out")" 400
    out=$(call POST /api/videos/upload -H "Authorization: Bearer $tok" \
        -F "video_file=@$FX/clip.mp4;filename=../../../etc/passwd;type=text/plain" -F "title=Path trick")
    check_eq "path in the file name" "$(status_of "$out")" 201
    id=$(field "$out" .video_id)
    check_eq "stored at its fixed key" "$(it_psql -c "SELECT original_key FROM videos WHERE id = '$id'")" \
        "originals/$id/source.mp4"
}

test_uploads_past_the_slots_wait_their_turn() {
    local tok api2 out first second
    tok=$(token uploader@example.com)
    head -c $((12 * 1024 * 1024)) /dev/urandom >"$FX/mid.mp4"
    printf '\0\0\0\x20ftypisom' | dd of="$FX/mid.mp4" conv=notrunc status=none
    API_UPLOAD_SLOTS=1 it_start_api api2
    api2="http://127.0.0.1:$IT_API_PORT"
    IT_API_PORT=${API#http://127.0.0.1:}
    # the first holds the only slot for a few seconds (2 MB/s)
    curl -s -o "$IT_DIR/first.out" -w '%{http_code}' --limit-rate 2M -H "Authorization: Bearer $tok" \
        -F "video_file=@$FX/mid.mp4" -F title=first "$api2/api/videos/upload" >"$IT_DIR/first.code" &
    first=$!
    SC_WAIT=10 sc_wait_for bash -c "curl -s '$api2/metrics' | grep -q '^showcase_api_upload_slots_used 1'"
    curl -s -o "$IT_DIR/second.out" -w '%{http_code}' -H "Authorization: Bearer $tok" \
        -F "video_file=@$FX/clip.mp4" -F title=second "$api2/api/videos/upload" >"$IT_DIR/second.code" &
    second=$!
    SC_WAIT=10 sc_wait_for bash -c "curl -s '$api2/metrics' | grep -q '^showcase_api_uploads_waiting 1'"
    out=$(curl -s "$api2/metrics")
    check_contains "the second waits" "$out" "showcase_api_uploads_waiting 1"
    check_eq "the first still running" "$(cat "$IT_DIR/first.code" 2>/dev/null)" ""
    check_eq "other requests are served meanwhile" "$(curl -s -o /dev/null -w '%{http_code}' "$api2/health/live")" 200
    wait "$first" "$second"
    check_eq "both stored, in turn" "$(cat "$IT_DIR/first.code") $(cat "$IT_DIR/second.code")" "201 201" || cat "$IT_DIR/second.out"
    check_contains "logged" "$(cat "$IT_DIR/api2.log")" "all 1 upload slots busy: this upload waits"
    check_contains "slot given back" "$(curl -s "$api2/metrics")" "showcase_api_upload_slots_used 0"
    it_stop_wait "$IT_DIR/api2.pid"
    check_eq "api2 exits 0" "$IT_EXIT" 0
}

# --- ownership ----------------------------------------------------------

test_other_players_videos_and_deletion() {
    local owner other out id
    signup owner@example.com >/dev/null
    signup other@example.com >/dev/null
    owner=$(token owner@example.com)
    other=$(token other@example.com)
    out=$(upload "$owner" "$FX/clip.mp4" "Mine")
    id=$(field "$out" .video_id)
    check_eq "another's detail" "$(status_of "$(call GET "/api/videos/$id" -H "Authorization: Bearer $other")")" 403
    check_eq "another's delete" "$(status_of "$(call DELETE "/api/videos/$id" -H "Authorization: Bearer $other")")" 403
    check_eq "unknown id" "$(status_of "$(call GET /api/videos/00000000-0000-4000-8000-000000000000 -H "Authorization: Bearer $owner")")" 404
    check_eq "not an id" "$(status_of "$(call GET "/api/videos/..%2f..%2fetc" -H "Authorization: Bearer $owner")")" 404
    check_eq "not in another's list" "$(field "$(call GET /api/videos -H "Authorization: Bearer $other")" length)" 0
    check_eq "vote for an unprocessed video" "$(status_of "$(call POST "/api/public/videos/$id/vote" -H "Authorization: Bearer $other")")" 404
    check_eq "vote without a token" "$(status_of "$(call POST "/api/public/videos/$(cat "$IT_DIR/public_id")/vote")")" 401
    out=$(call DELETE "/api/videos/$id" -H "Authorization: Bearer $owner")
    check_eq "delete" "$(status_of "$out") $(field "$out" .video_id)" "200 $id"
    check_eq "row gone" "$(it_psql -c "SELECT count(*) FROM videos WHERE id = '$id'")" 0
    check "object gone" bash -c "! '$CTL' s3 head originals/$id/source.mp4 2>/dev/null"
    check_eq "then 404" "$(status_of "$(call GET "/api/videos/$id" -H "Authorization: Bearer $owner")")" 404
    no_5xx
}

# --- the server under hostile clients -------------------------------------

test_slow_client_is_timed_out_and_others_are_served() {
    # a login body sent one byte a second, for up to 60 s; the client
    # says whether the server closed the connection on it
    /usr/bin/python3 - "$IT_API_PORT" >"$IT_DIR/slow.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")
try:
    for i in range(60):
        s.sendall(b" ")
        time.sleep(1)
        s.settimeout(0.01)
        try:
            if s.recv(1) == b"":
                print("closed by the server")
                sys.exit(0)
        except socket.timeout:
            pass
        s.settimeout(None)
    print("never closed")
except OSError:
    print("closed by the server")
PY
    local slow=$!
    sleep 1
    check_eq "others served meanwhile" "$(curl -s -o /dev/null -w '%{http_code}' "$API/health/live")" 200
    check "while the slow client is still connected" kill -0 "$slow"
    wait "$slow"
    check_eq "slow client cut" "$(cat "$IT_DIR/slow.out")" "closed by the server"
    check_contains "logged" "$(cat "$IT_DIR/api.log")" "the body took more than 3 s"
}

test_cors_preflight_and_headers() {
    local hdrs
    hdrs=$(curl -s -D - -o /dev/null -X OPTIONS -H 'Origin: https://portal.example.org' \
        -H 'Access-Control-Request-Method: POST' "$API/api/videos/upload" | tr -d '\r')
    check_contains "preflight status" "$hdrs" "HTTP/1.1 204"
    check_contains "allowed origin" "$hdrs" "Access-Control-Allow-Origin: https://portal.example.org"
    check_contains "allowed headers" "$hdrs" "Access-Control-Allow-Headers: Authorization, Content-Type"
    hdrs=$(curl -s -D - -o /dev/null -H 'Origin: https://evil.example.com' "$API/api/public/rankings" | tr -d '\r')
    check "other origins get no CORS header" bash -c "! grep -qi access-control-allow-origin <<<'$hdrs'"
    hdrs=$(curl -s -D - -o /dev/null -H 'Origin: https://portal.example.org' "$API/api/public/rankings" | tr -d '\r')
    check_contains "simple request" "$hdrs" "Access-Control-Allow-Origin: https://portal.example.org"
}

test_bad_parameters_and_routes() {
    local out
    out=$(call GET '/api/public/rankings?page=0')
    check_eq "page 0" "$(status_of "$out") $(field "$out" .fields.page)" "400 must be an integer in range"
    check_eq "limit abc" "$(status_of "$(call GET '/api/public/rankings?limit=abc')")" 400
    check_eq "limit too big" "$(status_of "$(call GET '/api/public/rankings?limit=1000')")" 400
    out=$(call GET /api/nothing)
    check_eq "unknown route" "$(status_of "$out") $(field "$out" .error)" "404 not_found"
    check_eq "wrong method" "$(status_of "$(call PUT /api/auth/login)")" 405
}

# A refused request's body is read before the answer, so a client that
# sends it all first (browsers, Node) reads the answer instead of failing
# on its write.  The bodies are larger than the socket buffers (a server
# that answered at once failed every upload try here) and within the
# drain's cap, 2 MiB (HTTP_DRAIN_MAX: a larger one is not read, see
# test_api_edges.sh).
test_refused_requests_are_answered_after_their_body() {
    local rb="$IT_TOP/tests/integration/tools/refused_body.py" out
    out=$(/usr/bin/python3 "$rb" "$IT_API_PORT" POST /api/videos/upload 2000000 \
        'multipart/form-data; boundary=x' 20 | sort | uniq -c | xargs)
    check_eq "upload without a token" "$out" "20 401"
    out=$(/usr/bin/python3 "$rb" "$IT_API_PORT" POST /api/auth/login 900000 application/json 20 |
        sort | uniq -c | xargs)
    check_eq "JSON body too large" "$out" "20 413"
    out=$(/usr/bin/python3 "$rb" "$IT_API_PORT" POST /api/nothing 900000 text/plain 20 |
        sort | uniq -c | xargs)
    check_eq "unknown route" "$out" "20 404"
    out=$(/usr/bin/python3 "$rb" "$IT_API_PORT" POST /api/videos/upload 2000000 \
        'multipart/form-data; boundary=x' 5 "Authorization: Bearer nope" | sort | uniq -c | xargs)
    check_eq "upload with a bad token" "$out" "5 401"
}

test_metrics_and_health() {
    local out
    out=$(curl -s "$API/metrics")
    check_contains "requests counted" "$out" 'showcase_api_requests_total{class="2xx"}'
    check_contains "uploads counted" "$out" 'showcase_api_uploads_total{outcome="refused"}'
    check "uploads accepted > 0" test "$(grep '^showcase_api_uploads_total{outcome="accepted"}' <<<"$out" | cut -d' ' -f2)" -gt 0
    check_eq "health" "$(curl -s "$API/health" | jq -r .status)" ready
}

test_secret_is_required() {
    local out rc
    out=$(JWT_SECRET='' API_PORT=1 "$BIN_DIR/showcase-api" 2>&1); rc=$?
    check_eq "empty secret: exit" "$rc" 2
    check_contains "empty secret: message" "$out" "JWT_SECRET is empty"
    out=$(JWT_SECRET=showcase-demo-secret-do-not-use-in-production API_DEMO=0 API_PORT=1 "$BIN_DIR/showcase-api" 2>&1); rc=$?
    check_eq "demo secret outside demo: exit" "$rc" 2
    check_contains "demo secret: message" "$out" "only with API_DEMO=1"
    out=$(JWT_SECRET=short API_PORT=1 "$BIN_DIR/showcase-api" 2>&1); rc=$?
    check_contains "short secret" "$out" "shorter than 32 bytes"
}

test_postman_collection_passes_with_newman() {
    local newman="$IT_TOP/deploy/local/node_modules/.bin/newman" pm="$IT_TOP/tests/postman" base idp_port
    check "newman is installed" test -x "$newman"
    # under the default limits, on an instance of its own, with the
    # buckets the tests above drained emptied
    redis-cli -p "$IT_REDIS_PORT" --scan --pattern 'showcase:rl:*' | xargs -r redis-cli -p "$IT_REDIS_PORT" DEL >/dev/null
    # the identity provider's folder: a local provider from npm
    idp_port=$(sc_free_port)
    sc_daemon idp "$IT_DIR" "$IT_DIR/idp.log" node "$IT_TOP/tests/integration/tools/mock_idp.mjs" \
        "$idp_port" showcase-app
    sc_wait_for curl -sf -o /dev/null "http://127.0.0.1:$idp_port/.well-known/openid-configuration" ||
        it_fail "the identity provider did not start: $(cat "$IT_DIR/idp.log")"
    API_RATE_LIMITS=1 API_OIDC_ISSUER="http://127.0.0.1:$idp_port" API_OIDC_AUDIENCE=showcase-app \
        it_start_api api_pm
    base="http://127.0.0.1:$IT_API_PORT"
    IT_API_PORT=${API#http://127.0.0.1:}
    "$newman" run "$pm/showcase.postman_collection.json" -e "$pm/showcase.postman_environment.json" \
        --env-var "base_url=$base" --env-var "clip_path=$FX/clip.mp4" --env-var "png_path=$FX/img.png" \
        --env-var "idp_url=http://127.0.0.1:$idp_port" \
        --env-var "public_video_id=$(cat "$IT_DIR/public_id")" \
        --env-var "public_owner_token=$(token player@example.com)" --env-var public_city=Medellin \
        --reporters cli --reporter-cli-no-banner --reporter-cli-no-console --color off \
        >"$IT_DIR/newman.out" 2>&1
    check_eq "newman exit status" "$?" 0
    grep -E '^[│┌├└].*(requests|assertions)' "$IT_DIR/newman.out" | sed 's/^/    /'
    check "every assertion passed" grep -qE '│ +assertions │ +[0-9]+ │ +0 │' "$IT_DIR/newman.out"
    [ "${IT_VERBOSE:-0}" = 1 ] || grep -E '^ *[0-9]+\. |AssertionError' "$IT_DIR/newman.out" | head -n 20
    no_5xx api_pm.log
}

it_main
