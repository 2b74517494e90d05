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

echo
echo "== a sample video through the queue and a worker"
# a 1080p, 24 s phone-style sample with sound, made once with ffmpeg
sample="$run/sample/sample-1080p.mp4"
mkdir -p "$run/sample"
if [ ! -s "$sample" ]; then
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=1920x1080:r=30:d=24" \
        -f lavfi -i "sine=f=440:d=24" -c:v libx264 -preset veryfast -crf 23 \
        -pix_fmt yuv420p -c:a aac "$sample.tmp.mp4"
    mv "$sample.tmp.mp4" "$sample"
fi
# the way an upload will arrive: original in S3, a row 'uploaded', a job
db() {
    # shellcheck disable=SC2016  # expanded by the inner shell, with the stack's env
    "$here/stack.sh" exec bash -c 'psql -X -q -At -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"' psql "$@"
}
db -c "INSERT INTO users (email, password_hash, first_name, last_name, city, country)
       SELECT 'demo@example.com', 'x', 'Demo', 'Player', 'Bogota', 'CO'
       WHERE NOT EXISTS (SELECT 1 FROM users WHERE email = 'demo@example.com')" >/dev/null
id=$(db -c "INSERT INTO videos (user_id, title, original_key)
            SELECT id, 'demo crossover', 'pending' FROM users
            WHERE email = 'demo@example.com' RETURNING id")
"$here/stack.sh" exec showcasectl s3 put "$sample" "originals/$id/source.mp4"
db -c "UPDATE videos SET original_key = 'originals/$id/source.mp4' WHERE id = '$id'" >/dev/null
echo "video $id: $("$here/stack.sh" exec showcasectl queue enqueue "$id")"
printf 'processing'
for _ in $(seq 1 120); do
    status=$(db -c "SELECT status FROM videos WHERE id = '$id'")
    case $status in processed | failed) break ;; esac
    printf '.'
    sleep 1
done
echo " $status"
db -c "SELECT status, attempt, processed_key, poster_key, error_code FROM videos WHERE id = '$id'"
db -c "SELECT report FROM videos WHERE id = '$id'" | jq '{outcome, message,
    source: (.source | {container, codec, width, height, duration, fps, rotation}),
    output: (.output | {width, height, duration, fps, trimmed, bytes, moov_first}), stages_ms}'
echo "job history:"
grep -h "\"video_id\":\"$id\"" "$run"/logs/worker-*.log | jq -r '"  " + .ts + " " + .msg'
echo "playback URL (presigned, 15 minutes):"
"$here/stack.sh" exec showcasectl s3 presign "processed/$id/video.mp4"

cat <<MSG

What runs now: PostgreSQL, Redis and the S3 server, the API answering
/health and /health/live, and the workers: the sample above went the way
an upload will (original in S3, row 'uploaded', job in Redis), was leased
by a worker, transcoded in a child process, stored in S3 and marked
processed.  Not built yet: accounts, uploads through the API, votes and
rankings, so the demo puts the sample in place itself.

Queue:  deploy/local/stack.sh exec showcasectl queue stats
Sample: $run/sample/sample-1080p.mp4
Logs:   $run/logs/
Stop:   deploy/local/stack.sh stop
MSG
