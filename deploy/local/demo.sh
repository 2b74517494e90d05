#!/usr/bin/env bash
# The main job, on this machine: bring the whole stack up on loopback and
# show what it does.  Safe to run again: running parts are reused.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/local/lib.sh
. "$here/lib.sh"
run=${SHOWCASE_RUN_DIR:-/tmp/showcase-local}
api_port=${SHOWCASE_API_PORT:-8080}
redis_port=${SHOWCASE_REDIS_PORT:-56379}

echo "== starting the stack"
"$here/stack.sh" start

echo
echo "== readiness: GET http://127.0.0.1:$api_port/health"
curl -s "http://127.0.0.1:$api_port/health" | jq .

echo
echo "== workers registered in redis (redis-cli --scan --pattern 'showcase:{q}:worker:*')"
sc_wait_for bash -c "[ -n \"\$(redis-cli -p $redis_port --scan --pattern 'showcase:{q}:worker:*')\" ]" || true
for key in $(redis-cli -p "$redis_port" --scan --pattern 'showcase:{q}:worker:*'); do
    printf '%s  ' "$key"
    redis-cli -p "$redis_port" hgetall "$key" | paste -sd' '
done

echo
echo "== database schema (showcasectl migrate status)"
"$here/stack.sh" exec showcasectl migrate status

cat <<MSG

What runs now: PostgreSQL, Redis and the S3 server, the API answering
/health and /health/live, and the workers keeping their presence in Redis.
Not built yet: accounts, uploads, the job queue and the transcode pipeline,
so no sample video is uploaded or processed by this demo yet.

Logs:  $run/logs/
Stop:  deploy/local/stack.sh stop
MSG
