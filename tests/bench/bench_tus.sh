#!/usr/bin/env bash
# Resumable (tus) uploads against the classic upload, in one run:
#  1. one 60 MB upload: POST /api/videos/upload (multipart form) against
#     a tus upload (POST /api/uploads/, then one PATCH of the whole file),
#     ROUNDS rounds alternating, medians;
#  2. the API's peak RSS while 10 clients upload 60 MB each at once, the
#     classic way and then with tus, each on a freshly started API.
# Both ways hold one part buffer and a ring per upload in flight and at
# most API_UPLOAD_SLOTS (8) at once; the figures show it.
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-3}
size=$((60 * 1000 * 1000))

sc_services_start "$dir" bench
"$bin/showcasectl" migrate up >/dev/null
# one player uploads over and over: the contest's guards are off
export API_UPLOADS_PER_USER=0 API_RATE_LIMITS=0 API_VIDEOS_PER_DAY=0 API_VIDEOS_MAX=0
JWT_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
export JWT_SECRET
port=$(sc_free_port)
api="http://127.0.0.1:$port"
start_api() {
    [ -e "$dir/api.pid" ] && sc_stop_pidfile "$dir/api.pid"
    API_PORT=$port sc_daemon api "$dir" "$dir/api.log" "$bin/showcase-api"
    sc_wait_for curl -sf -o /dev/null "$api/health/live" || sc_die "api did not start"
}
start_api
curl -sf -o /dev/null -H 'Content-Type: application/json' "$api/api/auth/signup" -d \
    '{"first_name":"Bench","last_name":"Mark","email":"bench@example.com","password1":"bench-pass-1","password2":"bench-pass-1","city":"City 1","country":"CO"}'
token=$(curl -s -H 'Content-Type: application/json' "$api/api/auth/login" \
    -d '{"email":"bench@example.com","password":"bench-pass-1"}' | jq -r .access_token)
head -c "$size" /dev/urandom >"$dir/big.mp4"
printf '\0\0\0\x20ftypisom' | dd of="$dir/big.mp4" conv=notrunc status=none

# classic OUT: one classic upload; the time on OUT's last line
classic() {
    curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $token" \
        -F "video_file=@$dir/big.mp4" -F "title=bench" "$api/api/videos/upload" >>"$1"
}

# tus OUT: one tus upload (create, one PATCH); its status and total time
tus() {
    local t0 loc code
    t0=$(date +%s.%N)
    loc=$(curl -s -o /dev/null -D - -X POST -H "Authorization: Bearer $token" \
        -H "Tus-Resumable: 1.0.0" -H "Upload-Length: $size" \
        -H "Upload-Metadata: title $(printf bench | base64)" "$api/api/uploads/" |
        tr -d '\r' | sed -n 's/^Location: //Ip')
    code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $token" \
        -H "Tus-Resumable: 1.0.0" -H "Upload-Offset: 0" -H "Expect:" \
        -H "Content-Type: application/offset+octet-stream" \
        --data-binary "@$dir/big.mp4" "$api$loc")
    echo "$code $(echo "$(date +%s.%N) - $t0" | bc)" >>"$1"
}

echo "== one 60 MB upload, $rounds rounds alternating, medians"
for ((i = 1; i <= rounds; i++)); do
    classic "$dir/classic.res"
    tus "$dir/tus.res"
done
c=$(awk '{ print $2 }' "$dir/classic.res" | median)
t=$(awk '{ print $2 }' "$dir/tus.res" | median)
awk -v c="$c" -v t="$t" -v mb=60 'BEGIN {
    printf "%-52s %7.2f s %7.1f MB/s\n", "POST /api/videos/upload (multipart form)", c, mb / c
    printf "%-52s %7.2f s %7.1f MB/s\n", "tus: POST /api/uploads/ + one PATCH", t, mb / t
    printf "tus / classic throughput: %.2f\n", c / t }'
echo "answers: classic $(awk '{ print $1 }' "$dir/classic.res" | sort | uniq -c | xargs), tus $(awk '{ print $1 }' "$dir/tus.res" | sort | uniq -c | xargs)"

# peak WAY: 10 uploads at once on a fresh API; its peak and idle RSS
peak() {
    local pids=() i idle
    start_api
    idle=$(awk '/VmHWM/ { print $2 / 1024 }' "/proc/$(cat "$dir/api.pid")/status")
    rm -f "$dir/$1.many"
    for i in $(seq 1 10); do
        "$1" "$dir/$1.many" &
        pids+=($!)
    done
    wait "${pids[@]}"
    printf '%-8s peak RSS %.1f MiB (%.1f MiB idle before); %s\n' "$1" \
        "$(awk '/VmHWM/ { print $2 / 1024 }' "/proc/$(cat "$dir/api.pid")/status")" "$idle" \
        "$(awk '{ print $1 }' "$dir/$1.many" | sort | uniq -c | xargs)"
}

echo
echo "== memory: 10 concurrent 60 MB uploads"
peak classic
peak tus
