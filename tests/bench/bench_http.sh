#!/usr/bin/env bash
# The API's HTTP layer against its floor, in one run, on loopback:
#   showcase-api GET /health/live  (request id, routing, JSON body,
#                                   one JSON access-log line a request)
#   bench-http-baseline            (the same libmicrohttpd threading,
#                                   a fixed body, nothing else)
# wrk with 2 threads and 64 connections; ROUNDS rounds alternating the two,
# DURATION seconds each; reported: median req/s, median p99 latency, and
# each server's peak RSS.  The API needs no dependency for /health/live.
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-5}
duration=${DURATION:-5}
threads=${API_THREADS:-4}

api_port=$(sc_free_port)
base_port=$(sc_free_port)
S3_BUCKET=bench API_PORT=$api_port API_THREADS=$threads \
    sc_daemon api "$dir" "$dir/api.log" "$bin/showcase-api"
sc_daemon base "$dir" "$dir/base.log" "$bin/bench-http-baseline" "$base_port" "$threads"
sc_wait_for curl -sf -o /dev/null "http://127.0.0.1:$api_port/health/live" || sc_die "api did not start"
sc_wait_for curl -sf -o /dev/null "http://127.0.0.1:$base_port/" || sc_die "baseline did not start"

# run_wrk URL: prints "req/s p99_ms"
run_wrk() {
    wrk -t2 -c64 -d"${duration}s" --latency "$1" | awk '
        /Requests\/sec/ { rps = $2 }
        /^ +99%/ { v = $2; ms = v + 0
                   if (v ~ /us$/) ms /= 1000; else if (v ~ /[^m]s$/) ms *= 1000
                   p99 = ms }
        END { printf "%.0f %.2f\n", rps, p99 }'
}

: >"$dir/api.res"
: >"$dir/base.res"
for ((i = 1; i <= rounds; i++)); do
    run_wrk "http://127.0.0.1:$base_port/" >>"$dir/base.res"
    run_wrk "http://127.0.0.1:$api_port/health/live" >>"$dir/api.res"
done

rss() { awk '/VmHWM/ { print $2 / 1024 }' "/proc/$(cat "$1")/status"; }
api_rps=$(cut -d' ' -f1 "$dir/api.res" | median)
api_p99=$(cut -d' ' -f2 "$dir/api.res" | median)
base_rps=$(cut -d' ' -f1 "$dir/base.res" | median)
base_p99=$(cut -d' ' -f2 "$dir/base.res" | median)

echo "wrk -t2 -c64 -d${duration}s, $rounds rounds alternating, medians; $threads server threads; $(nproc) cores"
printf '%-36s %10s %10s %14s\n' "server" "req/s" "p99 ms" "peak RSS MiB"
printf '%-36s %10s %10s %14.1f\n' "bench-http-baseline (fixed 200 OK)" "$base_rps" "$base_p99" "$(rss "$dir/base.pid")"
printf '%-36s %10s %10s %14.1f\n' "showcase-api GET /health/live" "$api_rps" "$api_p99" "$(rss "$dir/api.pid")"
awk -v a="$api_rps" -v b="$base_rps" 'BEGIN { printf "showcase-api / baseline: %.2f\n", a / b }'
