#!/usr/bin/env bash
# The API while a dependency stalls (issue 14: no request waits on another
# request's I/O).  An S3 that holds every request 10 s delays the uploads
# stuck in it and nothing else; a PostgreSQL that stops answering
# (SIGSTOP) fails the requests that need it within the statement deadline
# with 503, while liveness and cached rankings go on; both recover.  The
# latencies are printed; the one bound checked besides generous ceilings
# is the p99 of unrelated requests while S3 stalls.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

CTL="$BIN_DIR/showcasectl"
TOOLS="$IT_TOP/tests/integration/tools"

it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"
# cheap hashes: the point here is waiting, not hashing (benchmarked instead)
export API_ARGON2_OPS=1 API_ARGON2_MEM_KB=8192
# the probes log in over and over from one address: the contest's rate
# limits (test_limits.sh) would refuse them
export API_RATE_LIMITS=0
FX="$IT_DIR/fx"
mkdir -p "$FX"

# account API EMAIL: sign up (password secret123), log in, print the token
account() {
    curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary \
        "{\"first_name\":\"Ana\",\"last_name\":\"Diaz\",\"email\":\"$2\",\"password1\":\"secret123\",\"password2\":\"secret123\",\"city\":\"Cali\",\"country\":\"CO\"}" \
        "$1/api/auth/signup"
    curl -s -H 'Content-Type: application/json' --data-binary \
        "{\"email\":\"$2\",\"password\":\"secret123\"}" "$1/api/auth/login" | jq -r .access_token
}

# probe_line JSON: the figures of a latency_probe.py run, in words
probe_line() {
    jq -r '"\(.ok)/\(.sent) answered 200; p50 \(.p50_ms) ms, p99 \(.p99_ms) ms, max \(.max_ms) ms (" +
        ([.by_path | to_entries[] | "\(.key) p99 \(.value.p99_ms)"] | join(", ")) + ")"' <<<"$1"
}

# --- S3 stalls: only the uploads wait ------------------------------------

test_a_stalled_s3_delays_only_the_uploads() {
    local proxy api tok i out codes probe pids=() toks=()
    proxy=$(sc_free_port)
    /usr/bin/python3 "$TOOLS/s3_proxy.py" "$proxy" "$IT_S3_PORT" "$IT_DIR/stall.requests" \
        --delay-all 10 >"$IT_DIR/stall.log" 2>&1 &
    echo $! >"$IT_DIR/stallproxy.pid"
    sc_wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$proxy" || it_fail "the S3 proxy did not start"
    S3_ENDPOINT="http://127.0.0.1:$proxy" API_UPLOAD_SLOTS=8 it_start_api apis3 || return
    api="http://127.0.0.1:$IT_API_PORT"
    tok=$(account "$api" stall@example.com)
    check "a token" test -n "$tok" -a "$tok" != null
    # eight players, one upload each
    for i in 1 2 3 4 5 6 7 8; do
        toks+=("$(account "$api" "player$i@example.com")")
    done
    # 12 MiB each: three parts of 5 MiB, every S3 request held 10 s
    head -c $((12 * 1024 * 1024)) /dev/urandom >"$FX/mid.mp4"
    printf '\0\0\0\x20ftypisom' | dd of="$FX/mid.mp4" conv=notrunc status=none
    # the first is given up later: bigger than what the sockets buffer
    head -c $((48 * 1024 * 1024)) /dev/urandom >"$FX/big.mp4"
    printf '\0\0\0\x20ftypisom' | dd of="$FX/big.mp4" conv=notrunc status=none
    # the probe's connections are open before anything stalls, spread
    # over the event loops as a load balancer's would be
    /usr/bin/python3 "$TOOLS/latency_probe.py" "$IT_API_PORT" 200 8 stall@example.com secret123 \
        --timeout 60 --ready "$IT_DIR/probe.ready" --go "$IT_DIR/probe.go" >"$IT_DIR/probe.json" &
    probe=$!
    sc_wait_for test -e "$IT_DIR/probe.ready" || it_fail "the probe did not start"
    for i in 1 2 3 4 5 6 7 8; do
        curl -s -o "$IT_DIR/up$i.out" -w '%{http_code}' --max-time 300 -H "Authorization: Bearer ${toks[i - 1]}" \
            -F "video_file=@$FX/$([ "$i" = 1 ] && echo big || echo mid).mp4" -F "title=stuck $i" \
            "$api/api/videos/upload" >"$IT_DIR/up$i.code" &
        pids+=($!)
    done
    SC_WAIT=30 sc_wait_for bash -c "curl -s --max-time 2 '$api/metrics' | grep -q '^showcase_api_upload_slots_used 8'" ||
        it_fail "the 8 uploads did not all start"
    sleep 2	# their first S3 requests are on hold now
    touch "$IT_DIR/probe.go"
    wait "$probe"
    out=$(cat "$IT_DIR/probe.json")
    echo "    while 8 uploads wait on S3: $(probe_line "$out")"
    check_eq "every unrelated request answered 200" "$(jq .ok <<<"$out")" 200
    check "p99 under 250 ms (got $(jq .p99_ms <<<"$out") ms)" jq -e '.p99_ms < 250' <<<"$out"
    codes=$(cat "$IT_DIR"/up*.code)
    check_eq "the uploads were still waiting on S3 meanwhile" "$codes" ""
    # one client gives up: its transfer aborts the S3 upload, on its own
    # thread, once the connection is found closed (when a part is done and
    # it is read again) and S3 holds the abort 10 s too
    # (once S3 has answered every CreateMultipartUpload: an upload given up
    # while its create is still on hold has no upload id to abort, and the
    # bucket's lifecycle rule is what cleans that one up)
    SC_WAIT=60 sc_wait_for bash -c "[ \$(grep -c 'POST /showcase/originals/.*?uploads' '$IT_DIR/stall.requests') -ge 8 ]" ||
        it_fail "S3 never answered the 8 CreateMultipartUpload"
    kill "${pids[0]}"
    wait "${pids[@]:1}"
    codes=$(cat "$IT_DIR"/up[2-8].code | tr -d '\n')
    check_eq "the other 7 stored" "$codes" "201201201201201201201"
    check_eq "7 rows" "$(it_psql -c "SELECT count(*) FROM videos WHERE title LIKE 'stuck %'")" 7
    SC_WAIT=60 sc_wait_for grep -q 'DELETE /showcase/originals/.*uploadId=' "$IT_DIR/stall.requests" ||
        it_fail "the abandoned upload's AbortMultipartUpload never reached S3"
    check_contains "the abandoned upload logged" "$(cat "$IT_DIR/apis3.log")" "abandoned; the S3 upload was aborted"
    it_stop_wait "$IT_DIR/apis3.pid"
    check_eq "the API stops cleanly" "$IT_EXIT" 0
    sc_stop_pidfile "$IT_DIR/stallproxy.pid"
}

# --- PostgreSQL stops answering -----------------------------------------

PG_STOPPED=""

# SIGSTOP the postmaster and every backend (one per connection) and
# helper it forked; pg_cont undoes it and runs on every exit path.
pg_stop() {
    local pm
    pm=$(head -n 1 "$IT_DIR/postgres/data/postmaster.pid")
    PG_STOPPED="$pm $(pgrep -P "$pm" | xargs)"
    # shellcheck disable=SC2086  # a list of pids
    kill -STOP $PG_STOPPED
}
pg_cont() {
    # shellcheck disable=SC2086
    [ -n "$PG_STOPPED" ] && kill -CONT $PG_STOPPED
    PG_STOPPED=""
}

test_a_paused_postgresql_fails_fast_and_recovers() {
    local api tok i t0 out probe recovered=0 pids=() statement_ms=2000
    # a URL with a query string of its own: the keepalive settings are
    # added as connection keywords, not pasted onto it
    DATABASE_URL="$DATABASE_URL?sslmode=disable&connect_timeout=10" \
        DB_STATEMENT_TIMEOUT_MS=$statement_ms API_RANKINGS_CACHE_S=60 it_start_api apipg || return
    api="http://127.0.0.1:$IT_API_PORT"
    tok=$(account "$api" paused@example.com)
    check_eq "the list before" "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" "$api/api/videos")" 200
    check_eq "rankings before (now cached)" "$(curl -s -o /dev/null -w '%{http_code}' "$api/api/public/rankings")" 200
    check_contains "TCP keepalives on the API's PostgreSQL connections" \
        "$(ss -tnop state established "( dport = :$IT_PG_PORT )" | grep "pid=$(cat "$IT_DIR/apipg.pid"),")" \
        "timer:(keepalive"

    /usr/bin/python3 "$TOOLS/latency_probe.py" "$IT_API_PORT" 100 4 - - --timeout 60 \
        --ready "$IT_DIR/pgprobe.ready" --go "$IT_DIR/pgprobe.go" >"$IT_DIR/pgprobe.json" &
    probe=$!
    sc_wait_for test -e "$IT_DIR/pgprobe.ready" || it_fail "the probe did not start"

    trap 'pg_cont; it_cleanup' EXIT
    trap 'pg_cont; exit 143' TERM INT
    pg_stop
    t0=$SECONDS
    # ten requests that need PostgreSQL at once
    for i in 0 1 2 3 4 5 6 7 8 9; do
        curl -s -o "$IT_DIR/pg$i.out" -w '%{http_code} %{time_total}' --max-time 60 \
            -H "Authorization: Bearer $tok" "$api/api/videos" >"$IT_DIR/pg$i.res" &
        pids+=($!)
    done
    # meanwhile: liveness and the cached rankings
    touch "$IT_DIR/pgprobe.go"
    wait "$probe"
    probe=$(cat "$IT_DIR/pgprobe.json")
    echo "    liveness and rankings, PostgreSQL stopped: $(probe_line "$probe")"
    check_eq "all answered 200" "$(jq .ok <<<"$probe")" 100
    check "each within 1 s" jq -e '.max_ms < 1000' <<<"$probe"
    wait "${pids[@]}"
    echo "    GET /api/videos, PostgreSQL stopped (DB_STATEMENT_TIMEOUT_MS=$statement_ms): $(cut -d' ' -f2 "$IT_DIR"/pg*.res | sort -n | xargs | sed 's/ /s, /g')s"
    for i in 0 1 2 3 4 5 6 7 8 9; do
        read -r code secs <"$IT_DIR/pg$i.res"
        check_eq "request $i: 503" "$code" 503
        check "request $i: the error shape" jq -e \
            '.error == "unavailable" and (.message | test("database")) and (.request_id | length > 0)' \
            "$IT_DIR/pg$i.out"
        # a ceiling that tells the deadline from the 20 s stop
        check "request $i: answered by the deadline, not the stop (${secs}s)" \
            awk -v s="$secs" 'BEGIN { exit !(s < 8) }'
    done
    out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 60 -H "Authorization: Bearer $tok" "$api/api/videos")
    echo "    one more, on a new connection: $out s"
    check_eq "again 503" "${out%% *}" 503
    check_contains "logged for the operator" "$(cat "$IT_DIR/apipg.log")" "postgresql query timed out"
    # a full pool sheds load: with 2 I/O threads, 6 requests at once; the
    # ones that wait past API_QUEUE_TIMEOUT_MS get 503 instead of waiting
    # for a thread
    API_WORKERS=2 API_QUEUE_TIMEOUT_MS=300 DB_STATEMENT_TIMEOUT_MS=$statement_ms it_start_api apiq || return
    pids=()
    for i in 0 1 2 3 4 5; do
        curl -s -o "$IT_DIR/q$i.out" -w '%{http_code} %{time_total}' --max-time 60 \
            -H "Authorization: Bearer $tok" "http://127.0.0.1:$IT_API_PORT/api/videos" >"$IT_DIR/q$i.res" &
        pids+=($!)
    done
    wait "${pids[@]}"
    echo "    6 at once on 2 I/O threads: $(for i in 0 1 2 3 4 5; do printf '%s %ss, ' "$(jq -r .message "$IT_DIR/q$i.out")" "$(cut -d' ' -f2 "$IT_DIR/q$i.res")"; done)"
    check_eq "all 503" "$(cut -d' ' -f1 "$IT_DIR"/q*.res | sort -u | xargs)" 503
    check "some refused as busy, without waiting for a thread" grep -l "the server is busy" "$IT_DIR"/q*.out
    check_contains "the pool's log line" "$(cat "$IT_DIR/apiq.log")" "io pool: a request waited"
    it_stop_wait "$IT_DIR/apiq.pid"
    IT_API_PORT=${api##*:}
    sleep $((t0 + 20 - SECONDS > 0 ? t0 + 20 - SECONDS : 0))
    probe=$(/usr/bin/python3 "$TOOLS/latency_probe.py" "$IT_API_PORT" 20 4 - - --timeout 60)
    check_eq "still live after 20 s" "$(jq .ok <<<"$probe")" 20

    pg_cont
    trap it_cleanup EXIT
    trap - TERM INT
    t0=$SECONDS
    for i in $(seq 1 30); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Authorization: Bearer $tok" "$api/api/videos")" = 200 ]; then
            recovered=1
            break
        fi
        sleep 0.5
    done
    echo "    PostgreSQL continued: the list answers 200 again after $((SECONDS - t0)) s"
    check_eq "the list works again" "$recovered" 1
    check "a login works again" test "$(account "$api" after@example.com)" != null
    it_stop_wait "$IT_DIR/apipg.pid"
    check_eq "the API stops cleanly" "$IT_EXIT" 0
}

it_main
