#!/usr/bin/env bash
# The job queue's overhead (common/queue.c: one Lua script per state
# change) against the ceiling of the same redis-server in the same run:
#   redis-benchmark -t lpush,rpop -c 4     two plain commands, 4 clients
#   bench-queue JOBS 4                     JOBS no-op jobs enqueued, then
#                                          leased and completed by 4
#                                          consumer threads
# ROUNDS paired rounds, medians.  A job costs three scripts (enqueue, lease,
# complete), each a few commands inside Redis, against one command for
# LPUSH or RPOP.
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-5}
jobs=${JOBS:-10000}

port=$(sc_free_port)
sc_redis_start "$dir/redis" "$port"
export REDIS_URL="redis://127.0.0.1:$port/0"

for ((i = 1; i <= rounds; i++)); do
    redis-benchmark -p "$port" -t lpush,rpop -n 100000 -c 4 -q --csv |
        awk -F'"' '/LPUSH/ { l = $4 } /RPOP/ { r = $4 } END { print l, r }' >>"$dir/rb"
    "$bin/bench-queue" "$jobs" 4 >>"$dir/q"
    redis-cli -p "$port" FLUSHALL >/dev/null
done

col() { awk -v c="$2" '{ print $c }' "$dir/$1" | median; }
qops() { grep -o '[0-9]* queue ops/s' "$dir/q" | awk '{ print $1 }' | median; }
qp99() { grep -o "$1 [0-9]*" "$dir/q" | awk '{ print $2 }' | median; }

echo "$jobs no-op jobs, 4 consumers, $rounds paired rounds, medians; $(nproc) cores, redis $(redis-server --version | grep -o 'v=[0-9.]*')"
printf '%-44s %10s\n' "what" "ops/s"
printf '%-44s %10s\n' "redis-benchmark LPUSH (-c 4)" "$(col rb 1)"
printf '%-44s %10s\n' "redis-benchmark RPOP (-c 4)" "$(col rb 2)"
printf '%-44s %10s\n' "queue: enqueue + lease + complete" "$(qops)"
echo "queue p99 us: enqueue $(qp99 enqueue), lease $(qp99 lease), complete $(qp99 complete)"
awk -v q="$(qops)" -v l="$(col rb 1)" -v r="$(col rb 2)" \
    'BEGIN { c = (l + r) / 2; printf "queue ops/s / mean of LPUSH and RPOP: %.2f\n", q / c }'
grep -c INCOMPLETE "$dir/q" | awk '$1 > 0 { print "WARNING: " $1 " incomplete runs" }'
