#!/usr/bin/env bash
# Bad configuration stops every program at start-up with a message that
# names the variable, and a non-zero exit; no server is needed.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

# run_prog OUTFILE PROGRAM [ARGS...] with the environment given before it
run_prog() {
    local out=$1
    shift
    timeout 10 "$@" >"$out" 2>&1
    echo $?
}

test_api_rejects_bad_port() {
    local rc
    rc=$(S3_BUCKET=b API_PORT=80x run_prog "$IT_DIR/out" "$BIN_DIR/showcase-api")
    check_eq "exit status" "$rc" 2
    check_contains "message" "$(cat "$IT_DIR/out")" "API_PORT: must be an integer between 1 and 65535, got '80x'"
}

test_api_requires_bucket() {
    local rc
    rc=$(env -u S3_BUCKET "$(command -v bash)" -c "$(declare -f run_prog); run_prog '$IT_DIR/out' '$BIN_DIR/showcase-api'")
    check_eq "exit status" "$rc" 2
    check_contains "message" "$(cat "$IT_DIR/out")" "S3_BUCKET: required, not set"
}

test_worker_rejects_bad_database_url() {
    local rc
    rc=$(S3_BUCKET=b DATABASE_URL=mysql://root@h/db run_prog "$IT_DIR/out" "$BIN_DIR/showcase-worker")
    check_eq "exit status" "$rc" 2
    check_contains "message" "$(cat "$IT_DIR/out")" "DATABASE_URL: must be a postgresql:// URL"
}

test_worker_rejects_bad_heartbeat_and_level() {
    local rc out
    rc=$(S3_BUCKET=b WORKER_HEARTBEAT_MS=5 LOG_LEVEL=chatty run_prog "$IT_DIR/out" "$BIN_DIR/showcase-worker")
    out=$(cat "$IT_DIR/out")
    check_eq "exit status" "$rc" 2
    check_contains "names the heartbeat" "$out" "WORKER_HEARTBEAT_MS: must be an integer between 200 and 60000, got '5'"
    check_contains "names the level" "$out" "LOG_LEVEL: must be error, warn, info or debug, got 'chatty'"
}

# The transcoder's user is looked up once, at start-up (root only: a worker
# run by another user keeps its own for the transcoder).
test_worker_rejects_unknown_transcode_user() {
    local rc
    if [ "$(id -u)" != 0 ]; then
        echo "    (not root: the worker does not change the transcoder's user)"
        return
    fi
    rc=$(S3_BUCKET=b WORKER_TRANSCODE_USER=no-such-user run_prog "$IT_DIR/out" "$BIN_DIR/showcase-worker")
    check_eq "exit status" "$rc" 2
    check_contains "message" "$(cat "$IT_DIR/out")" "WORKER_TRANSCODE_USER: no such user 'no-such-user'"
}

test_ctl_rejects_unknown_command() {
    local rc
    rc=$(run_prog "$IT_DIR/out" "$BIN_DIR/showcasectl" frobnicate)
    check_eq "exit status" "$rc" 2
    check_contains "message" "$(cat "$IT_DIR/out")" "unknown command 'frobnicate'"
}

test_ctl_rejects_bad_config() {
    local rc
    rc=$(S3_BUCKET=b REDIS_URL=localhost:6379 run_prog "$IT_DIR/out" "$BIN_DIR/showcasectl" migrate)
    check_eq "exit status" "$rc" 2
    check_contains "message" "$(cat "$IT_DIR/out")" "REDIS_URL: must be a redis:// URL"
}

test_ctl_prints_config_table() {
    local out
    out=$("$BIN_DIR/showcasectl" config)
    check_contains "header" "$out" "| variable | default | type | used by | meaning |"
    check_contains "a row" "$out" "| \`API_PORT\` | \`8080\` | integer | api |"
    check_contains "required marked" "$out" "| \`S3_BUCKET\` | **required** |"
}

test_readme_lists_every_variable() {
    # README's configuration table is the one the programs use
    local row missing=""
    while IFS= read -r row; do
        grep -qxF -- "$row" "$IT_TOP/README.md" || missing="$missing
$row"
    done < <("$BIN_DIR/showcasectl" config)
    check_eq "rows of 'showcasectl config' missing from README.md" "$missing" ""
}

test_api_fails_cleanly_when_port_taken() {
    local rc port
    port=$(sc_free_port)
    # hold the port with a listener of our own
    /usr/bin/python3 -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',$port)); s.listen(); time.sleep(20)" &
    echo $! >"$IT_DIR/holder.pid"
    sc_wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
    rc=$(S3_BUCKET=b API_PORT=$port run_prog "$IT_DIR/out" "$BIN_DIR/showcase-api")
    check_eq "exit status" "$rc" 1
    check_contains "message" "$(cat "$IT_DIR/out")" "cannot listen on 127.0.0.1:$port"
    sc_stop_pidfile "$IT_DIR/holder.pid"
}

it_main
