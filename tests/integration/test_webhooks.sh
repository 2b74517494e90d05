#!/usr/bin/env bash
# Webhooks against real PostgreSQL, Redis, the S3 server, the API and
# workers: every state change of a video is sent, signed per Standard
# Webhooks v1, to a receiver started here (tools/webhook_receiver.py), and
# checked by a verifier written here with nothing but Python's hmac,
# hashlib and base64; retries keep their webhook-id, 410 disables an
# endpoint, two dispatchers share the work, a dispatcher killed mid-request
# leaves its claim to pass, and link-local addresses are never contacted.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

TOOLS="$IT_TOP/tests/integration/tools"
CTL="$BIN_DIR/showcasectl"

it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"
# quick jobs: short clips accepted, no cards
export POLICY_MIN_SECONDS=0 POLICY_MIN_SHORT_SIDE=0 TRANSCODE_CARD_MS=0
export WORKER_METRICS_PORT=0 WORKER_TMP_DIR="$IT_DIR/jobs" WORKER_RECONCILE_S=5
export WORKER_HEARTBEAT_MS=500 WORKER_CONCURRENCY=1
if grep -q __asan_init "$BIN_DIR/showcase-transcode"; then export WORKER_MEMORY_MB=0; fi
# a quick dispatcher: retries after 10 ms, 600 ms, 3.6 s, ... (the
# default schedule's ratios); claims of 6 s
export WEBHOOK_POLL_MS=100 WEBHOOK_RETRY_BASE_MS=10 WEBHOOK_TIMEOUT_MS=3000 WEBHOOK_BATCH=5
export API_RATE_LIMITS=0 API_ARGON2_OPS=1 API_ARGON2_MEM_KB=8192
mkdir -p "$WORKER_TMP_DIR"
it_start_api api
API="http://127.0.0.1:$IT_API_PORT"

RPORT=$(sc_free_port)
RLOG="$IT_DIR/received.jsonl"
touch "$RLOG"
sc_daemon receiver "$IT_DIR" "$IT_DIR/receiver.log" /usr/bin/python3 "$TOOLS/webhook_receiver.py" "$RPORT" "$RLOG"
sc_wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$RPORT" || it_fail "the receiver did not start"
RECV="http://127.0.0.1:$RPORT"

it_psql -c "INSERT INTO users (email, password_hash, first_name, last_name, city, country)
            VALUES ('hooks@example.com', 'x', 'Ana', 'Diaz', 'Bogota', 'CO')" >/dev/null

# The verifier, as a receiver would write it: the signature over
# "<webhook-id>.<webhook-timestamp>.<body>" with the secret's key, and a
# timestamp no more than 5 minutes from now.
cat >"$IT_DIR/verify.py" <<'PY'
import base64, hashlib, hmac, json, sys, time

def sign(secret, msg_id, ts, body):
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{ts}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()

def verify(secret, headers, body, tolerance=300):
    """Raise ValueError unless the request is authentic and fresh."""
    msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(ts)) > tolerance:
        raise ValueError(f"timestamp {ts} is more than {tolerance} s away")
    expected = sign(secret, msg_id, ts, body).encode()
    if not any(hmac.compare_digest(s.encode(), expected)
               for s in headers["webhook-signature"].split()):
        raise ValueError("no valid signature")

mode, secret, log, path = sys.argv[1:5]
reqs = [r for r in map(json.loads, open(log)) if r["path"] == path]
if not reqs:
    sys.exit(f"no request at {path}")
if mode == "check":	# each request: valid; print id, type, video, version
    for r in reqs:
        verify(secret, r["headers"], r["body"])
        p = json.loads(r["body"])
        print(r["headers"]["webhook-id"], p["type"], p["data"]["video_id"], p["data"]["version"])
elif mode == "forge":	# the first request, changed: each change is refused
    h, body = dict(reqs[0]["headers"]), reqs[0]["body"]
    verify(secret, h, body)
    for what, hh, bb in [
            ("tampered body", h, body.replace('"version":', '"version":1')),
            ("timestamp 10 minutes old", dict(h, **{
                "webhook-timestamp": str(int(h["webhook-timestamp"]) - 600),
                "webhook-signature": sign(secret, h["webhook-id"],
                                          int(h["webhook-timestamp"]) - 600, body)}), body)]:
        try:
            verify(secret, hh, bb)
            sys.exit(f"{what}: accepted")
        except ValueError as e:
            print(f"{what}: rejected ({e})")
PY

# --- helpers -------------------------------------------------------------

# add_endpoint URL: an endpoint for every event type; prints its id
add_endpoint() {
    local out secret
    if ! out=$("$CTL" webhooks add "$1" 2>&1); then
        case $out in
        *"unknown command"*)
            # showcasectl webhooks is not there: the row by hand
            echo "    (no 'showcasectl webhooks add': endpoint inserted with psql)" >&2
            secret=$(/usr/bin/python3 -c 'import base64, os; print("whsec_" + base64.b64encode(os.urandom(24)).decode())')
            it_psql -c "INSERT INTO webhook_endpoints (url, secret) VALUES ('$1', '$secret')" >/dev/null ;;
        *) it_fail "showcasectl webhooks add $1: $out" ;;
        esac
    fi
    it_psql -c "SELECT id FROM webhook_endpoints WHERE url = '$1' ORDER BY id DESC LIMIT 1"
}
secret_of() { it_psql -c "SELECT secret FROM webhook_endpoints WHERE id = $1"; }
# endpoints end with their test: later events go to later endpoints only
drop_endpoints() { it_psql -c "DELETE FROM webhook_endpoints" >/dev/null; }

# new_videos N TITLE: N videos inserted as failed, a video.failed event each
new_videos() {
    it_psql -c "INSERT INTO videos (user_id, title, original_key, status, error_code, error_message)
                SELECT (SELECT id FROM users WHERE email = 'hooks@example.com'),
                       '$2 ' || g, 'none', 'failed', 'test', 'made by the test'
                FROM generate_series(1, $1) g RETURNING id"
}

# received PATH [JQ]: what the receiver got at PATH, one line a request
received() { jq -r --arg p "$1" "select(.path == \$p) | ${2:-.headers[\"webhook-id\"]}" "$RLOG"; }
got_one() { [ -n "$(received "$1")" ]; }

deliveries() { it_psql -c "SELECT $2 FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY event_id"; }

# --- tests ---------------------------------------------------------------

# the first dispatcher, with /metrics, runs through the tests
MPORT=$(sc_free_port)
it_start_worker_bg w1 WORKER_METRICS_PORT="$MPORT"

test_an_upload_sends_its_three_events_signed() {
    local ep tok id out line
    ep=$(add_endpoint "$RECV/ok/upload")
    curl -s -o /dev/null -H 'Content-Type: application/json' "$API/api/auth/signup" --data-binary \
        '{"first_name":"Ana","last_name":"Diaz","email":"up@example.com","password1":"secret123","password2":"secret123","city":"Cali","country":"CO"}'
    tok=$(curl -s -H 'Content-Type: application/json' "$API/api/auth/login" \
        --data-binary '{"email":"up@example.com","password":"secret123"}' | jq -r .access_token)
    ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=320x180:r=15:d=2 -c:v libx264 \
        -preset ultrafast "$IT_DIR/clip.mp4" || it_fail "fixture"
    id=$(curl -s -H "Authorization: Bearer $tok" -F "video_file=@$IT_DIR/clip.mp4;type=video/mp4" \
        -F title=Hooked "$API/api/videos/upload" | jq -r .video_id)
    check "uploaded" test -n "$id"
    it_wait_sql "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $ep AND state = 'delivered'" 3 90 ||
        it_fail "three deliveries: $(deliveries "$ep" "state, last_error")"
    out=$(/usr/bin/python3 "$IT_DIR/verify.py" check "$(secret_of "$ep")" "$RLOG" /ok/upload 2>&1)
    check "each signature valid and fresh" test $? = 0
    while IFS= read -r line; do echo "    received: $line"; done <<<"$out"
    check_eq "the video's events in version order" "$(awk -v id="$id" '$3 == id {print $4, $2}' <<<"$out" | sort -n | xargs)" \
        "1 video.uploaded 2 video.processing 3 video.processed"
    check_eq "webhook-id is evt_<event id>" "$(awk '{print $1}' <<<"$out" | sort | xargs)" \
        "$(it_psql -c "SELECT 'evt_' || id FROM events WHERE video_id = '$id'" | sort | xargs)"
    check_eq "user agent" "$(received /ok/upload '.headers["user-agent"]' | sort -u)" "Showcase-Webhooks/1"
    check_eq "content type" "$(received /ok/upload '.headers["content-type"]' | sort -u)" "application/json"
    check "payload timestamp is the event's, RFC 3339 UTC" bash -c "[ \"\$(jq -r --arg p /ok/upload 'select(.path == \$p) | .body | fromjson | .timestamp' '$RLOG' | grep -cE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$')\" = 3 ]"
    out=$(/usr/bin/python3 "$IT_DIR/verify.py" forge "$(secret_of "$ep")" "$RLOG" /ok/upload 2>&1)
    check "the verifier can say no" test $? = 0
    check_contains "tampered body" "$out" "tampered body: rejected (no valid signature)"
    check_contains "old timestamp" "$out" "timestamp 10 minutes old: rejected"
    check_eq "one attempt each" "$(deliveries "$ep" "attempts || ' ' || last_status" | sort -u)" "1 200"
    out=$(curl -s "http://127.0.0.1:$MPORT/metrics")
    check_contains "delivered counter" "$out" 'showcase_webhook_deliveries_total{outcome="delivered"} 3'
    check_contains "pending gauge" "$out" "showcase_webhook_pending 0"
    check_contains "oldest gauge" "$out" "showcase_webhook_oldest_pending_seconds 0.000"
    check_eq "one log line per outcome" "$(grep -c "to endpoint $ep delivered" "$IT_DIR/w1.log")" 3
    drop_endpoints
}

test_retries_keep_the_webhook_id_until_accepted() {
    local ep id ids
    ep=$(add_endpoint "$RECV/flaky/3/a")
    id=$(new_videos 1 flaky)
    it_wait_sql "SELECT state FROM webhook_deliveries WHERE endpoint_id = $ep" delivered 30 ||
        it_fail "delivered: $(deliveries "$ep" "state, attempts, last_error")"
    ids=$(received /flaky/3/a)
    check_eq "four attempts, one webhook-id" "$(sort -u <<<"$ids") x$(wc -l <<<"$ids")" \
        "evt_$(it_psql -c "SELECT id FROM events WHERE video_id = '$id'") x4"
    check "each attempt signed" /usr/bin/python3 "$IT_DIR/verify.py" check "$(secret_of "$ep")" "$RLOG" /flaky/3/a
    check_eq "the delivery" "$(deliveries "$ep" "state || ' ' || attempts || ' ' || last_status")" "delivered 4 200"
    check_eq "three retries logged" "$(grep -c "to endpoint $ep: attempt [123] failed (the receiver answered 500)" "$IT_DIR/w1.log")" 3
    echo "    attempts at +$(received /flaky/3/a .t | awk 'NR == 1 {t0 = $1} {printf "%.2fs ", $1 - t0}')"
    drop_endpoints
}

test_410_disables_the_endpoint() {
    local ep
    ep=$(add_endpoint "$RECV/gone/b")
    new_videos 3 gone >/dev/null	# one commit: three due at once
    it_wait_sql "SELECT enabled FROM webhook_endpoints WHERE id = $ep" f 15 || it_fail "not disabled"
    check_contains "the reason" "$(it_psql -c "SELECT disabled_reason FROM webhook_endpoints WHERE id = $ep")" \
        "the receiver answered 410 Gone at "
    it_wait_sql "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $ep AND state = 'failed'" 3 10 ||
        it_fail "each delivery failed: $(deliveries "$ep" "state, last_error")"
    check_eq "one answered 410" "$(deliveries "$ep" "last_status" | grep -c 410)" 1
    new_videos 2 after >/dev/null
    sleep 1
    check_eq "one request only" "$(received /gone/b | wc -l)" 1
    check_eq "no delivery for later events" \
        "$(it_psql -c "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $ep")" 3
    drop_endpoints
}

test_two_dispatchers_deliver_100_events_at_least_once() {
    local ep n dups
    new_videos 100 many >/dev/null	# before the endpoint: no delivery yet
    ep=$(add_endpoint "$RECV/ok/many")
    it_start_worker_bg w2
    SC_WAIT=10 sc_wait_for grep -q "webhook dispatcher started" "$IT_DIR/w2.log" || it_fail "w2 did not start"
    # 100 status updates, 100 events
    it_psql -c "UPDATE videos SET status = 'processed', processed_key = 'p', processed_at = now()
                WHERE title LIKE 'many %'" >/dev/null
    it_wait_sql "SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $ep AND state = 'delivered'" 100 30 ||
        it_fail "100 delivered: $(deliveries "$ep" "state" | sort | uniq -c | xargs)"
    n=$(received /ok/many | sort -u | wc -l)
    dups=$(( $(received /ok/many | wc -l) - n ))
    echo "    100 events: $n received, $dups duplicates;" \
        "w1 delivered $(grep -c "to endpoint $ep delivered" "$IT_DIR/w1.log"), w2 $(grep -c "to endpoint $ep delivered" "$IT_DIR/w2.log")"
    check_eq "each event received" "$n" 100
    check_eq "none more than twice" "$(received /ok/many | sort | uniq -c | awk '$1 > 2' | wc -l)" 0
    check "w1 delivered some" grep -q "to endpoint $ep delivered" "$IT_DIR/w1.log"
    check "w2 delivered some" grep -q "to endpoint $ep delivered" "$IT_DIR/w2.log"
    it_stop_wait "$IT_DIR/w2.pid"
    check_eq "w2 exit status" "$IT_EXIT" 0
    drop_endpoints
}

test_a_claim_of_a_killed_dispatcher_passes() {
    local ep start t ev
    start=$SECONDS
    it_stop_wait "$IT_DIR/w1.pid"
    check_eq "w1 exit status" "$IT_EXIT" 0
    check "w1 stopped promptly" test $((SECONDS - start)) -le 5
    check_contains "its dispatcher stopped" "$(cat "$IT_DIR/w1.log")" "webhook dispatcher stopped"
    # the receiver holds each request 2 s; the claim lasts 6 s
    ep=$(add_endpoint "$RECV/slow/2/k")
    it_start_worker_bg victim
    new_videos 1 killed >/dev/null
    SC_WAIT=15 sc_wait_for got_one /slow/2/k || it_fail "no request"
    kill -KILL "$(cat "$IT_DIR/victim.pid")"
    { wait "$(cat "$IT_DIR/victim.pid")"; } 2>/dev/null
    rm -f "$IT_DIR/victim.pid"
    check_eq "still pending, no outcome" "$(deliveries "$ep" "state || ' ' || attempts")" "pending 0"
    it_start_worker_bg w1 WORKER_METRICS_PORT="$MPORT"
    it_wait_sql "SELECT state FROM webhook_deliveries WHERE endpoint_id = $ep" delivered 20 ||
        it_fail "delivered later: $(deliveries "$ep" "state, attempts, last_error")"
    ev=$(received /slow/2/k | sort -u)
    check_eq "sent twice, same webhook-id" "$(received /slow/2/k | wc -l) $(wc -l <<<"$ev")" "2 1"
    t=$(received /slow/2/k .t | awk 'NR == 1 {t0 = $1} END {printf "%d", $1 - t0}')
    echo "    the second dispatcher sent it ${t}s after the first"
    check "only once the claim had passed" test "$t" -ge 5
    check_eq "recorded once" "$(deliveries "$ep" "state || ' ' || attempts")" "delivered 1"
    drop_endpoints
}

test_sigterm_mid_request_hands_the_delivery_back() {
    local ep start
    it_stop_wait "$IT_DIR/w1.pid"
    ep=$(add_endpoint "$RECV/slow/2/t")
    it_start_worker_bg term
    new_videos 1 term >/dev/null
    SC_WAIT=15 sc_wait_for got_one /slow/2/t || it_fail "no request"
    start=$(date +%s%N)
    it_stop_wait "$IT_DIR/term.pid"
    check_eq "exit status" "$IT_EXIT" 0
    check "stopped without waiting for the answer" test $(( ($(date +%s%N) - start) / 1000000 )) -lt 1500
    check_contains "logged" "$(cat "$IT_DIR/term.log")" "abandoned (stopping): due again at once"
    check_eq "due again, no attempt counted" "$(deliveries "$ep" "state || ' ' || attempts || ' ' || (next_at <= now())")" "pending 0 true"
    it_start_worker_bg w1 WORKER_METRICS_PORT="$MPORT"
    it_wait_sql "SELECT state FROM webhook_deliveries WHERE endpoint_id = $ep" delivered 10 ||
        it_fail "delivered by the next: $(deliveries "$ep" "state, attempts, last_error")"
    drop_endpoints
}

test_link_local_addresses_are_never_contacted() {
    local ep err
    ep=$(add_endpoint "http://169.254.169.254/latest/meta-data/")
    new_videos 1 metadata >/dev/null
    it_wait_sql "SELECT attempts > 0 FROM webhook_deliveries WHERE endpoint_id = $ep" t 10 || it_fail "no attempt"
    err=$(deliveries "$ep" "last_error")
    check_contains "why" "$err" "not sent: 169.254.169.254 is a link-local address"
    check_eq "no answer" "$(deliveries "$ep" "coalesce(last_status, -1)")" -1
    check_contains "logged" "$(cat "$IT_DIR/w1.log")" "169.254.169.254 is a link-local address"
    drop_endpoints
}

test_old_events_are_deleted_once_done() {
    local old="now() - interval '8 days'"
    it_stop_wait "$IT_DIR/w1.pid"
    # done, pending (not yet due), without deliveries; and a recent done one
    it_psql -c "BEGIN;
        INSERT INTO webhook_endpoints (url, secret) VALUES ('$RECV/ok/keep', 'whsec_AAAA');
        INSERT INTO events (video_id, user_id, type, version, data, created_at)
        SELECT ('aaaaaaaa-0000-0000-0000-00000000000' || g)::uuid, 1, 'video.failed', 1, '{}',
               CASE WHEN g = 4 THEN now() ELSE $old END FROM generate_series(1, 4) g;
        UPDATE webhook_deliveries SET state = 'delivered' WHERE event_id IN
            (SELECT id FROM events WHERE video_id::text LIKE 'aaaaaaaa-%' AND right(video_id::text, 1) IN ('1', '4'));
        UPDATE webhook_deliveries SET next_at = now() + interval '1 day' WHERE event_id =
            (SELECT id FROM events WHERE video_id = 'aaaaaaaa-0000-0000-0000-000000000002');
        DELETE FROM webhook_deliveries WHERE event_id =
            (SELECT id FROM events WHERE video_id = 'aaaaaaaa-0000-0000-0000-000000000003');
        COMMIT;" >/dev/null
    it_start_worker_bg w1 WORKER_METRICS_PORT="$MPORT"
    SC_WAIT=10 sc_wait_for grep -q "deleted 2 events older than 7 days" "$IT_DIR/w1.log" ||
        it_fail "retention at start: $(grep -i event "$IT_DIR/w1.log" | tail -n 3)"
    check_eq "kept: the pending one and the recent one" \
        "$(it_psql -c "SELECT right(video_id::text, 1) FROM events WHERE video_id::text LIKE 'aaaaaaaa-%' ORDER BY 1" | xargs)" "2 4"
    drop_endpoints
    it_stop_wait "$IT_DIR/w1.pid"
}

it_main
