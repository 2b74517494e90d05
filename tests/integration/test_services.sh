#!/usr/bin/env bash
# Against real PostgreSQL, redis-server and the SigV4-verifying S3 server:
# the S3 server really checks signatures, migrations are idempotent and
# the schema enforces its rules, /health reports each dependency, and the
# programs register themselves and exit cleanly on SIGTERM.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

it_start_services

EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# s3_status SECRET: HTTP status of a SigV4-signed HEAD of the bucket.
s3_status() {
    curl -s -o /dev/null -w '%{http_code}' -I --aws-sigv4 "aws:amz:us-east-1:s3" \
        --user "S3RVER:$1" -H "x-amz-content-sha256: $EMPTY_SHA256" \
        "$S3_ENDPOINT/showcase"
}

test_s3_server_accepts_right_signature() {
    check_eq "HEAD bucket with the right secret" "$(s3_status S3RVER)" 200
}

test_s3_server_rejects_wrong_secret() {
    local body
    check_eq "HEAD bucket with a wrong secret" "$(s3_status WRONG)" 403
    body=$(curl -s --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:WRONG \
        -H "x-amz-content-sha256: $EMPTY_SHA256" "$S3_ENDPOINT/showcase")
    check_contains "error code" "$body" "<Code>SignatureDoesNotMatch</Code>"
}

test_s3_server_rejects_botocore_signature_with_wrong_secret() {
    # an independent signer: botocore signs, the server verifies
    local out
    out=$(/usr/bin/python3 - "$S3_ENDPOINT" <<'PY'
import sys, urllib.request, urllib.error
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
ep = sys.argv[1]
for secret in ("S3RVER", "WRONG"):
    req = AWSRequest(method="PUT", url=ep + "/showcase/probe/a%20b.txt", data=b"hello")
    S3SigV4Auth(Credentials("S3RVER", secret), "s3", "us-east-1").add_auth(req)
    r = urllib.request.Request(req.url, data=b"hello", method="PUT", headers=dict(req.headers))
    try:
        print(secret, urllib.request.urlopen(r).status)
    except urllib.error.HTTPError as e:
        print(secret, e.code)
PY
)
    check_contains "right secret" "$out" "S3RVER 200"
    check_contains "wrong secret" "$out" "WRONG 403"
}

schema_dump() {
    "$SC_PG_BIN/pg_dump" -s -h 127.0.0.1 -p "$IT_PG_PORT" -U showcase showcase \
        | grep -v -e '^--' -e '^$' -e '^\\restrict' -e '^\\unrestrict'
}

# every migration of the tree, and how "migrate up" counts them
nmig=$(find "$IT_TOP/migrations" -name '*.up.sql' | wc -l)
applied_all="applied $nmig migration$([ "$nmig" = 1 ] || echo s)"

test_migrations_apply_once() {
    local before after
    check_eq "first run" "$("$BIN_DIR/showcasectl" migrate up)" "$applied_all"
    before=$(schema_dump)
    check_eq "second run" "$("$BIN_DIR/showcasectl" migrate up)" "applied 0 migrations"
    after=$(schema_dump)
    check_eq "schema unchanged by the second run" "$after" "$before"
    check_eq "recorded" "$(it_psql -c 'SELECT version, name FROM schema_migrations ORDER BY version' | xargs)" \
        "$(cd "$IT_TOP/migrations" && printf '%s\n' ./*.up.sql | sed -E 's|^\./(0*)([0-9]+)_(.*)\.up\.sql$|\2\|\1\2_\3|' | xargs)"
    check_contains "status" "$("$BIN_DIR/showcasectl" migrate status)" "001 001_initial"
}

test_migrations_down_then_up() {
    check_eq "down" "$("$BIN_DIR/showcasectl" migrate down)" "reverted 1 migration"
    check_contains "the newest pending" "$("$BIN_DIR/showcasectl" migrate status)" "pending"
    check_eq "down to nothing" "$("$BIN_DIR/showcasectl" migrate down "$((nmig - 1))" | sed 's/[0-9]* migration.*//')" "reverted "
    check_eq "tables gone" "$(it_psql -c "SELECT count(*) FROM pg_tables WHERE tablename IN ('users','videos','votes')")" 0
    check_eq "up again" "$("$BIN_DIR/showcasectl" migrate up)" "$applied_all"
}

test_migrations_concurrent_start_ups() {
    # several processes starting at once: one applies, none fails
    local i rcs=""
    "$BIN_DIR/showcasectl" migrate down "$nmig" >/dev/null
    for i in 1 2 3 4; do
        "$BIN_DIR/showcasectl" migrate up >"$IT_DIR/mig.$i" 2>&1 &
    done
    for i in 1 2 3 4; do
        wait -n; rcs="$rcs$?"
    done
    check_eq "all exit 0" "$rcs" "0000"
    check_eq "applied once in all" "$(cat "$IT_DIR"/mig.* | grep -c "$applied_all")" 1
    check_eq "one row each" "$(it_psql -c 'SELECT count(*) FROM schema_migrations')" "$nmig"
}

test_migration_failure_rolls_back() {
    local dir="$IT_DIR/badmig" rc
    mkdir -p "$dir"
    cp "$IT_TOP"/migrations/* "$dir/"
    printf 'CREATE TABLE half_done (id int);\nTHIS IS NOT SQL;\n' >"$dir/900_broken.up.sql"
    printf 'DROP TABLE half_done;\n' >"$dir/900_broken.down.sql"
    MIGRATIONS_DIR=$dir "$BIN_DIR/showcasectl" migrate up >"$IT_DIR/out" 2>&1
    rc=$?
    check_eq "exit status" "$rc" 1
    check_contains "names the migration" "$(cat "$IT_DIR/out")" "migration 900_broken.up failed"
    check_eq "no half-applied table" "$(it_psql -c "SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'")" 0
    check_eq "not recorded" "$(it_psql -c 'SELECT count(*) FROM schema_migrations WHERE version = 900')" 0
}

test_schema_enforces_rules() {
    local out
    it_psql -c "INSERT INTO users (email, password_hash, first_name, last_name, city, country)
                VALUES ('Ann@Example.com', 'x', 'Ann', 'Lee', 'Bogota', 'CO')" >/dev/null
    out=$(it_psql -c "INSERT INTO users (email, password_hash, first_name, last_name, city, country)
                VALUES ('ann@example.COM', 'x', 'A', 'L', 'Cali', 'CO')" 2>&1)
    check_contains "email unique regardless of case" "$out" "users_email_lower_key"
    it_psql -c "INSERT INTO videos (id, user_id, title, original_key)
                SELECT '00000000-0000-0000-0000-000000000001', id, 'dunk', 'originals/x/source.mp4'
                FROM users" >/dev/null
    it_psql -c "INSERT INTO votes (user_id, video_id)
                SELECT id, '00000000-0000-0000-0000-000000000001' FROM users" >/dev/null
    out=$(it_psql -c "INSERT INTO votes (user_id, video_id)
                SELECT id, '00000000-0000-0000-0000-000000000001' FROM users" 2>&1)
    check_contains "one vote per user per video" "$out" "votes_pkey"
    out=$(it_psql -c "UPDATE videos SET status = 'failed'" 2>&1)
    check_contains "failed needs a reason" "$out" "check constraint"
    out=$(it_psql -c "UPDATE videos SET status = 'done'" 2>&1)
    check_contains "status values are fixed" "$out" "videos_status_check"
    it_psql -c "DELETE FROM users" >/dev/null
    check_eq "cascade" "$(it_psql -c 'SELECT count(*) FROM votes')" 0
}

health() { curl -s -w '\n%{http_code}' "http://127.0.0.1:$IT_API_PORT/health"; }

test_api_health_ready() {
    local out
    it_start_api || return
    out=$(health)
    check_eq "status code" "$(tail -n1 <<<"$out")" 200
    out=$(head -n1 <<<"$out")
    check_eq "status" "$(jq -r .status <<<"$out")" ready
    check_eq "postgres" "$(jq -r .checks.postgres <<<"$out")" ok
    check_eq "redis" "$(jq -r .checks.redis <<<"$out")" ok
    check_eq "s3" "$(jq -r .checks.s3 <<<"$out")" ok
}

# not_ready LOG: the log's lines about a dependency that is down (the
# details stay there: the response names the dependency only)
not_ready() { grep '"msg":"not ready: ' "$1"; }

test_api_health_redis_down() {
    local out
    sc_redis_stop "$IT_DIR/redis"
    out=$(health)
    check_eq "status code" "$(tail -n1 <<<"$out")" 503
    out=$(head -n1 <<<"$out")
    check_eq "status" "$(jq -r .status <<<"$out")" not_ready
    check_eq "redis" "$(jq -r .checks.redis <<<"$out")" down
    check_contains "redis error logged" "$(not_ready "$IT_DIR/api.log")" "redis is down"
    check_eq "postgres still ok" "$(jq -r .checks.postgres <<<"$out")" ok
    check_eq "s3 still ok" "$(jq -r .checks.s3 <<<"$out")" ok
    sc_redis_start "$IT_DIR/redis" "$IT_REDIS_PORT"
    check_eq "ready again after redis returns" "$(health | tail -n1)" 200
}

test_api_health_postgres_down() {
    local out
    sc_pg_stop "$IT_DIR/postgres"
    out=$(health)
    check_eq "status code" "$(tail -n1 <<<"$out")" 503
    check_eq "postgres" "$(head -n1 <<<"$out" | jq -r .checks.postgres)" down
    check_contains "postgres error logged" "$(not_ready "$IT_DIR/api.log")" "postgresql"
    SC_PG_OPTS="-c fsync=off" sc_pg_start "$IT_DIR/postgres" "$IT_PG_PORT"
    check_eq "ready again after postgresql returns" "$(health | tail -n1)" 200
}

# A connection left idle while PostgreSQL restarted is closed under the
# API: the next request must reconnect, not fail with 503.
test_api_first_request_after_a_postgres_restart() {
    local url="http://127.0.0.1:$IT_API_PORT/api/public/videos" i codes=""
    "$BIN_DIR/showcasectl" migrate up >/dev/null
    for i in 1 2 3 4; do
        check_eq "before: request $i" "$(curl -s -o /dev/null -w '%{http_code}' "$url")" 200
    done
    sc_pg_stop "$IT_DIR/postgres"
    SC_PG_OPTS="-c fsync=off" sc_pg_start "$IT_DIR/postgres" "$IT_PG_PORT"
    for i in 1 2 3 4; do
        codes="$codes $(curl -s -o /dev/null -w '%{http_code}' "$url")"
    done
    check_eq "after the restart, every request answered" "$codes" " 200 200 200 200"
}

test_api_health_s3_down() {
    local out
    sc_s3_stop "$IT_DIR/s3"
    out=$(health)
    check_eq "status code" "$(tail -n1 <<<"$out")" 503
    check_eq "s3" "$(head -n1 <<<"$out" | jq -r .checks.s3)" down
    check_contains "s3 error logged" "$(not_ready "$IT_DIR/api.log")" "cannot reach"
    check_eq "and not answered" "$(grep -c 'cannot reach' <<<"$out")" 0
    sc_s3_start "$IT_DIR/s3" "$IT_S3_PORT" showcase
    check_eq "ready again after s3 returns" "$(health | tail -n1)" 200
}

test_api_health_wrong_s3_secret() {
    local out port=$IT_API_PORT
    AWS_SECRET_ACCESS_KEY=WRONG it_start_api api-badkey || return
    out=$(health)
    check_eq "status code" "$(tail -n1 <<<"$out")" 503
    check_eq "s3" "$(head -n1 <<<"$out" | jq -r .checks.s3)" down
    check_contains "s3 error logged" "$(not_ready "$IT_DIR/api-badkey.log")" "credentials or signature were refused"
    sc_stop_pidfile "$IT_DIR/api-badkey.pid"
    IT_API_PORT=$port
}

test_api_errors_have_one_shape() {
    local out hdrs
    out=$(curl -s -D "$IT_DIR/hdrs" "http://127.0.0.1:$IT_API_PORT/nowhere")
    hdrs=$(cat "$IT_DIR/hdrs")
    check_contains "404" "$hdrs" "HTTP/1.1 404"
    check_eq "error code" "$(jq -r .error <<<"$out")" not_found
    check_contains "message" "$(jq -r .message <<<"$out")" "no route for GET /nowhere"
    check_eq "request id in body and header" \
        "$(grep -i '^x-request-id:' <<<"$hdrs" | tr -d '\r' | awk '{print $2}')" "$(jq -r .request_id <<<"$out")"
    out=$(curl -s -H 'X-Request-Id: trace-123' -X DELETE "http://127.0.0.1:$IT_API_PORT/health")
    check_eq "405" "$(jq -r .error <<<"$out")" method_not_allowed
    check_eq "client request id kept" "$(jq -r .request_id <<<"$out")" trace-123
    check_contains "access log has the request id" "$(cat "$IT_DIR/api.log")" '"request_id":"trace-123"'
}

test_api_exits_zero_on_sigterm() {
    it_stop_wait "$IT_DIR/api.pid"
    check_eq "exit status" "$IT_EXIT" 0
    check_contains "log" "$(cat "$IT_DIR/api.log")" "received SIGTERM, stopping"
}

worker_keys() { redis-cli -p "$IT_REDIS_PORT" --scan --pattern 'showcase:{q}:worker:*'; }
worker_registered() { [ -n "$(worker_keys)" ]; }

test_worker_registers_and_exits_zero_on_sigterm() {
    local key pid
    WORKER_HEARTBEAT_MS=200 sc_daemon worker "$IT_DIR" "$IT_DIR/worker.log" "$BIN_DIR/showcase-worker"
    pid=$(cat "$IT_DIR/worker.pid")
    sc_wait_for worker_registered || it_fail "no presence record appeared"
    key=$(worker_keys | head -n1)
    check_contains "key names the pid" "$key" ":$pid"
    check_eq "pid field" "$(redis-cli -p "$IT_REDIS_PORT" hget "$key" pid)" "$pid"
    check_eq "state field" "$(redis-cli -p "$IT_REDIS_PORT" hget "$key" state)" idle
    check "record expires by itself" test "$(redis-cli -p "$IT_REDIS_PORT" pttl "$key")" -gt 0
    it_stop_wait "$IT_DIR/worker.pid"
    check_eq "exit status" "$IT_EXIT" 0
    check_eq "record removed" "$(worker_keys)" ""
}

test_worker_rides_out_redis_restart() {
    local pid
    WORKER_HEARTBEAT_MS=200 sc_daemon worker "$IT_DIR" "$IT_DIR/worker2.log" "$BIN_DIR/showcase-worker"
    pid=$(cat "$IT_DIR/worker.pid")
    sc_wait_for worker_registered || it_fail "no presence record appeared"
    sc_redis_stop "$IT_DIR/redis"
    rm -f "$IT_DIR/redis/appendonlydir"/* 2>/dev/null
    sleep 1
    check "worker still running while redis is down" sc_running "$pid"
    check_contains "logs the outage once" "$(grep -c 'redis unreachable' "$IT_DIR/worker2.log")" 1
    sc_redis_start "$IT_DIR/redis" "$IT_REDIS_PORT"
    sc_wait_for worker_registered || it_fail "not registered again after redis returned"
    it_stop_wait "$IT_DIR/worker.pid"
    check_eq "exit status" "$IT_EXIT" 0
}

it_main
