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
echo "== the pipeline on a sample video (showcase-transcode)"
# a 1080p, 24 s phone-style sample with sound, made once with ffmpeg
sample="$run/sample/sample-1080p.mp4"
mkdir -p "$run/sample"
if [ ! -s "$sample" ]; then
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=1920x1080:r=30:d=24" \
        -f lavfi -i "sine=f=440:d=24" -c:v libx264 -preset veryfast -crf 23 \
        -pix_fmt yuv420p -c:a aac "$sample.tmp.mp4"
    mv "$sample.tmp.mp4" "$sample"
fi
"$here/stack.sh" exec showcase-transcode --report "$run/sample/report.json" \
    --poster "$run/sample/poster.jpg" "$sample" "$run/sample/video.mp4"
jq '{outcome, message, source: (.source | {container, codec, width, height, duration, fps, rotation}),
     output: (.output | {width, height, duration, fps, trimmed, bytes, moov_first}), stages_ms}' \
    "$run/sample/report.json"
"$here/stack.sh" exec showcasectl s3 put "$run/sample/video.mp4" processed/demo/video.mp4
"$here/stack.sh" exec showcasectl s3 put "$run/sample/poster.jpg" processed/demo/poster.jpg
echo "playback URL (presigned, 15 minutes):"
"$here/stack.sh" exec showcasectl s3 presign processed/demo/video.mp4

cat <<MSG

What runs now: PostgreSQL, Redis and the S3 server, the API answering
/health and /health/live, the workers keeping their presence in Redis, and
the transcode pipeline (above: the sample turned into the contest clip and
stored in S3).  Not built yet: accounts, uploads through the API and the
job queue, so the sample is processed by the command-line tool rather than
by a worker.

Sample: $run/sample/ (video.mp4, poster.jpg, report.json)
Logs:   $run/logs/
Stop:   deploy/local/stack.sh stop
MSG
