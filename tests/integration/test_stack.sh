#!/usr/bin/env bash
# deploy/local/stack.sh: start brings the whole stack up and ready, a
# second start changes nothing, stop leaves no process behind.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

export SHOWCASE_RUN_DIR="$IT_DIR/stack"
export SHOWCASE_API_PORT SHOWCASE_PG_PORT SHOWCASE_REDIS_PORT SHOWCASE_S3_PORT
SHOWCASE_API_PORT=$(sc_free_port)
SHOWCASE_PG_PORT=$(sc_free_port)
SHOWCASE_REDIS_PORT=$(sc_free_port)
SHOWCASE_S3_PORT=$(sc_free_port)
export SHOWCASE_WORKERS=2
# AddressSanitizer reserves terabytes of address space: no RLIMIT_AS there
if grep -q __asan_init "$BIN_DIR/showcase-transcode"; then export WORKER_MEMORY_MB=0; fi
stack="$IT_TOP/deploy/local/stack.sh"

# The pids of every process the stack started, from its pid files.
stack_pids() {
    cat "$SHOWCASE_RUN_DIR"/*.pid "$SHOWCASE_RUN_DIR"/s3/s3.pid \
        "$SHOWCASE_RUN_DIR"/redis/redis.pid 2>/dev/null
    head -n1 "$SHOWCASE_RUN_DIR"/postgres/data/postmaster.pid 2>/dev/null
}

test_stack_starts_ready() {
    local out
    out=$("$stack" start 2>&1) || { it_fail "start failed"; echo "$out"; return; }
    check "migrations ran" grep -qE 'applied [0-9]+ migrations?' <<<"$out"
    check_eq "six processes" "$(stack_pids | wc -l)" 6
    out=$(curl -s "http://127.0.0.1:$SHOWCASE_API_PORT/health")
    check_eq "ready" "$(jq -r .status <<<"$out")" ready
    check "status succeeds" "$stack" status
    # the portal the API serves may read the bucket with Range (hls.js)
    check_eq "the bucket's CORS names the API's origin" "$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS \
        -H "Origin: http://127.0.0.1:$SHOWCASE_API_PORT" -H 'Access-Control-Request-Method: GET' \
        -H 'Access-Control-Request-Headers: range' "http://127.0.0.1:$SHOWCASE_S3_PORT/showcase/processed/x")" 200
}

test_stack_start_twice_changes_nothing() {
    local before out
    before=$(stack_pids | sort)
    out=$("$stack" start 2>&1) || it_fail "second start failed: $out"
    check_contains "no migration the second time" "$out" "applied 0 migrations"
    check_contains "api reused" "$out" "already running"
    check_eq "same processes" "$(stack_pids | sort)" "$before"
}

# The main job (make demo runs this script): a player through the API, a
# worker, a vote; then again, on the same data.
test_demo_runs_the_main_job() {
    local out i
    for i in 1 2; do
        out=$(BIN_DIR="$BIN_DIR" "$IT_TOP/deploy/local/demo.sh" 2>&1) ||
            { it_fail "demo run $i failed"; tail -n 30 <<<"$out"; return; }
        check_contains "run $i: uploaded" "$out" '"status":"uploaded"'
        check_contains "run $i: processed" "$out" "processed 100%"
        check_contains "run $i: the output" "$out" "codec_name=h264|codec_type=video|width=1280|height=720"
        check_contains "run $i: the URL" "$out" "X-Amz-Signature="
        check_contains "run $i: the report" "$out" '"moov_first": true'
        check_contains "run $i: no vote for one's own video" "$out" '"error":"own_video"'
        check_contains "run $i: the fan's vote" "$out" '"message":"vote counted"'
    done
    check_contains "the second run reuses the account" "$out" "made by an earlier run"
}

test_stack_stop_leaves_nothing_running() {
    local pids pid left=""
    pids=$(stack_pids)
    check "stop succeeds" "$stack" stop
    for pid in $pids; do
        sc_running "$pid" && left="$left $pid"
    done
    check_eq "processes left" "$left" ""
    check "a second stop is harmless" "$stack" stop
    check "status says not running" bash -c "! '$stack' status"
}

it_main
