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
echo "the players' portal: http://127.0.0.1:$api_port/ ($(curl -s -o /dev/null -w '%{http_code} %{content_type}' "http://127.0.0.1:$api_port/"))"

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

echo
echo "== a player's journey through the API (http://127.0.0.1:$api_port)"
# a 1080p, 24 s phone-style sample with sound, made once with ffmpeg
sample="$run/sample/sample-1080p.mp4"
mkdir -p "$run/sample"
if [ ! -s "$sample" ]; then
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=1920x1080:r=30:d=24" \
        -f lavfi -i "sine=f=440:d=24" -c:v libx264 -preset veryfast -crf 23 \
        -pix_fmt yuv420p -c:a aac "$sample.tmp.mp4"
    mv "$sample.tmp.mp4" "$sample"
fi
api="http://127.0.0.1:$api_port"
# show METHOD PATH [curl args]: print the request and the answer
show() {
    local method=$1 path=$2
    shift 2
    echo "\$ $method $path" >&2
    curl -s -X "$method" "$@" "$api$path"
}
# account EMAIL FIRST_NAME: sign up (once: a later run finds it made) and
# log in; prints the token
account() {
    local signup out
    signup=$(jq -cn --arg e "$1" --arg f "$2" '{first_name:$f,last_name:"Demo",email:$e,
        password1:"demo-pass-1",password2:"demo-pass-1",city:"Bogota",country:"CO"}')
    out=$(show POST /api/auth/signup -H 'Content-Type: application/json' -d "$signup")
    jq -c . <<<"$out" >&2
    [ "$(jq -r .error <<<"$out")" != email_taken ] || echo "  (made by an earlier run: fine)" >&2
    show POST /api/auth/login -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"demo-pass-1\"}" | tee /dev/stderr | jq -r .access_token
    echo >&2
}
token=$(account demo-player@example.com Player)
out=$(show POST /api/videos/upload -H "Authorization: Bearer $token" \
    -F "video_file=@$sample;type=video/mp4" -F "title=Demo crossover" -F is_public=true)
echo "$out" | jq -c .
id=$(jq -r .video_id <<<"$out")
[ "$id" != null ] || sc_die "the upload was refused"
echo "\$ GET /api/videos/$id (every second until processed)"
status=
for _ in $(seq 1 180); do
    detail=$(curl -s -H "Authorization: Bearer $token" "$api/api/videos/$id")
    now=$(jq -r '"\(.status) \(.progress)%"' <<<"$detail")
    [ "$now" = "$status" ] || echo "  $now"
    status=$now
    case $status in processed* | failed*) break ;; esac
    sleep 1
done
jq '{video_id, title, status, uploaded_at, processed_at, votes, error}' <<<"$detail"
url=$(jq -r .processed_url <<<"$detail")
[ "$url" != null ] || sc_die "the video was not processed: $(jq -c .error <<<"$detail")"
curl -s -o "$run/sample/processed.mp4" "$url"
echo
echo "== the result"
echo "playback URL (presigned, expires in 15 minutes):"
echo "  $url"
echo "downloaded to $run/sample/processed.mp4; ffprobe says:"
ffprobe -v error -show_entries stream=codec_type,codec_name,width,height,pix_fmt,r_frame_rate \
    -show_entries format=duration,size -of compact=p=0 "$run/sample/processed.mp4" | sed 's/^/  /'
db() {
    # shellcheck disable=SC2016  # expanded by the inner shell, with the stack's env
    "$here/stack.sh" exec bash -c 'psql -X -q -At -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"' psql "$@"
}
echo "the worker's report:"
db -c "SELECT report FROM videos WHERE id = '$id'" | jq '{outcome, message,
    source: (.source | {container, codec, width, height, duration, fps, rotation}),
    output: (.output | {width, height, duration, fps, trimmed, bytes, moov_first}), stages_ms}'
echo "job history:"
grep -h "\"video_id\":\"$id\"" "$run"/logs/worker-*.log | jq -r '"  " + .ts + " " + .msg'
echo
echo "== votes and the ranking"
echo "a player cannot vote for their own video:"
show POST "/api/public/videos/$id/vote" -H "Authorization: Bearer $token" | jq -c .
echo "a fan can:"
fan=$(account demo-fan@example.com Fan 2>/dev/null)
show POST "/api/public/videos/$id/vote" -H "Authorization: Bearer $fan" | jq -c .
show GET "/api/public/rankings?city=Bogota&limit=3" | jq -c .

cat <<MSG

What runs now: PostgreSQL, Redis and the S3 server, the API on $api
and the workers.  The sample above was uploaded through the API (streamed
into S3, a row 'uploaded', a job in Redis), leased by a worker, transcoded
in a child process, stored in S3, marked processed, and voted for.

Portal: $api/  (sign up, upload, watch, vote in a browser; the demo
        accounts above log in with the password demo-pass-1)
API:    docs/openapi.yaml; tests/postman/ for a Postman collection
Queue:  deploy/local/stack.sh exec showcasectl queue stats
Logs:   $run/logs/
Stop:   deploy/local/stack.sh stop
MSG
