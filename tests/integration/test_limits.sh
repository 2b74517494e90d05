#!/usr/bin/env bash
# Contest integrity at the API, against real PostgreSQL, Redis and the S3
# server: rate limits (GCRA in the shared Redis) on signups, logins and
# votes, the login failures' backoff, X-Forwarded-For believed only from a
# trusted proxy, the daily and total video quotas, no vote for one's own
# video, Redis down (signup and vote closed, login and upload open), the
# refusals in /metrics, and API_RATE_LIMITS=0.
#
# Every API instance shares one Redis, so the limits' keys are shared too:
# each test sends from loopback addresses of its own (127.0.T.x for test
# T; all of 127.0.0.0/8 is local) and so never spends another test's
# budget.  Users and processed videos are made in the database.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

CTL="$BIN_DIR/showcasectl"

it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"
# cheap hashes: the tests log in often
export API_ARGON2_OPS=1 API_ARGON2_MEM_KB=8192
# helper logins (tokens) go through this one, from 127.0.0.1 only
it_start_api api
SETUP="http://127.0.0.1:$IT_API_PORT"
FX="$IT_DIR/fx"
mkdir -p "$FX"
PW=secret123

# the instances of the tests, for test_refusals_are_counted_in_metrics
L1_API='' PAIR1_API='' PAIR2_API='' PROXY_API='' VOTE_API='' SIGNUP_API='' QUOTA_API=''

# --- helpers -------------------------------------------------------------

# call ADDR CURL_ARGS...: one request sent from ADDR (a loopback address);
# sets CODE, BODY and RA (the Retry-After header, or empty).
call() {
    local addr=$1
    shift
    rm -f "$IT_DIR/call.hdrs" "$IT_DIR/call.body"
    CODE=$(curl -s --max-time 30 --interface "$addr" -D "$IT_DIR/call.hdrs" -o "$IT_DIR/call.body" \
        -w '%{http_code}' "$@")
    BODY=$(cat "$IT_DIR/call.body" 2>/dev/null)
    RA=$(tr -d '\r' <"$IT_DIR/call.hdrs" 2>/dev/null | awk 'tolower($1) == "retry-after:" { print $2 }')
}

# field NAME: a string field of BODY (empty when BODY is not JSON)
field() { jq -r --arg f "$1" '.[$f] // empty' <<<"$BODY" 2>/dev/null; }

# login ADDR BASE EMAIL PASSWORD [CURL_ARGS...]
login() {
    local addr=$1 base=$2 email=$3 pw=$4
    shift 4
    call "$addr" -H 'Content-Type: application/json' "$@" "$base/api/auth/login" --data-binary \
        "{\"email\":\"$email\",\"password\":\"$pw\"}"
}

# signup ADDR BASE EMAIL
signup() {
    call "$1" -H 'Content-Type: application/json' "$2/api/auth/signup" --data-binary \
        "{\"first_name\":\"Ana\",\"last_name\":\"Diaz\",\"email\":\"$3\",\"password1\":\"$PW\",\"password2\":\"$PW\",\"city\":\"Cali\",\"country\":\"CO\"}"
}

# vote ADDR BASE TOKEN VIDEO_ID
vote() {
    call "$1" -X POST -H "Authorization: Bearer $3" "$2/api/public/videos/$4/vote"
}

# upload ADDR BASE TOKEN FILE
upload() {
    call "$1" -H "Authorization: Bearer $3" -F "video_file=@$4" -F title=limits -F is_public=true \
        "$2/api/videos/upload"
}

# mkusers EMAIL...: accounts with password $PW, made in the database with
# the hash of the account signed up at the start
mkusers() {
    it_psql -c "INSERT INTO users (email, password_hash, first_name, last_name, city, country)
        SELECT e, (SELECT password_hash FROM users WHERE email = 'seed@example.com'),
               'Ana', 'Diaz', 'Cali', 'CO'
        FROM unnest(string_to_array('$*', ' ')) AS e" >/dev/null
}

# mkvideos EMAIL N AGE: N public processed videos of EMAIL, uploaded AGE
# ago (a PostgreSQL interval); prints their ids
mkvideos() {
    it_psql -c "INSERT INTO videos (user_id, title, is_public, status, original_key,
                                    processed_key, uploaded_at, processed_at)
        SELECT u.id, 'made ' || g, true, 'processed', 'originals/made/source.mp4',
               'processed/made/video.mp4', now() - interval '$3', now() - interval '$3'
        FROM users u, generate_series(1, $2) AS g WHERE u.email = '$1'
        RETURNING id"
}

# token EMAIL: a login token, through the helper instance
token() {
    curl -s -H 'Content-Type: application/json' "$SETUP/api/auth/login" --data-binary \
        "{\"email\":\"$1\",\"password\":\"$PW\"}" | jq -r .access_token
}

# user_videos EMAIL: how many videos EMAIL has
user_videos() {
    it_psql -c "SELECT count(*) FROM videos v JOIN users u ON u.id = v.user_id WHERE u.email = '$1'"
}

# votes_of EMAIL VIDEO_ID: 1 when EMAIL's vote for the video is stored, else 0
votes_of() {
    it_psql -c "SELECT count(*) FROM votes v JOIN users u ON u.id = v.user_id
        WHERE u.email = '$1' AND v.video_id = '$2'"
}

# originals: objects under originals/ in the S3 server's directory
originals() {
    find "$IT_DIR/s3/data" -path '*/originals/*' -name '*._S3rver_object' 2>/dev/null | wc -l
}

# metric BASE_URL NAME: a metric's value (empty when absent)
metric() { curl -s "$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'; }

# check_positive DESCRIPTION VALUE
check_positive() {
    awk -v v="$2" 'BEGIN { exit !(v != "" && v + 0 > 0) }' || it_fail "$1: got '$2', want > 0"
}

# check_retry_after DESCRIPTION MAX: RA is an integer in 1..MAX
check_retry_after() {
    if ! [[ $RA =~ ^[0-9]+$ ]] || [ "$RA" -lt 1 ] || [ "$RA" -gt "$2" ]; then
        it_fail "$1: Retry-After '$RA', want an integer in 1..$2"
    fi
}

# check_429 DESCRIPTION LIMIT MAX_RETRY_AFTER: the last answer is the
# rate limit LIMIT, with its Retry-After; after a burst of N/UNIT one
# request frees every UNIT/N, the most Retry-After may be
check_429() {
    if [ "$CODE" != 429 ]; then
        it_fail "$1: got $CODE $(head -c 300 <<<"$BODY"), want 429 rate_limited $2"
        return
    fi
    check_eq "$1: error and limit" "$(field error) $(field limit)" "rate_limited $2"
    check_retry_after "$1" "$3"
    [ -n "$(field request_id)" ] || it_fail "$1: no request_id in $BODY"
}

# access_line LOG REQUEST_ID: the access-log line of a request
access_line() { grep "\"request_id\":\"$2\"" "$1" | grep '"route":' | tail -n 1; }

# start NAME VAR=VALUE...: an API instance with these settings on top of
# the environment (which is left as it was); its base URL in STARTED
start() {
    local name=$1 kv var rc had=() old=()
    shift
    STARTED=
    for kv in "$@"; do
        var=${kv%%=*}
        if [ -n "${!var+x}" ]; then had+=(1); else had+=(0); fi
        old+=("${!var-}")
        export "${kv?}"
    done
    it_start_api "$name"
    rc=$?
    local i=0
    for kv in "$@"; do
        var=${kv%%=*}
        if [ "${had[i]}" = 1 ]; then export "$var=${old[i]}"; else unset "$var"; fi
        i=$((i + 1))
    done
    [ "$rc" = 0 ] || return 1
    STARTED="http://127.0.0.1:$IT_API_PORT"
}

# the seed account whose hash mkusers copies
signup 127.0.0.1 "$SETUP" seed@example.com
[ "$CODE" = 201 ] || { echo "FAIL the seed account: $CODE $BODY"; exit 1; }
head -c 262144 /dev/urandom >"$FX/small.mp4"
printf '\0\0\0\x20ftypisom' | dd of="$FX/small.mp4" conv=notrunc status=none
head -c $((24 * 1024 * 1024)) /dev/urandom >"$FX/large.mp4"
printf '\0\0\0\x20ftypisom' | dd of="$FX/large.mp4" conv=notrunc status=none

# --- logins ----------------------------------------------------------------

# Five failures are free, the sixth locks the account for 1 s: a login then
# is 429 login_failures even with the right password, and of 30 wrong
# logins the later ones are 429; another account logs in meanwhile from
# another address, and a success clears the count.
test_login_failures_back_off_per_account() {
    local i codes=() api locked=0
    start lim1 || return
    api=$STARTED
    L1_API=$api
    mkusers lock1@example.com lock2@example.com lock3@example.com
    for i in 1 2 3 4 5 6; do
        login 127.0.1.1 "$api" lock1@example.com wrong-password
        codes+=("$CODE")
    done
    check_eq "six failures, each checked" "${codes[*]}" "401 401 401 401 401 401"
    # at once, within the 1 s lock: refused without checking the password
    login 127.0.1.4 "$api" lock1@example.com "$PW"
    check_429 "the right password while locked" login_failures 2
    check_eq "no token" "$(field access_token)" ""
    for i in $(seq 8 31); do
        login 127.0.1.1 "$api" lock1@example.com wrong-password
        codes+=("$CODE")
        case $CODE in
        401) ;;
        429)
            locked=$((locked + 1))
            case $(field error):$(field limit) in
            rate_limited:login_failures | rate_limited:login_account | rate_limited:login_ip) ;;
            *) it_fail "attempt $i: 429 with $BODY" ;;
            esac
            check_retry_after "attempt $i" 900
            ;;
        *) it_fail "attempt $i: $CODE $BODY" ;;
        esac
    done
    check "some of the 24 wrong logins after it are 429 ($locked are)" test "$locked" -gt 0
    # meanwhile another account, from another address
    login 127.0.1.2 "$api" lock2@example.com "$PW"
    check_eq "another account logs in" "$CODE" 200
    check "with a token" test -n "$(field access_token)"
    # a success clears the count: 5 failures, success, 5 failures
    codes=()
    for i in 1 2 3 4 5; do
        login 127.0.1.3 "$api" lock3@example.com wrong-password
        codes+=("$CODE")
    done
    login 127.0.1.3 "$api" lock3@example.com "$PW"
    codes+=("$CODE")
    for i in 1 2 3 4 5; do
        login 127.0.1.3 "$api" lock3@example.com wrong-password
        codes+=("$CODE")
    done
    check_eq "the count starts again after a success" "${codes[*]}" \
        "401 401 401 401 401 200 401 401 401 401 401"
}

# Two instances, one Redis: API_LIMIT_LOGIN_IP=4/m counts the logins of an
# address through both.
test_login_limit_holds_across_two_instances() {
    local a b i
    start pair1 API_LIMIT_LOGIN_IP=4/m || return
    a=$STARTED
    start pair2 API_LIMIT_LOGIN_IP=4/m || return
    b=$STARTED
    PAIR1_API=$a PAIR2_API=$b
    mkusers pair1@example.com pair2@example.com pair3@example.com pair4@example.com \
        pair5@example.com pair6@example.com pair7@example.com
    for i in 1 2 3 4; do
        login 127.0.2.1 "$([ $((i % 2)) = 1 ] && echo "$a" || echo "$b")" "pair$i@example.com" "$PW"
        check_eq "login $i, alternating instances" "$CODE" 200
    done
    login 127.0.2.1 "$a" pair5@example.com "$PW"
    check_429 "the 5th (first instance)" login_ip 15
    login 127.0.2.1 "$b" pair6@example.com "$PW"
    check_429 "the 6th (second instance)" login_ip 15
    login 127.0.2.2 "$b" pair7@example.com "$PW"
    check_eq "another address logs in" "$CODE" 200
}

# X-Forwarded-For from a trusted proxy names the client (the right-most
# address that is not a trusted proxy); from anyone else it is ignored.
test_forwarded_for_only_from_a_trusted_proxy() {
    local api line
    start proxy API_TRUSTED_PROXIES=127.0.0.2/32 API_LIMIT_LOGIN_IP=3/m || return
    api=$STARTED
    PROXY_API=$api
    mkusers tp7@example.com tp8@example.com tp6@example.com tpu@example.com
    login 127.0.0.2 "$api" tp7@example.com wrong-password -H 'X-Forwarded-For: 198.51.100.7' \
        -H 'X-Request-Id: tp-trusted-1'
    check_eq "client .7, 1st" "$CODE" 401
    login 127.0.0.2 "$api" tp7@example.com wrong-password -H 'X-Forwarded-For: 203.0.113.1, 198.51.100.7'
    check_eq "client .7 (a spoofed left-most address ignored), 2nd" "$CODE" 401
    login 127.0.0.2 "$api" tp7@example.com wrong-password -H 'X-Forwarded-For: 198.51.100.7, 127.0.0.2'
    check_eq "client .7 (the trusted hop skipped), 3rd" "$CODE" 401
    login 127.0.0.2 "$api" tp7@example.com wrong-password -H 'X-Forwarded-For: 198.51.100.7'
    check_429 "client .7, 4th" login_ip 20
    # two header lines are one list: a fresh address in the first line
    # does not hide the balancer's entry at the end of the last
    login 127.0.0.2 "$api" tp7@example.com wrong-password -H 'X-Forwarded-For: 198.51.100.99' \
        -H 'X-Forwarded-For: 198.51.100.7'
    check_429 "client .7 behind a line of its own" login_ip 20
    login 127.0.0.2 "$api" tp8@example.com wrong-password -H 'X-Forwarded-For: 198.51.100.8'
    check_eq "another client through the same proxy: the wrong password, not 429" \
        "$CODE $(field error)" "401 invalid_credentials"
    # an untrusted peer: the header does not make new clients
    login 127.0.3.1 "$api" tpu@example.com wrong-password -H 'X-Forwarded-For: 198.51.100.20' \
        -H 'X-Request-Id: tp-untrusted-1'
    check_eq "untrusted, 1st" "$CODE" 401
    login 127.0.3.1 "$api" tpu@example.com wrong-password -H 'X-Forwarded-For: 198.51.100.21'
    check_eq "untrusted, 2nd" "$CODE" 401
    login 127.0.3.1 "$api" tpu@example.com wrong-password -H 'X-Forwarded-For: 198.51.100.22'
    check_eq "untrusted, 3rd" "$CODE" 401
    login 127.0.3.1 "$api" tpu@example.com wrong-password -H 'X-Forwarded-For: 198.51.100.23'
    check_429 "untrusted, 4th, whatever the header says" login_ip 20
    # an IPv6 client counts by its /64
    login 127.0.0.2 "$api" tp6@example.com wrong-password -H 'X-Forwarded-For: 2001:db8:1:1::1'
    check_eq "IPv6 client, 1st" "$CODE" 401
    login 127.0.0.2 "$api" tp6@example.com wrong-password -H 'X-Forwarded-For: 2001:db8:1:1::2'
    check_eq "IPv6 client, same /64, 2nd" "$CODE" 401
    login 127.0.0.2 "$api" tp6@example.com wrong-password -H 'X-Forwarded-For: 2001:db8:1:1:aaaa::3'
    check_eq "IPv6 client, same /64, 3rd" "$CODE" 401
    login 127.0.0.2 "$api" tp6@example.com wrong-password -H 'X-Forwarded-For: 2001:db8:1:1:ffff::4'
    check_429 "IPv6 client, same /64, 4th" login_ip 20
    login 127.0.0.2 "$api" tp8@example.com wrong-password -H 'X-Forwarded-For: 2001:db8:1:2::1'
    check_eq "IPv6 client of another /64" "$CODE $(field error)" "401 invalid_credentials"
    line=$(access_line "$IT_DIR/proxy.log" tp-trusted-1)
    check_eq "logged: the client behind the trusted proxy, and the proxy" \
        "$(jq -r '"\(.client) \(.peer)"' <<<"$line")" "198.51.100.7 127.0.0.2"
    line=$(access_line "$IT_DIR/proxy.log" tp-untrusted-1)
    check_eq "logged: the untrusted peer itself" "$(jq -r .client <<<"$line")" 127.0.3.1
}

# --- votes -----------------------------------------------------------------

test_own_video_and_vote_limit_per_address() {
    local api vids v1 v2 owner t1 t2 t3 t4
    start votes API_LIMIT_VOTE_IP=3/h API_LIMIT_VOTE_ACCOUNT=0 || return
    api=$STARTED
    VOTE_API=$api
    mkusers owner4@example.com vv1@example.com vv2@example.com vv3@example.com vv4@example.com
    mapfile -t vids < <(mkvideos owner4@example.com 2 '1 hour')
    v1=${vids[0]:-} v2=${vids[1]:-}
    owner=$(token owner4@example.com)
    t1=$(token vv1@example.com) t2=$(token vv2@example.com)
    t3=$(token vv3@example.com) t4=$(token vv4@example.com)
    vote 127.0.4.9 "$api" "$owner" "$v1"
    check_eq "a vote for one's own video" "$CODE $(field error)" "400 own_video"
    check_eq "no row for it" "$(votes_of owner4@example.com "$v1")" 0
    vote 127.0.4.1 "$api" "$t1" "$v1"
    check_eq "1st vote from the address" "$CODE" 200
    vote 127.0.4.1 "$api" "$t2" "$v1"
    check_eq "2nd vote from the address" "$CODE" 200
    vote 127.0.4.1 "$api" "$t3" "$v2"
    check_eq "3rd vote from the address" "$CODE" 200
    vote 127.0.4.1 "$api" "$t4" "$v2"
    check_429 "4th vote from the address" vote_ip 1200
    check_eq "the refused vote left no row" "$(votes_of vv4@example.com "$v2")" 0
    vote 127.0.4.2 "$api" "$t4" "$v2"
    check_eq "the same voter from another address" "$CODE" 200
    check_eq "four votes stored" \
        "$(it_psql -c "SELECT count(*) FROM votes WHERE video_id IN ('$v1', '$v2')")" 4
}

# --- signups -----------------------------------------------------------------

test_signup_limit_per_address() {
    local api
    start signup API_LIMIT_SIGNUP_IP=2/h || return
    api=$STARTED
    SIGNUP_API=$api
    signup 127.0.5.1 "$api" su1@example.com
    check_eq "1st signup" "$CODE" 201
    signup 127.0.5.1 "$api" su2@example.com
    check_eq "2nd signup" "$CODE" 201
    signup 127.0.5.1 "$api" su3@example.com
    check_429 "3rd signup from the address" signup_ip 1800
    check_eq "no user made" "$(it_psql -c "SELECT count(*) FROM users WHERE email = 'su3@example.com'")" 0
    signup 127.0.5.2 "$api" su3@example.com
    check_eq "from another address" "$CODE" 201
}

# --- quotas -------------------------------------------------------------------

# 19 uploads in the last 24 h: the 20th is taken, the 21st refused (429);
# 99 old videos: the 100th is taken, the 101st refused (400).  Neither
# refusal leaves a row or an S3 object.
test_daily_and_total_video_quotas() {
    local api tok before
    start quota || return
    api=$STARTED
    QUOTA_API=$api
    mkusers day@example.com most@example.com
    mkvideos day@example.com 19 '1 hour' >/dev/null
    mkvideos most@example.com 99 '10 days' >/dev/null
    tok=$(token day@example.com)
    upload 127.0.6.1 "$api" "$tok" "$FX/small.mp4"
    check_eq "the 20th upload today" "$CODE" 201
    before=$(originals)
    upload 127.0.6.1 "$api" "$tok" "$FX/small.mp4"
    check_eq "the 21st" "$CODE $(field error)" "429 daily_quota_reached"
    check_contains "its message names the quota" "$(field message)" "API_VIDEOS_PER_DAY 20"
    check_retry_after "the 21st" 86400
    check_eq "no row" "$(user_videos day@example.com)" 20
    check_eq "no S3 object" "$(originals)" "$before"
    # a large upload refused mid-body cannot be answered (http.h: a refused
    # body is drained 2 MiB at most); the player's next one is refused
    # before its body, from this instance's memory of the refusal
    call 127.0.6.1 -H "Authorization: Bearer $tok" -F "video_file=@$FX/large.mp4" -F title=large \
        "$api/api/videos/upload"
    check_eq "a large upload after the refusal: answered" "$CODE $(field error)" "429 daily_quota_reached"
    check_retry_after "the large one" 86400
    check_eq "still no row" "$(user_videos day@example.com)" 20
    tok=$(token most@example.com)
    upload 127.0.6.1 "$api" "$tok" "$FX/small.mp4"
    check_eq "the 100th video" "$CODE" 201
    before=$(originals)
    upload 127.0.6.1 "$api" "$tok" "$FX/small.mp4"
    check_eq "the 101st" "$CODE $(field error)" "400 video_quota_reached"
    check_contains "its message names the quota" "$(field message)" "API_VIDEOS_MAX 100"
    check_eq "no row" "$(user_videos most@example.com)" 100
    check_eq "no S3 object" "$(originals)" "$before"
}

# Uploads racing for the last places of the day all pass the early check;
# the row is inserted only under the player's lock, so exactly the places
# left are taken (the others' objects are deleted).  A deleted video still
# counts for the day.
test_quotas_hold_against_races_and_deletions() {
    local api tok i pids=() codes vid before
    start quota_race API_VIDEOS_PER_DAY=3 API_UPLOADS_PER_USER=10 || return
    api=$STARTED
    mkusers race@example.com
    mkvideos race@example.com 1 '1 hour' >/dev/null
    tok=$(token race@example.com)
    before=$(originals)
    for i in 1 2 3 4 5 6; do
        curl -s -o "$IT_DIR/race.$i.out" -w '%{http_code}' --interface 127.0.12.1 \
            -H "Authorization: Bearer $tok" -F "video_file=@$FX/small.mp4" -F "title=race $i" \
            "$api/api/videos/upload" >"$IT_DIR/race.$i" &
        pids+=($!)
    done
    wait "${pids[@]}"
    codes=$(for i in 1 2 3 4 5 6; do cat "$IT_DIR/race.$i"; echo; done |
        sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
    check_eq "six at once for two places: two stored, four refused" "$codes" "201:2 429:4 "
    check_eq "the player's videos" "$(user_videos race@example.com)" 3
    check_eq "objects only for the stored ones" "$(originals)" "$((before + 2))"
    vid=$(it_psql -c "SELECT v.id FROM videos v JOIN users u ON u.id = v.user_id
        WHERE u.email = 'race@example.com' AND v.status = 'uploaded' LIMIT 1")
    call 127.0.12.1 -X DELETE -H "Authorization: Bearer $tok" "$api/api/videos/$vid"
    check_eq "one deleted" "$CODE" 200
    upload 127.0.12.1 "$api" "$tok" "$FX/small.mp4"
    check_eq "a deleted video still counts for the day" "$CODE $(field error)" "429 daily_quota_reached"
}

# --- Redis down -----------------------------------------------------------------

# Signup and vote fail closed (503), login and upload fail open.  Signup
# touches Redis for nothing but its limit: its 503 is the limiter's.
test_redis_down_closes_signup_and_vote_opens_login_and_upload() {
    local api vid tok
    mkusers nr@example.com nro@example.com nrv@example.com
    vid=$(mkvideos nro@example.com 1 '1 hour')
    start nored "REDIS_URL=redis://127.0.0.1:$(sc_free_port)/0" || return
    api=$STARTED
    signup 127.0.7.1 "$api" nrnew@example.com
    check_eq "signup" "$CODE $(field error)" "503 unavailable"
    check_contains "because of the limiter" "$(field message)" "rate limiter"
    check_eq "no user made" "$(it_psql -c "SELECT count(*) FROM users WHERE email = 'nrnew@example.com'")" 0
    vote 127.0.7.1 "$api" "$(token nrv@example.com)" "$vid"
    check_eq "vote" "$CODE $(field error)" "503 unavailable"
    check_contains "because of the limiter" "$(field message)" "rate limiter"
    check_eq "no vote stored" "$(votes_of nrv@example.com "$vid")" 0
    login 127.0.7.1 "$api" nr@example.com "$PW"
    check_eq "login works" "$CODE" 200
    tok=$(field access_token)
    check "with a token" test -n "$tok"
    upload 127.0.7.1 "$api" "$tok" "$FX/small.mp4"
    check_eq "upload works" "$CODE" 201
    check_positive "limiter errors counted" "$(metric "$api" showcase_api_limiter_errors_total)"
}

# --- metrics ----------------------------------------------------------------------

# The refusals of the tests above, in each instance's /metrics.
test_refusals_are_counted_in_metrics() {
    if [ -z "$L1_API" ] || [ -z "$PAIR1_API" ] || [ -z "$VOTE_API" ] || [ -z "$SIGNUP_API" ] ||
        [ -z "$QUOTA_API" ] || [ -z "$PROXY_API" ]; then
        it_fail "needs the instances of the tests before it (IT_ONLY must include them)"
        return
    fi
    check_positive "login_failures" \
        "$(metric "$L1_API" 'showcase_api_rate_limited_total{limit="login_failures"}')"
    check_positive "login_ip, first of the pair" \
        "$(metric "$PAIR1_API" 'showcase_api_rate_limited_total{limit="login_ip"}')"
    check_positive "login_ip, second of the pair" \
        "$(metric "$PAIR2_API" 'showcase_api_rate_limited_total{limit="login_ip"}')"
    check_eq "login_ip behind the proxy" \
        "$(metric "$PROXY_API" 'showcase_api_rate_limited_total{limit="login_ip"}')" 4
    check_positive "vote_ip" "$(metric "$VOTE_API" 'showcase_api_rate_limited_total{limit="vote_ip"}')"
    check_positive "signup_ip" "$(metric "$SIGNUP_API" 'showcase_api_rate_limited_total{limit="signup_ip"}')"
    check_eq "no signup_ip where none was refused" \
        "$(metric "$VOTE_API" 'showcase_api_rate_limited_total{limit="signup_ip"}')" 0
    check_eq "daily quota refusals" "$(metric "$QUOTA_API" 'showcase_api_quota_refused_total{quota="daily"}')" 1
    check_eq "total quota refusals" "$(metric "$QUOTA_API" 'showcase_api_quota_refused_total{quota="total"}')" 1
}

# --- limits off -------------------------------------------------------------------

# API_RATE_LIMITS=0 turns the rate limits off, even ones set low; the
# own-video rule stays.
test_rate_limits_off() {
    local api i codes=() vid
    start off API_RATE_LIMITS=0 API_LIMIT_LOGIN_IP=3/m API_LIMIT_LOGIN_ACCOUNT=2/h \
        API_LIMIT_VOTE_IP=1/h || return
    api=$STARTED
    mkusers off1@example.com off2@example.com off3@example.com
    vid=$(mkvideos off1@example.com 1 '1 hour')
    for i in $(seq 1 40); do
        login 127.0.9.1 "$api" off1@example.com "$PW"
        codes+=("$CODE")
    done
    check_eq "40 logins from one address, none refused" "$(printf '%s\n' "${codes[@]}" | sort | uniq -c | xargs)" \
        "40 200"
    vote 127.0.9.1 "$api" "$(token off2@example.com)" "$vid"
    check_eq "a vote" "$CODE" 200
    vote 127.0.9.1 "$api" "$(token off3@example.com)" "$vid"
    check_eq "another vote from the address" "$CODE" 200
    vote 127.0.9.1 "$api" "$(token off1@example.com)" "$vid"
    check_eq "own video still refused" "$CODE $(field error)" "400 own_video"
}

it_main
