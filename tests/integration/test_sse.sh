#!/usr/bin/env bash
# Live status (GET /api/videos/events, Server-Sent Events) against real
# PostgreSQL, Redis, the S3 server and a worker: status events through to
# processed with progress on the way, the replay after Last-Event-ID,
# tickets, 500 idle streams on no more threads, API_SSE_MAX, SIGTERM.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

CTL="$BIN_DIR/showcasectl"
SSE="/usr/bin/python3 $IT_TOP/tests/integration/tools/sse_client.py"

it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"
# quick jobs, and lease renewals (which carry the progress) every second
export POLICY_MIN_SECONDS=0 POLICY_MIN_SHORT_SIDE=0 TRANSCODE_CARD_MS=0
export WORKER_LEASE_MS=3000 WORKER_HEARTBEAT_MS=500 WORKER_RECONCILE_S=5
export WORKER_CONCURRENCY=1 WORKER_METRICS_PORT=0 WORKER_TMP_DIR="$IT_DIR"
if grep -q __asan_init "$BIN_DIR/showcase-transcode"; then export WORKER_MEMORY_MB=0; fi
export API_ARGON2_OPS=1 API_ARGON2_MEM_KB=8192 API_RATE_LIMITS=0
# 500 streams from one address
export API_MAX_CONNECTIONS_PER_IP=0
it_start_api api
API="http://127.0.0.1:$IT_API_PORT"
FX="$IT_DIR/fx"
mkdir -p "$FX"

# shellcheck source=tests/integration/api_client.sh
. "$(dirname "$0")/api_client.sh"
# wait_for_line FILE JQ-FILTER SECONDS: until a line of FILE matches
wait_for_line() {
    local deadline=$((SECONDS + $3))
    while [ $SECONDS -lt "$deadline" ]; do
        [ -n "$(jq -c "select($2)" "$1" 2>/dev/null)" ] && return 0
        sleep 0.3
    done
    return 1
}
# status_ids FILE: the ids of the status events in FILE, one a line
status_ids() { jq -r 'select(.event == "status") | .id' "$1"; }

# a clip that takes the worker several seconds, and a quick one
ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=1280x720:r=30:d=20 -c:v libx264 \
    -preset ultrafast "$FX/long.mp4" || it_fail "fixture"
ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=320x180:r=15:d=2 -c:v libx264 \
    -preset ultrafast "$FX/clip.mp4" || it_fail "fixture"
signup sse@example.com >/dev/null
signup other@example.com >/dev/null
TOK=$(token sse@example.com)
OTHER=$(token other@example.com)
UID_SSE=$(it_psql -c "SELECT id FROM users WHERE email = 'sse@example.com'")
sc_daemon worker "$IT_DIR" "$IT_DIR/worker.log" "$BIN_DIR/showcase-worker"

# --- tests ---------------------------------------------------------------

# sign_ticket SECRET USER_ID EXP: a stream ticket as the API makes them
# (USER_ID.EXP.NONCE.MAC, HMAC-SHA256 of "showcase-sse-ticket:" + the rest)
sign_ticket() {
    /usr/bin/python3 - "$@" <<'PY'
import base64, hashlib, hmac, os, sys
secret, uid, exp = sys.argv[1:]
nonce = base64.urlsafe_b64encode(os.urandom(12)).rstrip(b"=").decode()
body = f"{uid}.{exp}.{nonce}"
mac = hmac.new(secret.encode(), b"showcase-sse-ticket:" + body.encode(), hashlib.sha256).digest()
print(body + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode())
PY
}

test_refuses_without_credentials() {
    local out
    out=$(call GET /api/videos/events)
    check_eq "no token" "$(status_of "$out")" 401
    out=$(call GET /api/videos/events -H "Authorization: Bearer nope")
    check_eq "bad token" "$(status_of "$out")" 401
    out=$(call GET "/api/videos/events?ticket=1.99999999999.AAAAAAAAAAAAAAAA.forged")
    check_eq "forged ticket" "$(status_of "$out")" 401
    out=$(call POST /api/videos/events/ticket)
    check_eq "a ticket needs a token" "$(status_of "$out")" 401
    out=$(call GET /api/videos/events -H "Authorization: Bearer $TOK" -H "Last-Event-ID: x1")
    check_eq "bad Last-Event-ID" "$(status_of "$out")" 400
}

test_status_and_progress_through_processed() {
    local out id types pct
    $SSE follow "$API/api/videos/events" "$IT_DIR/live.jsonl" 120 \
        "Authorization: Bearer $TOK" &
    echo $! >"$IT_DIR/follow.pid"
    check "stream opened" wait_for_line "$IT_DIR/live.jsonl" '.status' 10
    check_eq "200" "$(head -n 1 "$IT_DIR/live.jsonl" | jq -r .status)" 200
    check_eq "content type" "$(head -n 1 "$IT_DIR/live.jsonl" | jq -r '.headers["content-type"]')" "text/event-stream"
    check_eq "no-store" "$(head -n 1 "$IT_DIR/live.jsonl" | jq -r '.headers["cache-control"]')" "no-store"
    check_eq "no proxy buffering" "$(head -n 1 "$IT_DIR/live.jsonl" | jq -r '.headers["x-accel-buffering"]')" "no"
    out=$(upload "$TOK" "$FX/long.mp4" "Long")
    check_eq "upload" "$(status_of "$out")" 201
    id=$(field "$out" .video_id)
    check "processed event" wait_for_line "$IT_DIR/live.jsonl" \
        ".event == \"status\" and .data.video_id == \"$id\" and .data.status == \"processed\"" 120
    sc_stop_pidfile "$IT_DIR/follow.pid"
    types=$(jq -r "select(.event == \"status\" and .data.video_id == \"$id\") | .data.type" "$IT_DIR/live.jsonl" | xargs)
    check_eq "status events in order" "$types" "video.uploaded video.processing video.processed"
    check_eq "versions" "$(jq -r "select(.event == \"status\" and .data.video_id == \"$id\") | .data.version" "$IT_DIR/live.jsonl" | xargs)" "1 2 3"
    check_eq "ids are the outbox's" "$(status_ids "$IT_DIR/live.jsonl" | xargs)" \
        "$(it_psql -c "SELECT id FROM events WHERE video_id = '$id' ORDER BY id" | xargs)"
    pct=$(jq -r "select(.event == \"progress\" and .data.video_id == \"$id\") | .data.percent" "$IT_DIR/live.jsonl" | xargs)
    echo "    progress events: $pct"
    check "at least one progress event" test -n "$pct"
    check_eq "no one else's events" "$(jq -r 'select(.event == "status") | .data.user_id // "none"' "$IT_DIR/live.jsonl" | sort -u)" "none"
}

test_replay_after_last_event_id() {
    local last out a b want got
    last=$(status_ids "$IT_DIR/live.jsonl" | tail -n 1)
    check "a last event id" test -n "$last"
    # disconnected: more events happen (two uploads processed, one deleted)
    out=$(upload "$TOK" "$FX/clip.mp4" "One")
    a=$(field "$out" .video_id)
    out=$(upload "$TOK" "$FX/clip.mp4" "Two")
    b=$(field "$out" .video_id)
    upload "$OTHER" "$FX/clip.mp4" "Someone else's" >/dev/null
    local deadline=$((SECONDS + 60))
    while [ "$(it_psql -c "SELECT count(*) FROM videos WHERE id IN ('$a','$b') AND status = 'processed'")" != 2 ] &&
        [ $SECONDS -lt $deadline ]; do sleep 0.5; done
    call DELETE "/api/videos/$b" -H "Authorization: Bearer $TOK" >/dev/null
    want=$(it_psql -c "SELECT id FROM events WHERE user_id = $UID_SSE AND id > $last ORDER BY id" | xargs)
    check_eq "seven events missed" "$(wc -w <<<"$want")" 7
    $SSE follow "$API/api/videos/events" "$IT_DIR/replay.jsonl" 4 \
        "Authorization: Bearer $TOK" "Last-Event-ID: $last"
    got=$(status_ids "$IT_DIR/replay.jsonl" | xargs)
    check_eq "exactly the missed events" "$got" "$want"
    check_eq "the deletion last" "$(jq -r 'select(.event == "status") | .data.type' "$IT_DIR/replay.jsonl" | tail -n 1)" "video.deleted"
    # without Last-Event-ID the stream starts at the newest: nothing old
    $SSE follow "$API/api/videos/events" "$IT_DIR/fresh.jsonl" 3 "Authorization: Bearer $TOK"
    check_eq "a fresh stream replays nothing" "$(status_ids "$IT_DIR/fresh.jsonl" | wc -l)" 0
}

test_ticket() {
    local out t exp_t forged now
    out=$(call POST /api/videos/events/ticket -H "Authorization: Bearer $TOK")
    check_eq "ticket" "$(status_of "$out")" 200
    check_eq "expires_in" "$(field "$out" .expires_in)" 60
    t=$(field "$out" .ticket)
    $SSE follow "$API/api/videos/events?ticket=$t&last_event_id=0" "$IT_DIR/ticket.jsonl" 3
    check_eq "the stream with a ticket" "$(head -n 1 "$IT_DIR/ticket.jsonl" | jq -r .status)" 200
    check_eq "every event of the player" "$(status_ids "$IT_DIR/ticket.jsonl" | xargs)" \
        "$(it_psql -c "SELECT id FROM events WHERE user_id = $UID_SSE ORDER BY id" | xargs)"
    out=$(call GET "/api/videos/events?ticket=$t")
    check_eq "a ticket is good once" "$(status_of "$out")" 401
    check_contains "why" "$(field "$out" .message)" "already used"
    # signed with the secret, expired; and one signed with another secret
    now=$(date +%s)
    exp_t=$(sign_ticket "$JWT_SECRET" "$UID_SSE" "$((now - 5))")
    out=$(call GET "/api/videos/events?ticket=$exp_t")
    check_eq "expired ticket" "$(status_of "$out")" 401
    check_contains "why" "$(field "$out" .message)" "expired"
    forged=$(sign_ticket wrong-secret "$UID_SSE" "$((now + 60))")
    out=$(call GET "/api/videos/events?ticket=$forged")
    check_eq "forged ticket" "$(status_of "$out")" 401
    out=$(call GET "/api/videos/events?ticket=$TOK")
    check_eq "a login token is no ticket" "$(status_of "$out")" 401
}

# An event whose transaction took its id first and committed last is
# still sent (a cursor "id > last sent" would skip it).
test_late_commit_is_not_missed() {
    local early late got
    $SSE follow "$API/api/videos/events" "$IT_DIR/late.jsonl" 8 "Authorization: Bearer $TOK" &
    echo $! >"$IT_DIR/late.pid"
    check "stream opened" wait_for_line "$IT_DIR/late.jsonl" '.status' 10
    sleep 0.5
    # the early transaction holds its event (a lower id) for 3 s
    it_psql >"$IT_DIR/early.out" <<SQL &
BEGIN;
INSERT INTO videos (user_id, title, original_key) VALUES ($UID_SSE, 'early', 'none') RETURNING id;
SELECT pg_sleep(3);
COMMIT;
SQL
    local early_pid=$!
    sleep 1
    late=$(it_psql -c "INSERT INTO videos (user_id, title, original_key) VALUES ($UID_SSE, 'late', 'none') RETURNING id" | head -n 1)
    wait "$early_pid"
    early=$(head -n 1 "$IT_DIR/early.out")
    wait "$(cat "$IT_DIR/late.pid")"
    rm -f "$IT_DIR/late.pid"
    # the insertions' events only: the worker's reconciler may take these
    # rows (no job, no original) once they look stranded, after the stream
    got=$(jq -r 'select(.event == "status" and .data.status == "uploaded") | .data.title + " " + .id' \
        "$IT_DIR/late.jsonl" | xargs)
    check_eq "the late commit arrives after the later id" "$got" \
        "$(it_psql -c "SELECT string_agg(e.data->>'title' || ' ' || e.id, ' ' ORDER BY (e.data->>'title') DESC)
                       FROM events e WHERE e.video_id IN ('$early', '$late') AND e.type = 'video.uploaded'")"
    check "ids out of order" test "$(jq -r 'select(.event == "status" and .data.status == "uploaded") | .id' "$IT_DIR/late.jsonl" | head -n 1)" -gt \
        "$(jq -r 'select(.event == "status" and .data.status == "uploaded") | .id' "$IT_DIR/late.jsonl" | tail -n 1)"
    it_psql -c "DELETE FROM videos WHERE id IN ('$early', '$late')" >/dev/null
}

# /health/live's time, in microseconds, the worst of 20
live_ms() {
    local i t worst=0
    for i in $(seq 20); do
        t=$(curl -s -o /dev/null -w '%{time_total}' "$API/health/live")
        t=$(awk -v t="$t" 'BEGIN { printf "%d", t * 1000000 }')
        [ "$t" -gt "$worst" ] && worst=$t
    done
    echo "$worst"
}

# threads PID: how many threads the process has
threads() { find "/proc/$1/task" -mindepth 1 -maxdepth 1 | wc -l; }

test_500_idle_streams_take_no_thread() {
    local pid before during lat_before lat_during ready
    pid=$(cat "$IT_DIR/api.pid")
    before=$(threads "$pid")
    lat_before=$(live_ms)
    $SSE hold 500 "$API/api/videos/events" "$IT_DIR/hold.out" 17 "Authorization: Bearer $TOK" &
    echo $! >"$IT_DIR/hold.pid"
    local deadline=$((SECONDS + 30))
    while ! grep -q '^ready' "$IT_DIR/hold.out" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    ready=$(grep '^ready' "$IT_DIR/hold.out")
    during=$(threads "$pid")
    lat_during=$(live_ms)
    echo "    $ready; threads before $before, with 500 streams $during;" \
        "/health/live worst of 20: ${lat_before} us before, ${lat_during} us with them"
    check_eq "500 streams open" "$(cut -d' ' -f2 <<<"$ready")" 500
    check_eq "no thread per stream" "$during" "$before"
    check "/health/live under 500 ms" test "$lat_during" -lt 500000
    wait "$(cat "$IT_DIR/hold.pid")"
    rm -f "$IT_DIR/hold.pid"
    echo "    $(grep -E '^(keepalive|open)' "$IT_DIR/hold.out" | xargs)"
    check_eq "a keep-alive on every stream within 17 s" "$(grep '^keepalive' "$IT_DIR/hold.out")" "keepalive 500"
    check_eq "all still open" "$(grep '^open' "$IT_DIR/hold.out")" "open 500"
    sleep 1
    check_eq "threads after" "$(threads "$pid")" "$before"
}

test_sse_max_and_sigterm() {
    local main_port=$IT_API_PORT i out start took
    API_SSE_MAX=5 API_GRACE_S=30 it_start_api api2
    local api2="http://127.0.0.1:$IT_API_PORT"
    IT_API_PORT=$main_port
    for i in 1 2 3 4 5; do
        $SSE follow "$api2/api/videos/events" "$IT_DIR/s$i.jsonl" 60 "Authorization: Bearer $TOK" &
        echo $! >"$IT_DIR/s$i.pid"
    done
    for i in 1 2 3 4 5; do
        wait_for_line "$IT_DIR/s$i.jsonl" '.status' 10 || it_fail "stream $i did not open"
    done
    out=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $TOK" "$api2/api/videos/events")
    check_eq "the 6th is refused" "$(status_of "$out")" 503
    check_eq "why" "$(field "$out" .error)" unavailable
    start=$(date +%s%N)
    it_stop_wait "$IT_DIR/api2.pid"
    took=$((($(date +%s%N) - start) / 1000000))
    echo "    SIGTERM with 5 streams open: exited $IT_EXIT in $took ms (API_GRACE_S=30)"
    check_eq "exit status" "$IT_EXIT" 0
    check "exited promptly" test "$took" -lt 5000
    for i in 1 2 3 4 5; do
        wait "$(cat "$IT_DIR/s$i.pid")"
        rm -f "$IT_DIR/s$i.pid"
        check_eq "stream $i ended cleanly" "$(tail -n 1 "$IT_DIR/s$i.jsonl")" '{"end": true}'
    done
    check_contains "logged" "$(cat "$IT_DIR/api2.log")" "5 live status streams ended"
}

it_main
