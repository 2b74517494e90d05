#!/usr/bin/env bash
# The whole Showcase stack on one machine, on loopback:
# PostgreSQL 15, redis-server, the SigV4-verifying S3 server, migrations,
# the API and N workers.
#
#   deploy/local/stack.sh start    start what is not running yet
#   deploy/local/stack.sh status   what runs, and the API's /health
#   deploy/local/stack.sh stop     stop everything it started
#   deploy/local/stack.sh env      print the environment the programs get
#   deploy/local/stack.sh exec CMD [ARGS...]
#                                  run CMD with that environment, e.g.
#                                  stack.sh exec showcasectl health
#
# Settings (environment): SHOWCASE_RUN_DIR (default /tmp/showcase-local),
# SHOWCASE_API_PORT (8080), SHOWCASE_PG_PORT (55432), SHOWCASE_REDIS_PORT
# (56379), SHOWCASE_S3_PORT (59000), SHOWCASE_WORKERS (2),
# SHOWCASE_METRICS_PORT (59464: worker i serves /metrics on it + i - 1),
# BIN_DIR (build).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"

run=${SHOWCASE_RUN_DIR:-/tmp/showcase-local}
api_port=${SHOWCASE_API_PORT:-8080}
pg_port=${SHOWCASE_PG_PORT:-55432}
redis_port=${SHOWCASE_REDIS_PORT:-56379}
s3_port=${SHOWCASE_S3_PORT:-59000}
workers=${SHOWCASE_WORKERS:-2}
metrics_port=${SHOWCASE_METRICS_PORT:-59464}
bin=${BIN_DIR:-build}
case $bin in /*) ;; *) bin="$top/$bin" ;; esac
bucket=showcase

write_env() {
    cat >"$run/env" <<ENV
DATABASE_URL=$(sc_pg_url "$pg_port")
REDIS_URL=redis://127.0.0.1:$redis_port/0
S3_ENDPOINT=http://127.0.0.1:$s3_port
S3_BUCKET=$bucket
S3_REGION=us-east-1
S3_FORCE_PATH_STYLE=1
AWS_ACCESS_KEY_ID=S3RVER
AWS_SECRET_ACCESS_KEY=S3RVER
API_HOST=127.0.0.1
API_PORT=$api_port
API_DEMO=1
JWT_SECRET=showcase-demo-secret-do-not-use-in-production
API_CORS_ORIGINS=http://localhost:3000
MIGRATIONS_DIR=$top/migrations
ENV
}

# Run a program with the stack's environment.  exec, so that the pid
# recorded for a background with_env is the program's own.
with_env() {
    local vars
    mapfile -t vars < <(grep -v '^#' "$run/env")
    exec env "${vars[@]}" "$@"
}

start() {
    local i
    [ -x "$bin/showcase-api" ] || sc_die "no $bin/showcase-api: run make first"
    mkdir -p "$run/logs"
    chmod 755 "$run"
    write_env
    echo "run directory: $run"
    echo "postgresql  127.0.0.1:$pg_port"
    sc_pg_start "$run/postgres" "$pg_port"
    echo "redis       127.0.0.1:$redis_port"
    sc_redis_start "$run/redis" "$redis_port"
    echo "s3          127.0.0.1:$s3_port (bucket $bucket)"
    # the portal (served by the API) plays HLS segments from presigned URLs
    S3_LOCAL_CORS_ORIGINS="http://127.0.0.1:$api_port,http://localhost:$api_port" \
        sc_s3_start "$run/s3" "$s3_port" "$bucket"
    echo "migrations  $(with_env "$bin/showcasectl" migrate up)"
    if sc_alive "$run/api.pid"; then
        echo "api         already running (pid $(cat "$run/api.pid"))"
    else
        sc_daemon api "$run" "$run/logs/api.log" with_env "$bin/showcase-api"
        sc_wait_for curl -sf -o /dev/null "http://127.0.0.1:$api_port/health/live" \
            || { tail -n 20 "$run/logs/api.log" >&2; sc_die "the API did not start"; }
        echo "api         http://127.0.0.1:$api_port (pid $(cat "$run/api.pid"))"
    fi
    # run by root, the workers run each transcode as another user
    # (WORKER_TRANSCODE_USER, nobody by default), who must reach the program
    local tuser=${WORKER_TRANSCODE_USER-nobody}
    if [ -n "$tuser" ] && ! id -u "$tuser" >/dev/null 2>&1; then
        sc_die "WORKER_TRANSCODE_USER: no such user '$tuser'"
    fi
    bin=$(sc_runnable_bin "$bin")
    if [ "$(id -u)" = 0 ] && [ -n "$tuser" ] &&
        ! runuser -u "$tuser" -- test -x "$bin/showcase-transcode" 2>/dev/null; then
        sc_die "user $tuser cannot run $bin/showcase-transcode: make every directory above it" \
            "searchable by others (chmod o+x), or set WORKER_TRANSCODE_USER= to keep root"
    fi
    for ((i = 1; i <= workers; i++)); do
        if sc_alive "$run/worker-$i.pid"; then
            echo "worker $i    already running (pid $(cat "$run/worker-$i.pid"))"
        else
            sc_daemon "worker-$i" "$run" "$run/logs/worker-$i.log" \
                with_env env WORKER_METRICS_PORT=$((metrics_port + i - 1)) "$bin/showcase-worker"
            echo "worker $i    started (pid $(cat "$run/worker-$i.pid")," \
                "metrics http://127.0.0.1:$((metrics_port + i - 1))/metrics)"
        fi
    done
    echo "logs        $run/logs/"
}

status() {
    local f name rc=0
    [ -d "$run" ] || { echo "not running (no $run)"; return 1; }
    for f in "$run"/api.pid "$run"/worker-*.pid "$run"/s3/s3.pid "$run"/redis/redis.pid \
             "$run"/postgres/data/postmaster.pid; do
        [ -e "$f" ] || continue
        name=$(basename "$f" .pid)
        if sc_alive "$f"; then
            echo "$name: running (pid $(head -n1 "$f"))"
        else
            echo "$name: not running"
            rc=1
        fi
    done
    echo "health:"
    curl -s "http://127.0.0.1:$api_port/health" | jq . || rc=1
    return $rc
}

stop() {
    local f
    [ -d "$run" ] || { echo "not running"; return 0; }
    for f in "$run"/worker-*.pid; do
        [ -e "$f" ] && sc_stop_pidfile "$f" 30
    done
    sc_stop_pidfile "$run/api.pid" 30
    sc_s3_stop "$run/s3"
    sc_redis_stop "$run/redis"
    sc_pg_stop "$run/postgres"
    echo "stopped (data kept in $run)"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) status ;;
env) write_env; cat "$run/env" ;;
exec)
    shift
    [ $# -gt 0 ] || { echo "usage: $0 exec CMD [ARGS...]" >&2; exit 2; }
    mkdir -p "$run"
    write_env
    # a program of the project by bare name, e.g. "showcasectl"
    if [ -x "$bin/$1" ]; then set -- "$bin/$1" "${@:2}"; fi
    with_env "$@"
    ;;
*) echo "usage: $0 start|status|stop|env|exec CMD..." >&2; exit 2 ;;
esac
