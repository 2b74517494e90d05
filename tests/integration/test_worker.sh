#!/usr/bin/env bash
# showcase-worker against real PostgreSQL, redis-server and the S3 server:
# videos whose rows say 'uploaded' are found by the reconciler, queued,
# leased, transcoded in a child, stored in S3 and marked processed, with
# workers killed outright along the way (chaos), stopped with SIGTERM, and
# fed files that crash or hang the transcoder.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

TOOLS="$IT_TOP/tests/integration/tools"
CTL="$BIN_DIR/showcasectl"
P='showcase:{q}:'

it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"
rcli() { redis-cli -p "$IT_REDIS_PORT" "$@"; }

# Small, quick jobs: short clips, no cards, a relaxed policy, short leases.
export POLICY_MIN_SECONDS=0 POLICY_MIN_SHORT_SIDE=0 TRANSCODE_CARD_MS=0
export WORKER_LEASE_MS=3000 WORKER_HEARTBEAT_MS=500 WORKER_RECONCILE_S=1
export WORKER_RETRY_BASE_MS=200 WORKER_RETRY_CAP_MS=1000 WORKER_CONCURRENCY=1
export WORKER_TMP_DIR="$IT_DIR/jobs" WORKER_METRICS_PORT=0
# AddressSanitizer reserves terabytes of address space: no RLIMIT_AS there
if grep -q __asan_init "$BIN_DIR/showcase-transcode"; then export WORKER_MEMORY_MB=0; fi
mkdir -p "$WORKER_TMP_DIR"

ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=320x180:r=15:d=2 -c:v libx264 \
    -preset ultrafast "$IT_DIR/clip.mp4" || it_fail "fixture"
it_psql -c "INSERT INTO users (email, password_hash, first_name, last_name, city, country)
            VALUES ('p@example.com', 'x', 'Ana', 'Diaz', 'Bogota', 'CO')" >/dev/null

# add_videos N ORIGINAL: N rows 'uploaded' long enough ago for the
# reconciler, each with its own copy of ORIGINAL in S3; prints the ids.
add_videos() {
    local n=$1 file=$2 id
    for id in $(it_psql -c "INSERT INTO videos (user_id, title, original_key, updated_at)
                SELECT 1, 'clip ' || g, 'pending', now() - interval '1 hour'
                FROM generate_series(1, $n) g RETURNING id"); do
        "$CTL" s3 put "$file" "originals/$id/source.mp4" >/dev/null || it_fail "upload $id"
        it_psql -c "UPDATE videos SET original_key = 'originals/$id/source.mp4',
                    updated_at = now() - interval '1 hour' WHERE id = '$id'" >/dev/null
        echo "$id"
    done
}

# start_worker NAME [ENV=VALUE...]: a worker in the background (pid file
# NAME.pid, log NAME.log).
start_worker() {
    local name=$1
    shift
    env "$@" "$BIN_DIR/showcase-worker" >>"$IT_DIR/$name.log" 2>&1 &
    echo $! >"$IT_DIR/$name.pid"
}

# wait_status N STATUS SECONDS: until N videos have STATUS.
wait_status() {
    local want=$1 status=$2 deadline=$((SECONDS + $3))
    while [ "$(it_psql -c "SELECT count(*) FROM videos WHERE status = '$status'")" -lt "$want" ]; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.5
    done
}

count() { it_psql -c "SELECT count(*) FROM videos WHERE $1"; }

# wait_video ID STATUS SECONDS: until that video has STATUS.
wait_video() {
    local deadline=$((SECONDS + $3))
    until [ "$(count "id = '$1' AND status = '$2'")" = 1 ]; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.5
    done
}

test_chaos_40_videos_3_workers_random_kills() {
    local kills=0 i victim deadline
    # long enough (about a second each) for kills to land mid-job
    ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=640x360:r=30:d=4 -c:v libx264 \
        -preset ultrafast "$IT_DIR/chaos.mp4" || it_fail "fixture"
    mapfile -t ids < <(add_videos 40 "$IT_DIR/chaos.mp4")
    check_eq "videos added" "${#ids[@]}" 40
    # Every kill of a worker mid-job counts as a crash of that job, and the
    # default cap (3) is reached by bad luck alone when a kill lands every
    # second or two; the cap itself is the poison test's subject.
    for i in 1 2 3; do start_worker "w$i" WORKER_MAX_CRASHES=50; done
    deadline=$((SECONDS + 240))
    while [ "$(count "status IN ('processed', 'failed')")" -lt 40 ] &&
        [ "$(rcli ZCARD "${P}dead")" = 0 ] && [ $SECONDS -lt $deadline ]; do
        sleep "$(( (RANDOM % 2) + 1 ))"
        victim=$((RANDOM % 3 + 1))
        kill -KILL "$(cat "$IT_DIR/w$victim.pid")" 2>/dev/null && kills=$((kills + 1))
        wait "$(cat "$IT_DIR/w$victim.pid")" 2>/dev/null
        start_worker "w$victim" WORKER_MAX_CRASHES=50
    done
    [ "$(rcli ZCARD "${P}dead")" = 0 ] && wait_status 40 processed 60
    echo "    chaos: 40 videos, $kills workers killed, $(count "status = 'processed'") processed," \
        "$(cat "$IT_DIR"/w?.log | grep -c '"job ended: processed"') completions logged"
    check_eq "all processed" "$(count "status = 'processed'")" 40
    check_eq "each with its keys" "$(count "processed_key = 'processed/' || id || '/video.mp4' AND poster_key IS NOT NULL AND report->>'outcome' = 'ok'")" 40
    check "workers were killed" test "$kills" -ge 3
    local missing=0 id
    for id in "${ids[@]}"; do
        "$CTL" s3 head "processed/$id/video.mp4" >/dev/null 2>&1 || missing=$((missing + 1))
    done
    check_eq "one clip per video in S3" "$missing" 0
    check_eq "no lease left" "$(rcli ZCARD "${P}lease")" 0
    check_eq "nothing dead" "$(rcli ZCARD "${P}dead")" 0
    check_eq "no job left" "$(rcli --scan --pattern "${P}job:*" | wc -l)" 0
    check_eq "no transcoder left running" "$(pgrep -f "showcase-transcode.*$IT_DIR" | wc -l)" 0
    for i in 1 2 3; do it_stop_wait "$IT_DIR/w$i.pid"; done
    check_eq "no job directory left" "$(find "$WORKER_TMP_DIR" -mindepth 1 | wc -l)" 0
}

# sigterm_mid_job NAME GRACE: a worker NAME with WORKER_GRACE_S=GRACE gets
# a slow job and SIGTERM a second into it; its exit status is in IT_EXIT.
sigterm_mid_job() {
    start_worker "$1" WORKER_GRACE_S="$2" TRANSCODE_PRESET=medium
    SC_WAIT=30 sc_wait_for grep -q 'job leased' "$IT_DIR/$1.log" || it_fail "no job leased"
    sleep 1
    it_stop_wait "$IT_DIR/$1.pid"
}

test_sigterm_within_grace_finishes_the_job() {
    local id
    ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=1280x720:r=30:d=20 -c:v libx264 \
        -preset ultrafast "$IT_DIR/long.mp4"
    id=$(add_videos 1 "$IT_DIR/long.mp4")
    sigterm_mid_job graceful 60
    check_eq "worker exit status" "$IT_EXIT" 0
    check_eq "the job finished before exit" "$(count "id = '$id' AND status = 'processed'")" 1
    check_contains "log" "$(cat "$IT_DIR/graceful.log")" "finishing running jobs within 60 s"
}

test_sigterm_past_grace_hands_the_job_back() {
    local id
    id=$(add_videos 1 "$IT_DIR/long.mp4")
    sigterm_mid_job impatient 0
    check_eq "worker exit status" "$IT_EXIT" 0
    check_contains "handed back" "$(cat "$IT_DIR/impatient.log")" "handed back at the head of the queue"
    check_eq "back at the head, attempt not counted" \
        "$(rcli LINDEX "${P}pending" 0) $(rcli HGET "${P}job:$id" attempt)" "$id 0"
    start_worker successor
    SC_WAIT=60 sc_wait_for bash -c "[ \"\$(redis-cli -p $IT_REDIS_PORT EXISTS '${P}job:$id')\" = 0 ]"
    check_eq "another worker completed it" "$(count "id = '$id' AND status = 'processed'")" 1
    check_contains "as attempt 1" "$(grep "$id" "$IT_DIR/successor.log" | grep 'job leased')" "attempt 1"
    it_stop_wait "$IT_DIR/successor.pid"
}

test_poison_and_hang_are_dead_lettered_while_others_complete() {
    local crash hang good id
    printf 'CRASH' >"$IT_DIR/crash.bin"
    printf 'HANG' >"$IT_DIR/hang.bin"
    crash=$(add_videos 1 "$IT_DIR/crash.bin")
    hang=$(add_videos 1 "$IT_DIR/hang.bin")
    good=$(add_videos 3 "$IT_DIR/clip.mp4" | xargs)
    start_worker poison WORKER_TRANSCODER="$TOOLS/fake_transcoder.sh" \
        REAL_TRANSCODER="$BIN_DIR/showcase-transcode" WORKER_MAX_ATTEMPTS=2 WORKER_JOB_TIMEOUT_S=5
    SC_WAIT=60 sc_wait_for bash -c "[ \"\$(redis-cli -p $IT_REDIS_PORT ZCARD '${P}dead')\" = 2 ]"
    for id in $good; do wait_video "$id" processed 30; done
    check_eq "dead letters" "$(rcli ZRANGE "${P}dead" 0 -1 | sort | xargs)" "$(printf '%s\n' "$crash" "$hang" | sort | xargs)"
    check_contains "crash reason" "$(rcli HGET "${P}job:$crash" last_error)" "crashed: the transcoder died of signal 11"
    check_contains "hang reason" "$(rcli HGET "${P}job:$hang" last_error)" "timeout: killed after 5 s"
    check_eq "crash recorded in postgresql" "$(it_psql -c "SELECT status, error_code FROM videos WHERE id = '$crash'")" "failed|crashed"
    check_eq "hang recorded in postgresql" "$(it_psql -c "SELECT status, error_code FROM videos WHERE id = '$hang'")" "failed|timeout"
    local n=0
    for id in $good; do
        [ "$(count "id = '$id' AND status = 'processed'")" = 1 ] && n=$((n + 1))
    done
    check_eq "the same worker completed the others" "$n" 3
    it_stop_wait "$IT_DIR/poison.pid"
}

# all_processed IDS...: how many of these videos are processed.
all_processed() {
    local id n=0
    for id in "$@"; do
        [ "$(count "id = '$id' AND status = 'processed'")" = 1 ] && n=$((n + 1))
    done
    echo "$n"
}

# wait_all SECONDS IDS...: until every one of these videos is processed.
wait_all() {
    local deadline=$((SECONDS + $1))
    shift
    until [ "$(all_processed "$@")" = $# ]; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 1
    done
}

test_redis_restarted_empty_the_reconciler_recovers() {
    local ids
    mapfile -t ids < <(add_videos 10 "$IT_DIR/clip.mp4")
    start_worker r1
    start_worker r2
    SC_WAIT=60 sc_wait_for bash -c "[ \$(redis-cli -p $IT_REDIS_PORT ZCARD '${P}lease') -gt 0 ]"
    sc_redis_stop "$IT_DIR/redis"
    rm -rf "$IT_DIR/redis"
    sc_redis_start "$IT_DIR/redis" "$IT_REDIS_PORT"
    check_eq "redis came back empty" "$(rcli DBSIZE)" 0
    wait_all 120 "${ids[@]}"
    check_eq "every video processed" "$(all_processed "${ids[@]}")" 10
    check_contains "the reconciler queued them again" "$(cat "$IT_DIR"/r?.log)" "was unfinished with no job: queued again"
    check_eq "nothing dead" "$(rcli ZCARD "${P}dead")" 0
    it_stop_wait "$IT_DIR/r1.pid"
    it_stop_wait "$IT_DIR/r2.pid"
}

test_s3_down_10s_and_postgresql_restarted_jobs_retry_and_complete() {
    local ids
    mapfile -t ids < <(add_videos 10 "$IT_DIR/clip.mp4")
    start_worker o1 WORKER_MAX_ATTEMPTS=10 WORKER_RETRY_CAP_MS=3000
    start_worker o2 WORKER_MAX_ATTEMPTS=10 WORKER_RETRY_CAP_MS=3000
    SC_WAIT=60 sc_wait_for bash -c "[ \$(redis-cli -p $IT_REDIS_PORT ZCARD '${P}lease') -gt 0 ]"
    sc_s3_stop "$IT_DIR/s3"
    sleep 10
    sc_s3_start "$IT_DIR/s3" "$IT_S3_PORT" showcase
    sc_pg_stop "$IT_DIR/postgres"
    sleep 2
    SC_PG_OPTS="-c fsync=off" sc_pg_start "$IT_DIR/postgres" "$IT_PG_PORT"
    wait_all 150 "${ids[@]}"
    check_eq "every video processed" "$(all_processed "${ids[@]}")" 10
    check_contains "s3 failures were retried" "$(cat "$IT_DIR"/o?.log)" "will retry: s3"
    check_eq "nothing dead" "$(rcli ZCARD "${P}dead")" 0
    check_eq "no lease left" "$(rcli ZCARD "${P}lease")" 0
    it_stop_wait "$IT_DIR/o1.pid"
    it_stop_wait "$IT_DIR/o2.pid"
}

# cpu_ticks PID: user + system CPU time of a process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# While Redis and PostgreSQL are both down, an idle worker waits: a loop
# that retried at once would burn a core (600 ticks in 6 s) and write a
# log line per try.  Afterwards it takes work again by itself.
test_worker_waits_out_an_outage_without_spinning() {
    local pid before_cpu before_log cpu lines hz id
    hz=$(getconf CLK_TCK)
    start_worker idle WORKER_CONCURRENCY=2
    pid=$(cat "$IT_DIR/idle.pid")
    SC_WAIT=30 sc_wait_for grep -q 'worker .* started' "$IT_DIR/idle.log" || it_fail "worker start"
    sleep 1
    before_cpu=$(cpu_ticks "$pid")
    before_log=$(wc -l <"$IT_DIR/idle.log")
    sc_redis_stop "$IT_DIR/redis"
    sc_pg_stop "$IT_DIR/postgres"
    sleep 6
    cpu=$(($(cpu_ticks "$pid") - before_cpu))
    lines=$(($(wc -l <"$IT_DIR/idle.log") - before_log))
    echo "    outage of 6 s: $cpu CPU ticks ($hz a second), $lines log lines"
    check "less than a fifth of a core while down ($cpu ticks)" test "$cpu" -lt $((6 * hz / 5))
    check "a few log lines, not one per try ($lines)" test "$lines" -le 12
    check_contains "the outage is named" "$(tail -n "$lines" "$IT_DIR/idle.log")" "cannot take jobs"
    check "still running" kill -0 "$pid"
    sc_redis_start "$IT_DIR/redis" "$IT_REDIS_PORT"
    SC_PG_OPTS="-c fsync=off" sc_pg_start "$IT_DIR/postgres" "$IT_PG_PORT"
    id=$(add_videos 1 "$IT_DIR/clip.mp4")
    wait_video "$id" processed 60
    check_eq "a job done after the outage" "$(count "id = '$id' AND status = 'processed'")" 1
    check_contains "said so" "$(cat "$IT_DIR/idle.log")" "taking jobs again"
    it_stop_wait "$IT_DIR/idle.pid"
}

test_video_deleted_mid_job_leaves_nothing() {
    local id
    ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=1280x720:r=30:d=8 -c:v libx264 \
        -preset ultrafast "$IT_DIR/del.mp4" || it_fail "fixture"
    id=$(add_videos 1 "$IT_DIR/del.mp4")
    start_worker deleter TRANSCODE_PRESET=medium
    SC_WAIT=30 sc_wait_for grep -q "\"video_id\":\"$id\".*job leased" "$IT_DIR/deleter.log" || it_fail "not leased"
    # what DELETE /api/videos/{id} does: the row, then the original
    it_psql -c "DELETE FROM videos WHERE id = '$id'" >/dev/null
    "$CTL" s3 rm "originals/$id/source.mp4" >/dev/null
    SC_WAIT=60 sc_wait_for grep -q 'video deleted while processing; its outputs removed' "$IT_DIR/deleter.log"
    check_contains "the worker noticed" "$(cat "$IT_DIR/deleter.log")" "video deleted while processing"
    check "no processed video left" bash -c "! '$CTL' s3 head processed/$id/video.mp4 2>/dev/null"
    check "no poster left" bash -c "! '$CTL' s3 head processed/$id/poster.jpg 2>/dev/null"
    check_eq "no job left" "$(rcli EXISTS "${P}job:$id")" 0
    it_stop_wait "$IT_DIR/deleter.pid"
}

test_refused_source_fails_at_once() {
    local id
    printf 'not a video at all' >"$IT_DIR/junk.mp4"
    id=$(add_videos 1 "$IT_DIR/junk.mp4")
    start_worker refuse
    wait_video "$id" failed 30
    check_eq "failed with its reason, first attempt" \
        "$(it_psql -c "SELECT status, error_code, attempt FROM videos WHERE id = '$id'")" "failed|corrupt|1"
    check_contains "message kept" "$(it_psql -c "SELECT error_message FROM videos WHERE id = '$id'")" "cannot be read"
    check_eq "not dead-lettered, not retried" "$(rcli ZSCORE "${P}dead" "$id")$(rcli EXISTS "${P}job:$id")" "0"
    it_stop_wait "$IT_DIR/refuse.pid"
}

test_metrics_count_what_happened() {
    local good bad port m id
    good=$(add_videos 2 "$IT_DIR/clip.mp4" | xargs)
    bad=$(add_videos 1 "$IT_DIR/junk.mp4")
    port=$(sc_free_port)
    start_worker metrics WORKER_METRICS_PORT="$port"
    for id in $good; do wait_video "$id" processed 60; done
    wait_video "$bad" failed 60
    sleep 1    # one more beat for the queue figures
    m=$(curl -sf "http://127.0.0.1:$port/metrics")
    check_contains "processed" "$m" 'showcase_jobs_total{outcome="processed"} 2'
    check_contains "failed" "$m" 'showcase_jobs_total{outcome="failed"} 1'
    check_contains "durations" "$m" 'showcase_job_duration_seconds_count 3'
    check_contains "+Inf bucket" "$m" 'showcase_job_duration_seconds_bucket{le="+Inf"} 3'
    check_contains "nothing in flight" "$m" 'showcase_jobs_in_flight 0'
    check_contains "queue empty" "$m" 'showcase_queue_jobs{state="pending"} 0'
    check_contains "this worker is live" "$m" 'showcase_workers 1'
    check_contains "backlog per worker" "$m" 'showcase_queue_backlog_per_worker 0.00'
    check_eq "liveness" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health/live")" 200
    check_eq "unknown path" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")" 404
    it_stop_wait "$IT_DIR/metrics.pid"
}

it_main
