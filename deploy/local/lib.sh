# shellcheck shell=bash
# Start and stop the services of a one-machine Showcase stack.
#
# Sourced by deploy/local/stack.sh and by the integration tests, so both run
# the real servers the same way.  Every service lives in a directory of its
# own under a run directory, with its pid file and log there; stopping
# signals exactly that pid and waits for it to exit.

SC_PG_BIN=${SC_PG_BIN:-/usr/lib/postgresql/15/bin}
SC_LOCAL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

sc_log() { printf '%s\n' "$*" >&2; }
sc_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A TCP port on 127.0.0.1 that nothing listens on right now.
sc_free_port() {
    /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Does process $1 run?  A zombie (exited, not yet reaped) does not.
sc_running() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# Is the process in pid file $1 alive?
sc_alive() {
    local pid
    [ -s "$1" ] || return 1
    pid=$(head -n1 "$1")
    [ -n "$pid" ] && sc_running "$pid"
}

# Send SIGTERM to the pid in file $1, wait up to $2 seconds (default 15),
# then SIGKILL.  Removes the pid file.
sc_stop_pidfile() {
    local file=$1 wait=${2:-15} pid i
    [ -s "$file" ] || { rm -f "$file"; return 0; }
    pid=$(head -n1 "$file")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        for ((i = 0; i < wait * 10; i++)); do
            sc_running "$pid" || break
            sleep 0.1
        done
        if sc_running "$pid"; then
            sc_log "pid $pid ($file) ignored SIGTERM for ${wait}s; killing"
            kill -KILL "$pid" 2>/dev/null
        fi
    fi
    rm -f "$file"
}

# Wait until command "$@" succeeds, up to SC_WAIT seconds (default 30).
sc_wait_for() {
    local i
    for ((i = 0; i < ${SC_WAIT:-30} * 10; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# Run a command as the unprivileged PostgreSQL user when we are root:
# PostgreSQL refuses to run as root.  It runs from / because the caller's
# directory may be closed to that user; callers pass absolute paths.
sc_as_pg() {
    if [ "$(id -u)" = 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# sc_pg_start DIR PORT: initialise (once) and start PostgreSQL 15 on
# 127.0.0.1:PORT with a trusted superuser "showcase" and a database
# "showcase".  Extra server options may come in SC_PG_OPTS.
sc_pg_start() {
    local dir port=$2
    dir=$(realpath -m "$1")
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    chmod 700 "$dir"
    if [ ! -s "$dir/data/PG_VERSION" ]; then
        sc_as_pg "$SC_PG_BIN/initdb" -D "$dir/data" -U showcase --auth=trust \
            -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
            || { cat "$dir/initdb.log" >&2; sc_die "initdb failed in $dir"; }
    fi
    if sc_alive "$dir/data/postmaster.pid"; then
        return 0
    fi
    sc_as_pg "$SC_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 ${SC_PG_OPTS:-}" start >/dev/null \
        || { tail -n 20 "$dir/postgres.log" >&2; sc_die "postgresql did not start"; }
    if ! "$SC_PG_BIN/psql" -h 127.0.0.1 -p "$port" -U showcase -d postgres -Atqc \
        "SELECT 1 FROM pg_database WHERE datname = 'showcase'" | grep -q 1; then
        "$SC_PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U showcase showcase
    fi
}

sc_pg_stop() {
    local dir
    dir=$(realpath -m "$1")
    if sc_alive "$dir/data/postmaster.pid"; then
        sc_as_pg "$SC_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    fi
}

sc_pg_url() { printf 'postgresql://showcase@127.0.0.1:%s/showcase' "$1"; }

# sc_redis_start DIR PORT: redis-server on 127.0.0.1:PORT, append-only file
# on, and noeviction: the queue must never be evicted to make room.
sc_redis_start() {
    local dir=$1 port=$2
    mkdir -p "$dir"
    sc_alive "$dir/redis.pid" && return 0
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
        --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
        --appendonly yes --save '' --maxmemory-policy noeviction \
        || sc_die "redis-server did not start"
    sc_wait_for redis-cli -p "$port" ping || sc_die "redis-server does not answer on $port"
}

sc_redis_stop() { sc_stop_pidfile "$1/redis.pid"; }

# sc_s3_start DIR PORT BUCKET: the SigV4-verifying S3 server with BUCKET.
sc_s3_start() {
    local dir=$1 port=$2 bucket=$3
    mkdir -p "$dir/data"
    sc_alive "$dir/s3.pid" && return 0
    [ -d "$SC_LOCAL_DIR/node_modules/@20minutes/s3rver" ] \
        || sc_die "S3 server not installed: run deploy/local/install-deps.sh"
    node "$SC_LOCAL_DIR/s3-server.js" "$dir/data" "$port" "$bucket" \
        >"$dir/s3.log" 2>&1 &
    echo $! >"$dir/s3.pid"
    sc_wait_for curl -sf -o /dev/null "http://127.0.0.1:$port/" \
        || { cat "$dir/s3.log" >&2; sc_die "S3 server did not start on $port"; }
}

sc_s3_stop() { sc_stop_pidfile "$1/s3.pid"; }

# sc_services_start DIR BUCKET: PostgreSQL, redis-server and the S3 server
# (with BUCKET) on free loopback ports, in DIR/postgres, DIR/redis and
# DIR/s3, for tests and benchmarks; sets SC_PG_PORT, SC_REDIS_PORT and
# SC_S3_PORT and exports the programs' environment for them.
sc_services_start() {
    local dir=$1 bucket=$2
    chmod 755 "$dir"    # PostgreSQL runs as its own user
    SC_PG_PORT=$(sc_free_port)
    SC_REDIS_PORT=$(sc_free_port)
    SC_S3_PORT=$(sc_free_port)
    SC_PG_OPTS="-c fsync=off -c synchronous_commit=off" sc_pg_start "$dir/postgres" "$SC_PG_PORT"
    sc_redis_start "$dir/redis" "$SC_REDIS_PORT"
    sc_s3_start "$dir/s3" "$SC_S3_PORT" "$bucket"
    export DATABASE_URL
    DATABASE_URL=$(sc_pg_url "$SC_PG_PORT")
    export REDIS_URL="redis://127.0.0.1:$SC_REDIS_PORT/0"
    export S3_ENDPOINT="http://127.0.0.1:$SC_S3_PORT"
    export S3_BUCKET=$bucket S3_REGION=us-east-1 S3_FORCE_PATH_STYLE=1
    export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
}

# sc_services_stop DIR: stop what sc_services_start started there.
sc_services_stop() {
    local dir=$1
    [ -d "$dir/s3" ] && sc_s3_stop "$dir/s3"
    [ -d "$dir/redis" ] && sc_redis_stop "$dir/redis"
    [ -d "$dir/postgres" ] && sc_pg_stop "$dir/postgres"
    return 0
}

# sc_runnable_bin DIR: a directory holding DIR's programs that the
# transcoder's user (WORKER_TRANSCODE_USER, nobody by default) can run.
# Run by root, the worker runs each transcode as that user, who cannot
# reach a checkout under a private directory (a home, a mktemp -d): the
# programs are then copied to /tmp/showcase-bin-<hash of DIR>/build,
# refreshed on each call, with the portal's files beside them in the
# checkout's layout (build/../api/portal, where the API looks for them by
# default).  DIR itself when it is reachable or when not root.
sc_runnable_bin() {
    local dir=$1 user=${WORKER_TRANSCODE_USER-nobody} copy f
    if [ "$(id -u)" != 0 ] || [ -z "$user" ] || ! id -u "$user" >/dev/null 2>&1 ||
        runuser -u "$user" -- test -x "$dir/showcase-transcode" 2>/dev/null; then
        printf '%s\n' "$dir"
        return
    fi
    copy=/tmp/showcase-bin-$(printf '%s' "$dir" | md5sum | cut -c1-12)
    mkdir -p "$copy/build" && chmod 755 "$copy" "$copy/build"
    for f in "$dir"/*; do
        [ -f "$f" ] && [ -x "$f" ] && cp -p "$f" "$copy/build/"
    done
    if [ -d "$dir/../api/portal" ]; then
        mkdir -p "$copy/api" && chmod 755 "$copy/api" &&
            cp -rp "$dir/../api/portal" "$copy/api/" && chmod -R a+rX "$copy/api"
    fi
    printf '%s\n' "$copy/build"
}

# sc_daemon NAME DIR LOG BINARY...: start a program of the project in the
# background with its pid in DIR/NAME.pid and its output in LOG.
sc_daemon() {
    local name=$1 dir=$2 log=$3
    shift 3
    "$@" >>"$log" 2>&1 &
    echo $! >"$dir/$name.pid"
}
