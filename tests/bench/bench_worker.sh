#!/usr/bin/env bash
# Fleet throughput: one showcase-worker with WORKER_CONCURRENCY 1, 2 and 3
# on this machine, each run turning the same JOBS videos (the 60 s 1080p
# reference clip of bench_transcode.sh, stored JOBS times in S3) into
# clips end to end: lease, S3 download, transcode, S3 upload, PostgreSQL.
# Jobs per hour = JOBS / wall seconds from the worker's start until the
# last video is processed x 3600.  Against real PostgreSQL, redis-server
# and the S3 server, started here.
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
jobs=${JOBS:-6}
levels=${LEVELS:-1 2 3}

sc_services_start "$dir" bench
export MIGRATIONS_DIR="$top/migrations" POLICY_MAX_SECONDS=61
export WORKER_RECONCILE_S=1 WORKER_HEARTBEAT_MS=500 WORKER_TMP_DIR="$dir"
psql_() { "$SC_PG_BIN/psql" -X -q -At -h 127.0.0.1 -p "$SC_PG_PORT" -U showcase -d showcase "$@"; }

"$bin/showcasectl" migrate up >/dev/null
echo "# generating the reference input" >&2
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=1920x1080:r=30:d=60,noise=alls=4:allf=t" \
    -f lavfi -i "sine=f=440:d=60" -c:v libx264 -preset veryfast -b:v 10M \
    -maxrate 10M -bufsize 20M -pix_fmt yuv420p -c:a aac -b:a 128k "$dir/ref60.mp4"
psql_ -c "INSERT INTO users (email, password_hash, first_name, last_name, city, country)
          VALUES ('bench@example.com', 'x', 'B', 'B', 'C', 'C')" >/dev/null
for id in $(psql_ -c "INSERT INTO videos (user_id, title, original_key)
                      SELECT 1, 'bench', 'x' FROM generate_series(1, $jobs) RETURNING id"); do
    "$bin/showcasectl" s3 put "$dir/ref60.mp4" "originals/$id/source.mp4" >/dev/null
    psql_ -c "UPDATE videos SET original_key = 'originals/$id/source.mp4' WHERE id = '$id'" >/dev/null
done

echo "$jobs jobs of the 60 s 1080p reference clip per run, defaults (ultrafast CRF 23, cards); $(nproc) cores"
printf '%-22s %8s %10s\n' concurrency "wall s" "jobs/h"
for c in $levels; do
    # every video back to 'uploaded', long idle: the reconciler queues them
    psql_ -c "UPDATE videos SET status = 'uploaded', processed_key = NULL, processed_at = NULL,
              updated_at = now() - interval '1 hour'" >/dev/null
    redis-cli -p "$SC_REDIS_PORT" FLUSHALL >/dev/null
    start=$(date +%s.%N)
    WORKER_CONCURRENCY=$c "$bin/showcase-worker" 2>>"$dir/worker.log" &
    echo $! >"$dir/worker.pid"
    until [ "$(psql_ -c "SELECT count(*) FROM videos WHERE status = 'processed'")" = "$jobs" ]; do
        sleep 0.2
    done
    end=$(date +%s.%N)
    sc_stop_pidfile "$dir/worker.pid"
    awk -v c="$c" -v s="$start" -v e="$end" -v n="$jobs" \
        'BEGIN { printf "%-22s %8.1f %10.0f\n", c, e - s, n / (e - s) * 3600 }'
done
