#!/usr/bin/env bash
# The API on loopback, against its floor, in one run:
#  1. req/s and p99 (wrk -t2 -c64) of GET /api/public/rankings and of
#     GET /api/videos with a token, beside bench-http-baseline (the same
#     libmicrohttpd threading answering a fixed "200 OK") and the API's
#     own GET /health/live; ROUNDS rounds alternating, medians.
#     Data: 200 players in 10 cities, 2,000 public processed videos,
#     20,000 votes; the token's owner has 20 processed videos (one page).
#  2. login cost: N sequential logins at the default argon2id settings.
#  3. a 100 MB upload through the API against a direct PUT of the same
#     file to the same S3 server (a presigned URL, curl), medians.
#  4. the API's peak RSS while 10 clients upload 100 MB each at once.
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-5}
duration=${DURATION:-5}
threads=${API_THREADS:-8}
logins=${LOGINS:-20}
uploads=${UPLOAD_ROUNDS:-3}

sc_services_start "$dir" bench
"$bin/showcasectl" migrate up >/dev/null
psql_b() { "$SC_PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$SC_PG_PORT" -U showcase -d showcase "$@"; }
psql_b -c "
INSERT INTO users (email, password_hash, first_name, last_name, city, country)
    SELECT 'p' || g || '@example.com', 'x', 'Player', g::text, 'City ' || (g % 10), 'CO'
    FROM generate_series(1, 200) g;
INSERT INTO videos (user_id, title, is_public, status, original_key, processed_key,
                    poster_key, processed_at)
    SELECT 1 + (g % 200), 'video ' || g, true, 'processed', 'originals/x/source.mp4',
           'processed/x/video.mp4', 'processed/x/poster.jpg', now() - g * interval '1 minute'
    FROM generate_series(1, 2000) g;
UPDATE videos SET original_key = 'originals/' || id || '/source.mp4',
    processed_key = 'processed/' || id || '/video.mp4', poster_key = 'processed/' || id || '/poster.jpg';
INSERT INTO votes (user_id, video_id)
    SELECT u.id, v.id FROM users u CROSS JOIN LATERAL
        (SELECT id FROM videos ORDER BY md5(u.id::text || id::text) LIMIT 100) v;
ANALYZE;" >/dev/null

export JWT_SECRET
# one player logs in and uploads over and over: the contest's guards
# (per-player uploads at once, rate limits, quotas) would refuse what is
# measured here, so they are off (tests/integration/test_limits.sh tests them)
export API_UPLOADS_PER_USER=0 API_RATE_LIMITS=0 API_VIDEOS_PER_DAY=0 API_VIDEOS_MAX=0
JWT_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
api_port=$(sc_free_port)
base_port=$(sc_free_port)
API_PORT=$api_port API_THREADS=$threads sc_daemon api "$dir" "$dir/api.log" "$bin/showcase-api"
sc_daemon base "$dir" "$dir/base.log" "$bin/bench-http-baseline" "$base_port" "$threads"
api="http://127.0.0.1:$api_port"
sc_wait_for curl -sf -o /dev/null "$api/health/live" || sc_die "api did not start"
sc_wait_for curl -sf -o /dev/null "http://127.0.0.1:$base_port/" || sc_die "baseline did not start"

# a player to log in as; the argon2id settings are the defaults
curl -sf -o /dev/null -H 'Content-Type: application/json' "$api/api/auth/signup" -d \
    '{"first_name":"Bench","last_name":"Mark","email":"bench@example.com","password1":"bench-pass-1","password2":"bench-pass-1","city":"City 1","country":"CO"}'
bench_id=$(psql_b -c "SELECT id FROM users WHERE email = 'bench@example.com'")
psql_b -c "UPDATE videos SET user_id = $bench_id WHERE id IN (SELECT id FROM videos LIMIT 20)" >/dev/null
login='{"email":"bench@example.com","password":"bench-pass-1"}'
token=$(curl -s -H 'Content-Type: application/json' "$api/api/auth/login" -d "$login" | jq -r .access_token)
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$api/api/videos")" = 200 ] ||
    sc_die "GET /api/videos does not answer 200"

# run_wrk URL [wrk args]: prints "req/s p99_ms"
run_wrk() {
    local url=$1
    shift
    wrk -t2 -c64 -d"${duration}s" --latency "$@" "$url" | awk '
        /Requests\/sec/ { rps = $2 }
        /^ +99%/ { v = $2; ms = v + 0
                   if (v ~ /us$/) ms /= 1000; else if (v ~ /[^m]s$/) ms *= 1000
                   p99 = ms }
        /Non-2xx/ { bad = $NF }
        END { if (bad) print "non-2xx answers: " bad > "/dev/stderr"
              printf "%.0f %.2f\n", rps, p99 }'
}

# warm: the first rankings request fills the caches; steady state is measured
curl -sf -o /dev/null "$api/api/public/rankings" || sc_die "GET /api/public/rankings failed"
# ticks PID...: CPU time (user + system, clock ticks) of those processes
ticks() {
    local p t=0
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
    done
    echo "$t"
}
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
pg_pids() {
    local pm
    pm=$(head -n1 "$dir/postgres/data/postmaster.pid")
    echo "$pm"
    pgrep -P "$pm"
}
cpu_now() {
    local pg
    mapfile -t pg < <(pg_pids)
    echo "$(ticks "$(cat "$dir/api.pid")") $(ticks "${pg[@]}") $(busy_ticks)"
}

for n in base live rankings videos share; do : >"$dir/$n.res"; done
for ((i = 1; i <= rounds; i++)); do
    run_wrk "http://127.0.0.1:$base_port/" >>"$dir/base.res"
    run_wrk "$api/health/live" >>"$dir/live.res"
    run_wrk "$api/api/public/rankings" >>"$dir/rankings.res"
    # where the machine's CPU goes while the listing runs
    read -r a0 p0 m0 <<<"$(cpu_now)"
    run_wrk "$api/api/videos" -H "Authorization: Bearer $token" >>"$dir/videos.res"
    read -r a1 p1 m1 <<<"$(cpu_now)"
    echo "$(((a1 - a0) * 100 / (m1 - m0))) $(((p1 - p0) * 100 / (m1 - m0)))" >>"$dir/share.res"
done

col() { cut -d' ' -f"$2" "$dir/$1.res" | median; }
base_rps=$(col base 1)
echo "== requests: wrk -t2 -c64 -d${duration}s, $rounds rounds alternating, medians; $threads API threads; $(nproc) cores"
printf '%-44s %9s %8s %12s\n' "endpoint" "req/s" "p99 ms" "of baseline"
row() {
    printf '%-44s %9s %8s %12s\n' "$1" "$(col "$2" 1)" "$(col "$2" 2)" \
        "$(awk -v a="$(col "$2" 1)" -v b="$base_rps" 'BEGIN { printf "%.2f", a / b }')"
}
row "bench-http-baseline (fixed 200 OK)" base
row "GET /health/live" live
row "GET /api/public/rankings (cached)" rankings
row "GET /api/videos (token, 20 videos, URLs)" videos
echo "CPU used during GET /api/videos (of the busy machine, medians): API $(col share 1)%, PostgreSQL $(col share 2)%"

echo
echo "== login: $logins sequential POST /api/auth/login, argon2id t=2 m=19456 KiB p=1 (the defaults)"
start=$(date +%s%N)
for ((i = 1; i <= logins; i++)); do
    curl -sf -o /dev/null -H 'Content-Type: application/json' "$api/api/auth/login" -d "$login"
done
awk -v ns="$(($(date +%s%N) - start))" -v n="$logins" \
    'BEGIN { printf "%.1f ms per login (wall, one client)\n", ns / n / 1e6 }'

echo
echo "== upload: 100 MB, $uploads rounds alternating, medians"
head -c $((100 * 1000 * 1000)) /dev/urandom >"$dir/big.mp4"
printf '\0\0\0\x20ftypisom' | dd of="$dir/big.mp4" conv=notrunc status=none
: >"$dir/put.res"
: >"$dir/mpu.res"
: >"$dir/up.res"
for ((i = 1; i <= uploads; i++)); do
    url=$("$bin/showcasectl" s3 presign "bench/direct-$i.mp4" --method PUT)
    curl -sf -o /dev/null -w '%{time_total}\n' -T "$dir/big.mp4" "$url" >>"$dir/put.res"
    # the same file as a multipart upload with the API's part settings;
    # through a pipe, so the client cannot see its size and go single-PUT
    start=$(date +%s%N)
    # shellcheck disable=SC2002
    cat "$dir/big.mp4" | S3_PART_SIZE_MB=5 S3_PARTS_IN_FLIGHT=1 \
        "$bin/showcasectl" s3 put - "bench/multipart-$i.mp4" >/dev/null
    awk -v ns="$(($(date +%s%N) - start))" 'BEGIN { print ns / 1e9 }' >>"$dir/mpu.res"
    curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" \
        -F "video_file=@$dir/big.mp4" -F "title=bench $i" "$api/api/videos/upload" >>"$dir/up.res"
done
put_s=$(median <"$dir/put.res")
mpu_s=$(median <"$dir/mpu.res")
up_s=$(median <"$dir/up.res")
awk -v p="$put_s" -v m="$mpu_s" -v u="$up_s" 'BEGIN {
    printf "%-52s %7.2f s %7.1f MB/s\n", "direct PUT to the S3 server (curl, presigned)", p, 100 / p
    printf "%-52s %7.2f s %7.1f MB/s\n", "multipart by the S3 client (5 MiB parts, 1 in flight)", m, 100 / m
    printf "%-52s %7.2f s %7.1f MB/s\n", "POST /api/videos/upload (multipart form)", u, 100 / u
    printf "API / direct PUT throughput: %.2f; API / client multipart: %.2f\n", p / u, m / u }'

echo
echo "== memory: 10 concurrent 100 MB uploads"
# a fresh API, so its peak is this test's
sc_stop_pidfile "$dir/api.pid"
API_PORT=$api_port API_THREADS=$threads sc_daemon api "$dir" "$dir/api.log" "$bin/showcase-api"
sc_wait_for curl -sf -o /dev/null "$api/health/live" || sc_die "api did not restart"
idle=$(awk '/VmHWM/ { print $2 / 1024 }' "/proc/$(cat "$dir/api.pid")/status")
pids=()
for i in $(seq 1 10); do
    curl -s -o "$dir/c$i.out" -w '%{http_code}\n' -H "Authorization: Bearer $token" \
        -F "video_file=@$dir/big.mp4" -F "title=concurrent $i" "$api/api/videos/upload" >"$dir/c$i.code" &
    pids+=($!)
done
wait "${pids[@]}"
ok=$(cat "$dir"/c*.code | grep -c 201 || true)
peak=$(awk '/VmHWM/ { print $2 / 1024 }' "/proc/$(cat "$dir/api.pid")/status")
printf 'peak RSS %.1f MiB (%.1f MiB idle before); %d of 10 answered 201\n' "$peak" "$idle" "$ok"
