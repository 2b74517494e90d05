#!/usr/bin/env bash
# The API at its edges, against real PostgreSQL, Redis and the S3 server:
# clients that trickle, refused bodies, per-player and slot limits,
# SIGTERM with an upload in flight, S3 addressing chosen from the
# endpoint, readiness without details, /metrics on its own address, the
# access log's fields.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

CTL="$BIN_DIR/showcasectl"
TOOLS="$IT_TOP/tests/integration/tools"

it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"
# cheap hashes: the tests log in often
export API_ARGON2_OPS=1 API_ARGON2_MEM_KB=8192
it_start_api api
MAIN_PORT=$IT_API_PORT
API="http://127.0.0.1:$MAIN_PORT"
FX="$IT_DIR/fx"
mkdir -p "$FX"

# --- helpers -------------------------------------------------------------

# signup_token EMAIL [BASE_URL]: a new player, logged in; prints the token
signup_token() {
    local base=${2:-$API}
    curl -s -o /dev/null -H 'Content-Type: application/json' "$base/api/auth/signup" --data-binary \
        "{\"first_name\":\"Ana\",\"last_name\":\"Diaz\",\"email\":\"$1\",\"password1\":\"secret123\",\"password2\":\"secret123\",\"city\":\"Cali\",\"country\":\"CO\"}"
    curl -s -H 'Content-Type: application/json' "$base/api/auth/login" --data-binary \
        "{\"email\":\"$1\",\"password\":\"secret123\"}" | jq -r .access_token
}

# metric BASE_URL NAME: the value of an unlabelled metric
metric() { curl -s "$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'; }

# wait_metric BASE_URL NAME VALUE [SECONDS]
wait_metric() {
    SC_WAIT=${4:-15} sc_wait_for bash -c "curl -s '$1/metrics' | grep -qx '$2 $3'"
}

# access_line LOG REQUEST_ID: the access-log line of a request
access_line() { grep "\"request_id\":\"$2\"" "$1" | grep '"route":' | tail -n 1; }

# fake_video FILE MIB: MIB MiB of random bytes that start with an ftyp box
fake_video() {
    head -c $(($2 * 1024 * 1024)) /dev/urandom >"$1"
    printf '\0\0\0\x20ftypisom' | dd of="$1" conv=notrunc status=none
}

ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=320x240:r=15:d=1 -c:v libx264 -preset ultrafast \
    "$FX/clip.mp4" || it_fail "fixture"

# --- slow clients ----------------------------------------------------------

# Eight players trickle a byte every 2 s into all eight upload slots; each
# is cut once below the minimum rate (after a 5 s grace), and an upload
# that came meanwhile and waited for a slot is stored.
test_trickling_uploads_are_cut_and_others_are_served() {
    local i port toks=() pids=() out normal slowest
    API_MIN_RATE_GRACE_S=5 API_UPLOAD_SLOTS=8 it_start_api api-slow || return
    port=$IT_API_PORT
    IT_API_PORT=$MAIN_PORT
    for i in 1 2 3 4 5 6 7 8 9; do
        toks[i]=$(signup_token "trickle$i@example.com" "http://127.0.0.1:$port")
    done
    for i in 1 2 3 4 5 6 7 8; do
        /usr/bin/python3 "$TOOLS/trickle.py" "$port" "${toks[i]}" 2 40 >"$IT_DIR/trickle.$i" 2>&1 &
        pids+=($!)
    done
    check "the eight take every slot" wait_metric "http://127.0.0.1:$port" showcase_api_upload_slots_used 8
    curl -s -o "$IT_DIR/normal.out" -w '%{http_code}' -H "Authorization: Bearer ${toks[9]}" \
        -F "video_file=@$FX/clip.mp4" -F title=normal "http://127.0.0.1:$port/api/videos/upload" \
        >"$IT_DIR/normal.code" &
    normal=$!
    check "a normal upload waits for a slot" wait_metric "http://127.0.0.1:$port" showcase_api_uploads_waiting 1
    wait "${pids[@]}"
    out=$(cat "$IT_DIR"/trickle.*)
    check_eq "every trickler cut" "$(grep -c '^closed after' <<<"$out")" 8
    slowest=$(awk '/^closed after/ { if ($3 > m) m = $3 } END { print m + 0 }' <<<"$out")
    check "cut within 20 s (the last after $slowest s)" awk -v s="$slowest" 'BEGIN { exit !(s < 20) }'
    wait "$normal"
    check_eq "the upload that waited is stored" "$(cat "$IT_DIR/normal.code")" 201
    check_eq "408 recorded for each" \
        "$(grep -c '"route":"/api/videos/upload".*"status":408' "$IT_DIR/api-slow.log")" 8
    check_contains "the reason logged" "$(cat "$IT_DIR/api-slow.log")" "below the minimum rate of 16384 bytes/s"
    check_eq "counted" "$(metric "http://127.0.0.1:$port" 'showcase_api_bodies_cut_total{reason="slow"}')" 8
    sc_stop_pidfile "$IT_DIR/api-slow.pid"
}

# A refused upload's body is read only briefly: 100 MB without a token is
# answered at once (curl asks with Expect: 100-continue), and one streamed
# without a length nor Expect is read up to the drain cap and cut.
test_refused_upload_is_answered_without_its_body() {
    local out code sent secs line
    truncate -s 100M "$FX/huge.mp4"
    printf '\0\0\0\x20ftypisom' | dd of="$FX/huge.mp4" conv=notrunc status=none
    out=$(curl -s -o "$IT_DIR/huge.out" -w '%{http_code} %{size_upload} %{time_total}' --max-time 60 \
        -F "video_file=@$FX/huge.mp4" -F title=x "$API/api/videos/upload")
    read -r code sent secs <<<"$out"
    check_eq "answered" "$code $(jq -r .error "$IT_DIR/huge.out")" "401 unauthorized"
    check "body bytes sent: $sent, at most 2 MiB" test "${sent%.*}" -le 2097152
    check "answered in $secs s, under 5" awk -v s="$secs" 'BEGIN { exit !(s < 5) }'
    out=$(curl -s -o /dev/null -w '%{size_upload} %{time_total}' --max-time 60 -H 'X-Request-Id: drain-cut-1' \
        -H 'Transfer-Encoding: chunked' -H 'Expect:' \
        -F "video_file=@$FX/huge.mp4" -F title=x "$API/api/videos/upload")
    read -r sent secs <<<"$out"
    check "cut in $secs s, under 10" awk -v s="$secs" 'BEGIN { exit !(s < 10) }'
    check "the client got to send $sent bytes, far from 100 MB" test "${sent%.*}" -lt 50000000
    line=$(access_line "$IT_DIR/api.log" drain-cut-1)
    check_eq "the answer is recorded" "$(jq -r .status <<<"$line")" 401
    check "read at most the drain cap (bytes_in $(jq -r .bytes_in <<<"$line"))" \
        test "$(jq -r .bytes_in <<<"$line")" -le $((2 * 1024 * 1024 + 65536))
    check_contains "logged" "$(cat "$IT_DIR/api.log")" "a refused body past 2097152 bytes"
}

# --- limits on uploads -----------------------------------------------------

test_third_concurrent_upload_by_one_player_is_429() {
    local tok one two out hdrs i
    tok=$(signup_token three@example.com)
    fake_video "$FX/four.mp4" 4
    for i in one two; do
        curl -s -o /dev/null --limit-rate 256K -H "Authorization: Bearer $tok" \
            -F "video_file=@$FX/four.mp4" -F "title=$i" "$API/api/videos/upload" &
        if [ $i = one ]; then one=$!; else two=$!; fi
    done
    check "two uploads in flight" wait_metric "$API" showcase_api_uploads_in_flight 2
    out=$(curl -s -D "$IT_DIR/third.hdrs" -w '\n%{http_code}' -H "Authorization: Bearer $tok" \
        -F "video_file=@$FX/clip.mp4" -F title=third "$API/api/videos/upload")
    hdrs=$(tr -d '\r' <"$IT_DIR/third.hdrs")
    check_eq "third" "$(tail -n1 <<<"$out")" 429
    check_eq "its error" "$(sed '$d' <<<"$out" | jq -r .error)" too_many_uploads
    check_contains "its message" "$(sed '$d' <<<"$out" | jq -r .message)" "2 uploads at once"
    check_contains "Retry-After" "$hdrs" "Retry-After: "
    check_eq "another player is not limited" "$(curl -s -o /dev/null -w '%{http_code}' \
        -H "Authorization: Bearer $(signup_token other3@example.com)" \
        -F "video_file=@$FX/clip.mp4" -F title=other "$API/api/videos/upload")" 201
    kill "$one" "$two" 2>/dev/null
    wait "$one" "$two" 2>/dev/null
    check "the two are given back" wait_metric "$API" showcase_api_uploads_in_flight 0
    check_eq "the player uploads again" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
        -F "video_file=@$FX/clip.mp4" -F title=again "$API/api/videos/upload")" 201
}

test_waiting_upload_gives_up_with_503() {
    local tok port first out hdrs
    API_UPLOAD_SLOTS=1 API_UPLOAD_WAIT_S=2 it_start_api api-wait || return
    port=$IT_API_PORT
    IT_API_PORT=$MAIN_PORT
    tok=$(signup_token waiter@example.com "http://127.0.0.1:$port")
    fake_video "$FX/four.mp4" 4
    curl -s -o /dev/null --limit-rate 512K -H "Authorization: Bearer $tok" \
        -F "video_file=@$FX/four.mp4" -F title=first "http://127.0.0.1:$port/api/videos/upload" &
    first=$!
    check "the first holds the slot" wait_metric "http://127.0.0.1:$port" showcase_api_upload_slots_used 1
    out=$(curl -s -D "$IT_DIR/wait.hdrs" -w '\n%{http_code} %{time_total}' -H "Authorization: Bearer $tok" \
        -F "video_file=@$FX/clip.mp4" -F title=second "http://127.0.0.1:$port/api/videos/upload")
    hdrs=$(tr -d '\r' <"$IT_DIR/wait.hdrs")
    check_eq "the second gives up" "$(tail -n1 <<<"$out" | cut -d' ' -f1)" 503
    check "after about 2 s ($(tail -n1 <<<"$out" | cut -d' ' -f2))" \
        awk -v s="$(tail -n1 <<<"$out" | cut -d' ' -f2)" 'BEGIN { exit !(s >= 1.5 && s < 6) }'
    check_contains "its message" "$(sed '$d' <<<"$out" | jq -r .message)" "upload slot"
    check_contains "Retry-After" "$hdrs" "Retry-After: "
    kill "$first" 2>/dev/null
    wait "$first" 2>/dev/null
    sc_stop_pidfile "$IT_DIR/api-wait.pid"
}

# --- shutdown ----------------------------------------------------------------

test_sigterm_lets_an_upload_in_flight_finish() {
    local tok port pid up id
    API_GRACE_S=60 it_start_api api-term || return
    port=$IT_API_PORT
    IT_API_PORT=$MAIN_PORT
    pid=$(cat "$IT_DIR/api-term.pid")
    tok=$(signup_token term@example.com "http://127.0.0.1:$port")
    fake_video "$FX/fifty.mp4" 50
    # 50 MiB at 8 MiB/s: about 6 s, far above the minimum rate
    curl -s -o "$IT_DIR/term.out" -w '%{http_code}' --limit-rate 8M -H "Authorization: Bearer $tok" \
        -F "video_file=@$FX/fifty.mp4" -F title=fifty "http://127.0.0.1:$port/api/videos/upload" \
        >"$IT_DIR/term.code" &
    up=$!
    check "the upload is streaming" wait_metric "http://127.0.0.1:$port" showcase_api_upload_slots_used 1
    # a keep-alive client asks once before SIGTERM and once after
    /usr/bin/python3 - "$port" >"$IT_DIR/keepalive.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
def ask():
    s.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}"):
        data += s.recv(4096)
    head = data.split(b"\r\n\r\n")[0].decode().lower()
    return "close" if "connection: close" in head else "keep-alive"
print(ask())
time.sleep(3)
print(ask())
PY
    local keep=$!
    sleep 1
    kill -TERM "$pid"
    SC_WAIT=3 check "new connections are refused at once" \
        sc_wait_for bash -c "! curl -s -o /dev/null http://127.0.0.1:$port/health/live"
    check "the upload is still running" kill -0 "$up"
    wait "$keep"
    check_eq "keep-alive before, Connection: close after" "$(xargs <"$IT_DIR/keepalive.out")" "keep-alive close"
    wait "$up"
    check_eq "the upload completes" "$(cat "$IT_DIR/term.code")" 201
    id=$(jq -r .video_id "$IT_DIR/term.out")
    check_eq "and is stored" "$(it_psql -c "SELECT status FROM videos WHERE id = '$id'")" uploaded
    wait "$pid"
    check_eq "the API exits 0" "$?" 0
    rm -f "$IT_DIR/api-term.pid"
    check_contains "logged" "$(cat "$IT_DIR/api-term.log")" "1 request in flight"
}

# --- S3 addressing -------------------------------------------------------------

test_s3_ip_endpoint_is_path_style_without_configuration() {
    local saved=$S3_FORCE_PATH_STYLE tok out rc
    unset S3_FORCE_PATH_STYLE
    it_start_api api-auto
    rc=$?
    export S3_FORCE_PATH_STYLE=$saved
    [ "$rc" = 0 ] || return
    tok=$(signup_token auto@example.com "http://127.0.0.1:$IT_API_PORT")
    out=$(curl -s -w '\n%{http_code}' -H "Authorization: Bearer $tok" -F "video_file=@$FX/clip.mp4" \
        -F title=auto "http://127.0.0.1:$IT_API_PORT/api/videos/upload")
    check_eq "upload with S3_FORCE_PATH_STYLE unset" "$(tail -n1 <<<"$out")" 201
    check "the object is there" env -u S3_FORCE_PATH_STYLE "$CTL" s3 head \
        "originals/$(sed '$d' <<<"$out" | jq -r .video_id)/source.mp4"
    check_eq "ready" "$(curl -s "http://127.0.0.1:$IT_API_PORT/health/ready" | jq -r .status)" ready
    sc_stop_pidfile "$IT_DIR/api-auto.pid"
    IT_API_PORT=$MAIN_PORT
    # virtual-hosted forced on an IP address cannot work: refused at start-up
    out=$(S3_FORCE_PATH_STYLE=0 API_PORT=1 timeout 10 "$BIN_DIR/showcase-api" 2>&1)
    check_eq "exit status" "$?" 2
    check_contains "the message names the variables" "$out" "S3_FORCE_PATH_STYLE, S3_ENDPOINT:"
    check_contains "and says why" "$out" "127.0.0.1 is an IP address"
    out=$(S3_FORCE_PATH_STYLE=0 timeout 10 "$CTL" s3 head x 2>&1)
    check_eq "showcasectl too" "$?" 2
}

# --- health and metrics ----------------------------------------------------------

test_readiness_names_dependencies_without_details() {
    local out
    out=$(curl -s -w '\n%{http_code}' "$API/health/ready")
    check_eq "ready" "$(tail -n1 <<<"$out")" 200
    check_eq "by name" "$(sed '$d' <<<"$out" | jq -c .)" \
        '{"status":"ready","checks":{"postgres":"ok","redis":"ok","s3":"ok"}}'
    sc_s3_stop "$IT_DIR/s3"
    out=$(curl -s -w '\n%{http_code}' "$API/health/ready")
    check_eq "s3 down: 503" "$(tail -n1 <<<"$out")" 503
    check_eq "s3 down: by name" "$(sed '$d' <<<"$out" | jq -c .)" \
        '{"status":"not_ready","checks":{"postgres":"ok","redis":"ok","s3":"down"}}'
    check_eq "/health says the same" "$(curl -s "$API/health" | jq -r .checks.s3)" down
    check_eq "liveness does not look at dependencies" \
        "$(curl -s -o /dev/null -w '%{http_code}' "$API/health/live")" 200
    check_contains "the detail is logged" "$(grep 'not ready' "$IT_DIR/api.log")" "cannot reach"
    sc_s3_start "$IT_DIR/s3" "$IT_S3_PORT" showcase
    check_eq "ready again" "$(curl -s -o /dev/null -w '%{http_code}' "$API/health/ready")" 200
}

test_metrics_on_their_own_address() {
    local mport port out
    mport=$(sc_free_port)
    API_METRICS_ADDR="127.0.0.1:$mport" it_start_api api-metrics || return
    port=$IT_API_PORT
    IT_API_PORT=$MAIN_PORT
    curl -s -o /dev/null "http://127.0.0.1:$port/api/public/rankings"
    out=$(curl -s -w '\n%{http_code}' "http://127.0.0.1:$mport/metrics")
    check_eq "served on API_METRICS_ADDR" "$(tail -n1 <<<"$out")" 200
    check_contains "the counters" "$out" 'showcase_api_requests_total{class="2xx"}'
    check_contains "latency by route" "$out" \
        'showcase_api_request_duration_seconds_count{route="/api/public/rankings",method="GET"} 1'
    check_eq "not on the main port" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")" 404
    check_eq "nothing else on the metrics port" \
        "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/api/public/rankings")" 404
    sc_stop_pidfile "$IT_DIR/api-metrics.pid"
}

test_latency_histograms_by_route_template() {
    local tok out
    tok=$(signup_token hist@example.com)
    curl -s -o /dev/null -H "Authorization: Bearer $tok" "$API/api/videos/00000000-0000-4000-8000-000000000000"
    curl -s -o /dev/null "$API/nowhere/at/all"
    out=$(curl -s "$API/metrics")
    check_contains "a histogram" "$out" "# TYPE showcase_api_request_duration_seconds histogram"
    check_contains "by template, not raw path" "$out" \
        'showcase_api_request_duration_seconds_bucket{route="/api/videos/{}",method="GET",le="+Inf"} 1'
    check_contains "its sum" "$out" 'showcase_api_request_duration_seconds_sum{route="/api/videos/{}",method="GET"}'
    check_contains "unmatched paths in one series" "$out" \
        'showcase_api_request_duration_seconds_count{route="unmatched",method="GET"} 1'
    check_eq "no raw path" "$(grep -c nowhere <<<"$out")" 0
}

test_access_log_line_has_its_fields() {
    local tok uid line
    tok=$(signup_token logged@example.com)
    uid=$(it_psql -c "SELECT id FROM users WHERE email = 'logged@example.com'")
    curl -s -o /dev/null -H 'X-Request-Id: edge-log-1' -H "Authorization: Bearer $tok" \
        "$API/api/videos/00000000-0000-4000-8000-000000000000"
    line=$(access_line "$IT_DIR/api.log" edge-log-1)
    check_eq "fields" "$(jq -c '{client, user_id, method, route, status, bytes_in}' <<<"$line")" \
        "{\"client\":\"127.0.0.1\",\"user_id\":$uid,\"method\":\"GET\",\"route\":\"/api/videos/{}\",\"status\":404,\"bytes_in\":0}"
    check "bytes out" test "$(jq -r .bytes_out <<<"$line")" -gt 0
    check "duration" test "$(jq -r '.duration_ms | type' <<<"$line")" = number
    curl -s -o /dev/null -H 'X-Request-Id: edge-log-2' -H 'Content-Type: application/json' \
        --data-binary '{"email":"logged@example.com","password":"wrong1234"}' "$API/api/auth/login"
    line=$(access_line "$IT_DIR/api.log" edge-log-2)
    check_eq "a body counted, anonymous" "$(jq -c '{user_id, route, status, bytes_in}' <<<"$line")" \
        '{"user_id":0,"route":"/api/auth/login","status":401,"bytes_in":53}'
}

it_main
