# shellcheck shell=bash
# Integration test harness: throwaway real servers and small assertions.
#
# A test file sources this, defines functions named test_*, and ends with
# `it_main`, which runs them in the order they are defined.  The servers
# (PostgreSQL, redis-server, the SigV4-verifying S3 server) are started on
# free loopback ports in a temporary directory by it_start_services and
# are stopped, by pid, on every exit path; the directory is removed.
#
# Environment: BIN_DIR (the built programs), IT_COUNTS (a file the runner
# reads "passed failed" from), IT_KEEP=1 to keep the directory for a post
# mortem, IT_ONLY=REGEX to run only the tests whose names match.

set -uo pipefail

IT_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=deploy/local/lib.sh
. "$IT_TOP/deploy/local/lib.sh"

BIN_DIR=${BIN_DIR:-build}
case $BIN_DIR in /*) ;; *) BIN_DIR="$IT_TOP/$BIN_DIR" ;; esac
IT_DIR=$(mktemp -d /tmp/showcase-it.XXXXXX)
chmod 755 "$IT_DIR"
# the API refuses to start without a real secret: one per run
JWT_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
export JWT_SECRET
it_passed=0
it_failed=0
it_current=
it_current_failed=0

it_cleanup() {
    local f
    for f in "$IT_DIR"/*.pid; do
        [ -e "$f" ] && sc_stop_pidfile "$f" 10
    done
    # a sanitizer report in any program's log fails the file
    if grep -l -r -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$IT_DIR" \
        --include='*.log' 2>/dev/null; then
        echo "FAIL sanitizer report in the logs above"
        grep -r -h -A 30 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$IT_DIR" --include='*.log' | head -n 60
        it_failed=$((it_failed + 1))
    fi
    sc_services_stop "$IT_DIR"
    if [ "${IT_KEEP:-0}" = 1 ]; then
        echo "# kept $IT_DIR"
    else
        rm -rf "$IT_DIR"
    fi
    if [ -n "${IT_COUNTS:-}" ]; then
        echo "$it_passed $it_failed" >>"$IT_COUNTS"
    fi
}
trap it_cleanup EXIT

# --- assertions: each records a failure and lets the test go on ---------

it_fail() {
    it_current_failed=1
    echo "    $it_current: $*"
}

# check DESCRIPTION COMMAND...: the command must succeed.
check() {
    local what=$1
    shift
    "$@" >"$IT_DIR/check.out" 2>&1 || {
        it_fail "$what: command failed: $*"
        sed 's/^/      | /' "$IT_DIR/check.out" | head -n 20
    }
}

# check_eq DESCRIPTION GOT WANT
check_eq() {
    [ "$2" = "$3" ] || it_fail "$1: got '$2', want '$3'"
}

# check_contains DESCRIPTION HAYSTACK NEEDLE
check_contains() {
    case $2 in
    *"$3"*) ;;
    *) it_fail "$1: '$3' not found in: $(printf '%s' "$2" | head -c 600)" ;;
    esac
}

# --- services ------------------------------------------------------------

# Start PostgreSQL, Redis and S3 and export the programs' environment.
# shellcheck disable=SC2034  # IT_*_PORT are read by the test files
it_start_services() {
    sc_services_start "$IT_DIR" showcase
    IT_PG_PORT=$SC_PG_PORT
    IT_REDIS_PORT=$SC_REDIS_PORT
    IT_S3_PORT=$SC_S3_PORT
    export MIGRATIONS_DIR="$IT_TOP/migrations"
    export CONNECT_TIMEOUT_MS=1000
}

it_psql() {
    "$SC_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -At -h 127.0.0.1 -p "$IT_PG_PORT" \
        -U showcase -d showcase "$@"
}

# it_start_api NAME [PORT]: start the API with the current environment on
# PORT, or a free port (IT_API_PORT), and wait until it serves /health/live.
it_start_api() {
    local name=${1:-api}
    IT_API_PORT=${2:-$(sc_free_port)}
    API_PORT=$IT_API_PORT sc_daemon "$name" "$IT_DIR" "$IT_DIR/$name.log" "$BIN_DIR/showcase-api"
    sc_wait_for curl -sf -o /dev/null "http://127.0.0.1:$IT_API_PORT/health/live" || {
        it_fail "the API did not start"
        cat "$IT_DIR/$name.log"
        return 1
    }
}

# it_quick_jobs: settings for suites that upload short clips and watch
# them processed: short clips accepted, no cards, cheap password hashes
# (logins are frequent), no rate limits (test_limits.sh tests them)
it_quick_jobs() {
    export POLICY_MIN_SECONDS=0 POLICY_MIN_SHORT_SIDE=0 TRANSCODE_CARD_MS=0
    export WORKER_METRICS_PORT=0 WORKER_TMP_DIR="$IT_DIR" WORKER_RECONCILE_S=5
    if grep -q __asan_init "$BIN_DIR/showcase-transcode"; then export WORKER_MEMORY_MB=0; fi
    export API_ARGON2_OPS=1 API_ARGON2_MEM_KB=8192 API_RATE_LIMITS=0
}

# it_clip OUT: a playable 2 s 640x360 MP4, index first
it_clip() {
    ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=640x360:r=15:d=2 \
        -c:v libx264 -preset ultrafast -movflags +faststart "$1" || it_fail "fixture $1"
}

# it_start_worker_bg NAME [ENV=VALUE...]: a worker in the background
it_start_worker_bg() {
    local name=$1
    shift
    env "$@" "$BIN_DIR/showcase-worker" >>"$IT_DIR/$name.log" 2>&1 &
    echo $! >"$IT_DIR/$name.pid"
}

# it_wait_sql SQL WANT SECONDS: until the query prints WANT
it_wait_sql() {
    local deadline=$((SECONDS + $3))
    until [ "$(it_psql -c "$1")" = "$2" ]; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.2
    done
}

# it_stop_wait PIDFILE: SIGTERM the process (a child of this shell) and
# wait for it; its exit status is left in IT_EXIT.
it_stop_wait() {
    local pid
    pid=$(cat "$1")
    kill -TERM "$pid"
    wait "$pid"
    # shellcheck disable=SC2034  # read by the test files
    IT_EXIT=$?
    rm -f "$1"
}

# --- runner -------------------------------------------------------------

it_main() {
    local t
    # in the order of definition (declare -F would sort them by name)
    for t in $(grep -oE '^test_[a-z0-9_]+\(\)' "$0" | tr -d '()'); do
        # IT_ONLY=REGEX runs only the matching tests (while working on them)
        [[ -n ${IT_ONLY:-} && ! $t =~ $IT_ONLY ]] && continue
        it_current=$t
        it_current_failed=0
        "$t"
        if [ "$it_current_failed" = 0 ]; then
            echo "ok   $t"
            it_passed=$((it_passed + 1))
        else
            echo "FAIL $t"
            it_failed=$((it_failed + 1))
        fi
    done
    [ "$it_failed" = 0 ]
}
