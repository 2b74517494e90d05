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
# a job of several seconds, for stopping or killing a worker mid-job
ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=1280x720:r=30:d=20 -c:v libx264 \
    -preset ultrafast "$IT_DIR/long.mp4" || it_fail "fixture"
it_psql -c "INSERT INTO users (email, password_hash, first_name, last_name, city, country)
            VALUES ('p@example.com', 'x', 'Ana', 'Diaz', 'Bogota', 'CO')" >/dev/null

# add_videos N ORIGINAL: N rows 'uploaded' long enough ago for the
# reconciler, each with its own copy of ORIGINAL in S3; prints the ids.
# OWNER names their owner by email (default the user made below).
add_videos() {
    local n=$1 file=$2 id
    for id in $(it_psql -c "INSERT INTO videos (user_id, title, original_key, updated_at)
                SELECT (SELECT id FROM users WHERE email = '${OWNER:-p@example.com}'),
                       'clip ' || g, 'pending', now() - interval '1 hour'
                FROM generate_series(1, $n) g RETURNING id"); do
        "$CTL" s3 put "$file" "originals/$id/source.mp4" >/dev/null || it_fail "upload $id"
        it_psql -c "UPDATE videos SET original_key = 'originals/$id/source.mp4',
                    updated_at = now() - interval '1 hour' WHERE id = '$id'" >/dev/null
        echo "$id"
    done
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
    local kills=0 i victim deadline in
    # long enough (about a second each) for kills to land mid-job
    ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=640x360:r=30:d=4 -c:v libx264 \
        -preset ultrafast "$IT_DIR/chaos.mp4" || it_fail "fixture"
    mapfile -t ids < <(add_videos 40 "$IT_DIR/chaos.mp4")
    check_eq "videos added" "${#ids[@]}" 40
    in=$(printf "'%s'," "${ids[@]}")
    in="id IN (${in%,})"
    # the default crash cap (3): a video whose job is killed three times is
    # dead and must end 'failed' with its reason, never stay unfinished
    for i in 1 2 3; do it_start_worker_bg "w$i"; done
    deadline=$((SECONDS + 240))
    while [ "$(count "$in AND status IN ('processed', 'failed')")" -lt 40 ] &&
        [ $SECONDS -lt $deadline ]; do
        sleep "$(( (RANDOM % 2) + 1 ))"
        victim=$((RANDOM % 3 + 1))
        kill -KILL "$(cat "$IT_DIR/w$victim.pid")" 2>/dev/null && kills=$((kills + 1))
        wait "$(cat "$IT_DIR/w$victim.pid")" 2>/dev/null
        it_start_worker_bg "w$victim"
    done
    local processed failed
    processed=$(count "$in AND status = 'processed'")
    failed=$(count "$in AND status = 'failed'")
    echo "    chaos: 40 videos, $kills workers killed: $processed processed, $failed failed" \
        "($(it_psql -c "SELECT string_agg(DISTINCT error_code, ',') FROM videos WHERE $in AND status = 'failed'"))"
    check_eq "every video finished" "$((processed + failed))" 40
    check_eq "none unfinished" "$(count "$in AND status IN ('uploaded', 'processing')")" 0
    check_eq "each failure with its reason" "$(count "$in AND status = 'failed' AND (error_code <> 'worker_lost' OR error_message = '')")" 0
    check_eq "each processed one with its attempt's keys" \
        "$(count "$in AND status = 'processed' AND processed_key = 'processed/' || id || '/' || attempt || '/video.mp4' AND poster_key IS NOT NULL AND report->>'outcome' = 'ok'")" "$processed"
    check "workers were killed" test "$kills" -ge 3
    local missing=0 key
    for key in $(it_psql -c "SELECT processed_key FROM videos WHERE $in AND status = 'processed'"); do
        "$CTL" s3 head "$key" >/dev/null 2>&1 || missing=$((missing + 1))
    done
    check_eq "one clip per processed video in S3" "$missing" 0
    check_eq "no lease left" "$(rcli ZCARD "${P}lease")" 0
    check_eq "one dead job per failed video" "$(rcli ZCARD "${P}dead")" "$failed"
    check_eq "no other job left" "$(rcli --scan --pattern "${P}job:*" | grep -vc ':history$')" "$failed"
    check_eq "no transcoder left running" "$(pgrep -f "showcase-transcode.*$IT_DIR" | wc -l)" 0
    for i in 1 2 3; do it_stop_wait "$IT_DIR/w$i.pid"; done
    check_eq "no job directory left" "$(find "$WORKER_TMP_DIR" -mindepth 1 | wc -l)" 0
    "$CTL" queue purge-dead >/dev/null
}

# sigterm_mid_job NAME GRACE: a worker NAME with WORKER_GRACE_S=GRACE gets
# a slow job and SIGTERM a second into it; its exit status is in IT_EXIT.
sigterm_mid_job() {
    it_start_worker_bg "$1" WORKER_GRACE_S="$2" TRANSCODE_PRESET=medium
    SC_WAIT=30 sc_wait_for grep -q 'job leased' "$IT_DIR/$1.log" || it_fail "no job leased"
    sleep 1
    it_stop_wait "$IT_DIR/$1.pid"
}

test_sigterm_within_grace_finishes_the_job() {
    local id
    id=$(add_videos 1 "$IT_DIR/long.mp4")
    sigterm_mid_job graceful 120
    check_eq "worker exit status" "$IT_EXIT" 0
    check_eq "the job finished before exit" "$(count "id = '$id' AND status = 'processed'")" 1
    check_contains "log" "$(cat "$IT_DIR/graceful.log")" "finishing running jobs within 120 s"
}

test_sigterm_past_grace_hands_the_job_back() {
    local id
    id=$(add_videos 1 "$IT_DIR/long.mp4")
    sigterm_mid_job impatient 0
    check_eq "worker exit status" "$IT_EXIT" 0
    check_contains "handed back" "$(cat "$IT_DIR/impatient.log")" "handed back at the head of the queue"
    check_eq "back at the head, attempt not counted" \
        "$(rcli LINDEX "${P}pending" 0) $(rcli HGET "${P}job:$id" attempt)" "$id 0"
    it_start_worker_bg successor
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
    # the real transcoder's path in a file beside the script (see there)
    # a copy: the transcoder's user may not reach the checkout
    cp "$TOOLS/fake_transcoder.sh" "$IT_DIR/fake_transcoder.sh"
    echo "$BIN_DIR/showcase-transcode" >"$IT_DIR/fake_transcoder.sh.real"
    it_start_worker_bg poison WORKER_TRANSCODER="$IT_DIR/fake_transcoder.sh" \
        WORKER_MAX_ATTEMPTS=2 WORKER_JOB_TIMEOUT_S=5
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

# The worker's child is the transcoder and nothing of the worker: a spy
# in the transcoder's place records what it was given, then becomes the
# real one.  Its environment is the transcoder's settings only, so the
# script has the paths written into it.
test_transcoder_gets_nothing_of_the_worker() {
    local spy="$IT_DIR/spy.sh" rec="$IT_DIR/spy" id r fds
    mkdir -m 1777 "$rec"	# whatever user the transcoder runs as
    cat >"$spy" <<EOF
#!/bin/bash
{
    echo "uid \$(id -u)"
    echo "args \$*"
    echo "net \$(readlink /proc/self/ns/net)"
    env | sed 's/^/env /'
    ls -l /proc/self/fd | awk 'NR > 1 { print "fd", \$9, \$11 }'
    grep -E '^(SigBlk|SigIgn|NoNewPrivs):' /proc/self/status
    grep -E '^Max (cpu time|open files|file size|core file size) ' /proc/self/limits
} >"$rec/record" 2>&1
exec "$BIN_DIR/showcase-transcode" "\$@"
EOF
    chmod 755 "$spy"
    id=$(add_videos 1 "$IT_DIR/clip.mp4")
    it_start_worker_bg spy WORKER_TRANSCODER="$spy"
    wait_video "$id" processed 60
    it_stop_wait "$IT_DIR/spy.pid"
    r=$(cat "$rec/record" 2>/dev/null)
    check "the spy ran" test -n "$r"
    check_eq "processed through it" "$(count "id = '$id' AND status = 'processed'")" 1
    # environment: the settings, a fixed PATH, no secret
    check "the worker has the secrets" test -n "$DATABASE_URL$REDIS_URL$AWS_SECRET_ACCESS_KEY$JWT_SECRET"
    check_eq "no secret passed" "$(grep -cE '^env (DATABASE_URL|REDIS_URL|AWS_[A-Z_]*|JWT_SECRET|S3_[A-Z_]*)=' <<<"$r")" 0
    check_contains "settings passed" "$r" "env TRANSCODE_CARD_MS=0"
    check_contains "a fixed PATH" "$r" "env PATH=/usr/bin:/bin"
    check_contains "sandboxed" "$r" "args --sandbox --progress-fd 3 "
    # descriptors: 0 to 2, the progress pipe at 3, and the one ls lists
    fds=$(grep '^fd ' <<<"$r" | grep -v '/proc/[0-9]*/fd$' | cut -d' ' -f2 | xargs)
    check_eq "descriptors" "$fds" "0 1 2 3"
    check_eq "no socket" "$(grep -c 'socket:' <<<"$r")" 0
    check_contains "stdin" "$r" "fd 0 /dev/null"
    check_contains "progress pipe" "$r" "fd 3 pipe:"
    # signals: the worker blocks SIGTERM and SIGINT and ignores SIGPIPE
    check_contains "nothing blocked" "$r" "SigBlk:	0000000000000000"
    check_contains "nothing ignored" "$r" "SigIgn:	0000000000000000"
    check_contains "no new privileges" "$r" "NoNewPrivs:	1"
    # limits
    check "CPU time limited" grep -qE '^Max cpu time +[0-9]+ +[0-9]+ +seconds' <<<"$r"
    check "64 files" grep -qE '^Max open files +64 +64 ' <<<"$r"
    check "1 GiB a file" grep -qE '^Max file size +1073741824 +1073741824 ' <<<"$r"
    check "no core" grep -qE '^Max core file size +0 +0 ' <<<"$r"
    if [ "$(id -u)" = 0 ]; then
        check_eq "a worker run by root: the transcoder is nobody" "$(sed -n 's/^uid //p' <<<"$r")" 65534
        check "in a network namespace of its own" \
            test "$(sed -n 's/^net //p' <<<"$r")" != "$(readlink /proc/self/ns/net)"
        check_contains "said at start-up" "$(cat "$IT_DIR/spy.log")" "transcodes run as user nobody (uid 65534"
    fi
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
    it_start_worker_bg r1
    it_start_worker_bg r2
    SC_WAIT=60 sc_wait_for bash -c "[ \$(redis-cli -p $IT_REDIS_PORT ZCARD '${P}lease') -gt 0 ]"
    sc_redis_stop "$IT_DIR/redis"
    rm -rf "$IT_DIR/redis"
    sc_redis_start "$IT_DIR/redis" "$IT_REDIS_PORT"
    check_eq "redis came back empty" "$(rcli DBSIZE)" 0
    wait_all 120 "${ids[@]}"
    check_eq "every video processed" "$(all_processed "${ids[@]}")" 10
    check_contains "the reconciler queued them again" "$(cat "$IT_DIR"/r?.log)" "with no job: queued again"
    check_eq "nothing dead" "$(rcli ZCARD "${P}dead")" 0
    it_stop_wait "$IT_DIR/r1.pid"
    it_stop_wait "$IT_DIR/r2.pid"
}

test_s3_down_10s_and_postgresql_restarted_jobs_retry_and_complete() {
    local ids
    mapfile -t ids < <(add_videos 10 "$IT_DIR/clip.mp4")
    it_start_worker_bg o1 WORKER_MAX_ATTEMPTS=10 WORKER_RETRY_CAP_MS=3000
    it_start_worker_bg o2 WORKER_MAX_ATTEMPTS=10 WORKER_RETRY_CAP_MS=3000
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
    it_start_worker_bg idle WORKER_CONCURRENCY=2
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
    it_start_worker_bg deleter TRANSCODE_PRESET=medium
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
    it_start_worker_bg refuse
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
    it_start_worker_bg metrics WORKER_METRICS_PORT="$port"
    for id in $good; do wait_video "$id" processed 60; done
    wait_video "$bad" failed 60
    # one video unfinished two hours after its upload: stuck
    it_psql -c "INSERT INTO videos (user_id, title, original_key, status, uploaded_at)
                VALUES (1, 'stuck', 'originals/z/source.mp4', 'processing', now() - interval '2 hours')" >/dev/null
    sleep 1    # one more beat for the queue figures
    m=$(curl -sf "http://127.0.0.1:$port/metrics")
    it_psql -c "DELETE FROM videos WHERE title = 'stuck'" >/dev/null
    check_contains "one stuck video" "$m" 'showcase_videos_stuck 1'
    check "two hours old" grep -qE '^showcase_videos_stuck_oldest_seconds 7[23][0-9]{2}$' <<<"$m"
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

# kill_mid_job NAME: wait until worker NAME runs its transcoder, then
# SIGKILL the worker (its transcoder dies with it).
kill_mid_job() {
    SC_WAIT=30 sc_wait_for grep -q 'job leased' "$IT_DIR/$1.log" || it_fail "no job leased"
    SC_WAIT=30 sc_wait_for pgrep -f "showcase-transcode.*$WORKER_TMP_DIR" || it_fail "no transcoder"
    kill -KILL "$(cat "$IT_DIR/$1.pid")"
    wait "$(cat "$IT_DIR/$1.pid")" 2>/dev/null
    rm -f "$IT_DIR/$1.pid"
}

# api_video ID TOKEN: GET /api/videos/ID as the owner, as "status code".
api_video() {
    curl -s -H "Authorization: Bearer $2" "http://127.0.0.1:$IT_API_PORT/api/videos/$1" |
        jq -r '[.status, (.error.code // "-")] | join(" ")'
}

# The crash cap reached by the reaper fails the video in PostgreSQL, and
# the API shows it; an admin's retry brings it back and it is processed.
test_crash_cap_reached_fails_the_video() {
    local id tok t0 took
    it_start_api api || return
    curl -s -o /dev/null -H 'Content-Type: application/json' \
        --data '{"first_name":"Eva","last_name":"Ruiz","email":"eva@example.com","password1":"secret123","password2":"secret123","city":"Lima","country":"PE"}' \
        "http://127.0.0.1:$IT_API_PORT/api/auth/signup"
    tok=$(curl -s -H 'Content-Type: application/json' --data '{"email":"eva@example.com","password":"secret123"}' \
        "http://127.0.0.1:$IT_API_PORT/api/auth/login" | jq -r .access_token)
    id=$(OWNER=eva@example.com add_videos 1 "$IT_DIR/long.mp4")
    it_start_worker_bg doomed WORKER_MAX_CRASHES=1 TRANSCODE_PRESET=medium
    kill_mid_job doomed
    t0=$SECONDS
    it_start_worker_bg heir WORKER_MAX_CRASHES=1
    wait_video "$id" failed 30
    took=$((SECONDS - t0))
    echo "    failed ${took}s after the kill (lease 3 s)"
    check_eq "failed with its reason" "$(it_psql -c "SELECT status, error_code FROM videos WHERE id = '$id'")" "failed|worker_lost"
    check_contains "and a message" "$(it_psql -c "SELECT error_message FROM videos WHERE id = '$id'")" "lease expired"
    check "within two leases and a beat (${took}s)" test "$took" -le 8
    check_eq "the API shows it" "$(api_video "$id" "$tok")" "failed worker_lost"
    check_eq "its job is dead" "$(rcli HGET "${P}job:$id" state)" dead
    check_eq "an admin's retry" "$("$CTL" queue retry "$id"; echo "exit $?")" "exit 0"
    wait_video "$id" processed 90
    check_eq "then it is processed" "$(api_video "$id" "$tok")" "processed -"
    it_stop_wait "$IT_DIR/heir.pid"
}

# The same while PostgreSQL is down when the job dies: once it is back,
# the reconciler repairs the row.
test_crash_cap_with_postgresql_down_is_repaired() {
    local id
    id=$(add_videos 1 "$IT_DIR/long.mp4")
    it_start_worker_bg doomed2 WORKER_MAX_CRASHES=1 TRANSCODE_PRESET=medium
    kill_mid_job doomed2
    sc_pg_stop "$IT_DIR/postgres"
    it_start_worker_bg heir2 WORKER_MAX_CRASHES=1
    SC_WAIT=30 sc_wait_for bash -c "[ \"\$(redis-cli -p $IT_REDIS_PORT HGET '${P}job:$id' state)\" = dead ]" \
        || it_fail "the job did not die"
    SC_WAIT=10 sc_wait_for grep -q "cannot be marked failed" "$IT_DIR/heir2.log"
    check_contains "the reaper could not write" "$(cat "$IT_DIR/heir2.log")" "the reconciler will"
    SC_PG_OPTS="-c fsync=off" sc_pg_start "$IT_DIR/postgres" "$IT_PG_PORT"
    check_eq "still processing while it was down" "$(count "id = '$id' AND status = 'processing'")" 1
    wait_video "$id" failed 40
    check_eq "repaired by the reconciler" "$(it_psql -c "SELECT status, error_code FROM videos WHERE id = '$id'")" "failed|worker_lost"
    check_contains "which says so" "$(cat "$IT_DIR/heir2.log")" "its job is dead: failed (worker_lost)"
    it_stop_wait "$IT_DIR/heir2.pid"
    "$CTL" queue purge-dead >/dev/null
}

# A worker killed after marking its video processed but before it
# acknowledged the job leaves a lease that expires like a crash.  When that
# is the crash that reaches the cap, the job is not dead: its work is done,
# and it must not wait in the dead set for an admin (a retry would redo it).
test_job_reaped_after_its_video_was_processed_is_not_dead() {
    local id
    id=$(add_videos 1 "$IT_DIR/clip.mp4")
    it_psql -c "UPDATE videos SET status = 'processed', attempt = 1,
                processed_key = 'processed/$id/1/video.mp4', processed_at = now()
                WHERE id = '$id'" >/dev/null || it_fail "mark processed"
    rcli HSET "${P}job:$id" video_id "$id" state leased attempt 1 crashes 0 \
        token t1 worker gone >/dev/null
    rcli ZADD "${P}lease" 1 "$id" >/dev/null
    it_start_worker_bg finisher WORKER_MAX_CRASHES=1
    SC_WAIT=20 sc_wait_for bash -c "[ \"\$(redis-cli -p $IT_REDIS_PORT ZSCORE '${P}lease' '$id')\" = '' ]" \
        || it_fail "the lease was not reaped"
    SC_WAIT=10 sc_wait_for grep -q "job $id: lease expired after its video was processed" "$IT_DIR/finisher.log"
    check_eq "not in the dead set" "$(rcli ZSCORE "${P}dead" "$id")" ""
    check_eq "its job is gone" "$(rcli EXISTS "${P}job:$id")" 0
    check_eq "the video stays processed" "$(count "id = '$id' AND status = 'processed'")" 1
    it_stop_wait "$IT_DIR/finisher.pid"
}

# 1,500 rows left 'processing' with no live job: 1,000 whose jobs are dead
# and 500 whose jobs Redis lost, ahead of a newer video whose job was
# deleted.  One reconciler pass reaches every one of them.
test_reconciler_repairs_1500_stranded_videos() {
    local out newer
    it_psql -c "INSERT INTO videos (user_id, title, original_key, status, attempt, uploaded_at, updated_at)
                SELECT 1, 'stranded ' || g, 'originals/x/source.mp4', 'processing', 1,
                       now() - interval '3 hours' + g * interval '1 second', now() - interval '1 hour'
                FROM generate_series(1, 1500) g" >/dev/null
    it_psql -c "SELECT id FROM videos WHERE title LIKE 'stranded %' ORDER BY uploaded_at LIMIT 1000" |
        awk -v p="$P" '{ printf "HSET %sjob:%s video_id %s state dead attempt 1 crashes 3 last_error \"worker_lost: the lease expired 3 time(s)\"\nZADD %sdead 1 %s\n", p, $1, $1, p, $1 }' |
        rcli >/dev/null
    newer=$(it_psql -c "INSERT INTO videos (user_id, title, original_key, updated_at)
                VALUES (1, 'newer', 'originals/y/source.mp4', now() - interval '1 hour') RETURNING id")
    check_eq "stuck before" "$("$CTL" videos stuck --older-than 60 | wc -l)" 1000
    check "the listing says what the queue knows" grep -qE \
        '^[0-9a-f-]{36} processing 10[78][0-9]{2} 1 dead 1 3 - worker_lost: the lease expired' \
        <("$CTL" videos stuck --older-than 60 | head -n 1)
    out=$("$CTL" videos reconcile --idle 60 2>"$IT_DIR/reconcile.log")
    check_eq "one pass" "$out" "1501 unfinished videos: 501 queued again, 1000 failed (their job was dead)"
    check_eq "the dead ones failed with the reason" \
        "$(count "title LIKE 'stranded %' AND status = 'failed' AND error_code = 'worker_lost'")" 1000
    check_eq "the others queued" "$(rcli LLEN "${P}pending")" 501
    check_eq "the newer one among them" "$(rcli LPOS "${P}pending" "$newer" | grep -c .)" 1
    check_eq "a second pass finds nothing to do" "$("$CTL" videos reconcile --idle 60 2>/dev/null)" \
        "501 unfinished videos: 0 queued again, 0 failed (their job was dead)"
    # leave nothing for the tests after this one
    it_psql -c "DELETE FROM videos WHERE title LIKE 'stranded %' OR title = 'newer'" >/dev/null
    rcli --scan --pattern "${P}job:*" | xargs -r -n 500 redis-cli -p "$IT_REDIS_PORT" DEL >/dev/null
    rcli DEL "${P}pending" "${P}dead" >/dev/null
}

# A download slower than the lease: the lease is renewed during it, so
# the job keeps its first lease and no second worker ever takes it.
test_slow_download_keeps_the_lease() {
    local id proxy
    id=$(add_videos 1 "$IT_DIR/clip.mp4")
    proxy=$(sc_free_port)
    /usr/bin/python3 "$TOOLS/s3_proxy.py" "$proxy" "$IT_S3_PORT" "$IT_DIR/slow.log" \
        --delay-get originals/ 4.5 >"$IT_DIR/slow-proxy.out" 2>&1 &
    echo $! >"$IT_DIR/slow-proxy.pid"
    sc_wait_for curl -s -o /dev/null "http://127.0.0.1:$proxy/" || it_fail "proxy did not start"
    it_start_worker_bg slow1 S3_ENDPOINT="http://127.0.0.1:$proxy"
    it_start_worker_bg slow2 S3_ENDPOINT="http://127.0.0.1:$proxy"
    wait_video "$id" processed 60
    check_eq "processed" "$(count "id = '$id' AND status = 'processed'")" 1
    check_eq "the original was slow" "$(grep -c "GET /showcase/originals/$id" "$IT_DIR/slow.log")" 1
    check_eq "one lease only" "$(cat "$IT_DIR"/slow?.log | grep "\"video_id\":\"$id\"" | grep -c 'job leased')" 1
    check_contains "its first, with no crash" "$(cat "$IT_DIR"/slow?.log | grep "\"video_id\":\"$id\"" | grep 'job leased')" "attempt 1, crashes 0"
    check_eq "one attempt in PostgreSQL" "$(it_psql -c "SELECT attempt FROM videos WHERE id = '$id'")" 1
    check_eq "nothing reaped" "$(cat "$IT_DIR"/slow?.log | grep -c 'reaped expired leases')" 0
    it_stop_wait "$IT_DIR/slow1.pid"
    it_stop_wait "$IT_DIR/slow2.pid"
    sc_stop_pidfile "$IT_DIR/slow-proxy.pid"
}

# A stale attempt (its worker frozen past its lease, then thawed) that
# finishes after the newer attempt leaves the newer one's outputs alone.
test_stale_attempt_cannot_overwrite_a_newer_one() {
    local id gate key etag
    mkdir -p "$IT_DIR/gate" && chmod 1777 "$IT_DIR/gate"
    gate="$IT_DIR/gate/transcoder.sh"
    # the stale attempt's transcoder waits for a go, then encodes differently
    printf '#!/bin/bash\nwhile [ ! -e %q ]; do sleep 0.2; done\nexec %q "$@"\n' \
        "$IT_DIR/gate/go" "$BIN_DIR/showcase-transcode" >"$gate"
    chmod 755 "$gate"
    id=$(add_videos 1 "$IT_DIR/clip.mp4")
    it_start_worker_bg frozen WORKER_TRANSCODER="$gate" TRANSCODE_CRF=45
    SC_WAIT=30 sc_wait_for pgrep -f "$gate" || it_fail "the gate did not start"
    kill -STOP "$(cat "$IT_DIR/frozen.pid")"
    it_start_worker_bg newer
    wait_video "$id" processed 60
    key=$(it_psql -c "SELECT processed_key FROM videos WHERE id = '$id'")
    check_eq "the newer attempt's keys" "$key" "processed/$id/2/video.mp4"
    etag=$("$CTL" s3 head "$key" | jq -r .etag)
    touch "$IT_DIR/gate/go"
    sleep 2
    kill -CONT "$(cat "$IT_DIR/frozen.pid")"
    SC_WAIT=30 sc_wait_for grep -q "\"video_id\":\"$id\".*job ended" "$IT_DIR/frozen.log" || it_fail "the stale attempt did not end"
    check_eq "the row still names the newer outputs" "$(it_psql -c "SELECT processed_key FROM videos WHERE id = '$id'")" "$key"
    check_eq "which are intact" "$("$CTL" s3 head "$key" | jq -r .etag)" "$etag"
    check "the stale attempt left nothing" bash -c "! '$CTL' s3 head processed/$id/1/video.mp4 2>/dev/null"
    it_stop_wait "$IT_DIR/frozen.pid"
    it_stop_wait "$IT_DIR/newer.pid"
}

# PostgreSQL away: a worker takes no job it could not even start (it
# would spend the job's attempts in a second), and once PostgreSQL is
# back the job runs as its first attempt.
test_postgresql_outage_spends_no_attempt() {
    local id
    id=$(add_videos 1 "$IT_DIR/clip.mp4")
    sc_pg_stop "$IT_DIR/postgres"
    "$CTL" queue enqueue "$id" >/dev/null
    it_start_worker_bg patient WORKER_MAX_ATTEMPTS=3
    sleep 8
    check_eq "the job still waits, no attempt spent" \
        "$(rcli HMGET "${P}job:$id" state attempt | xargs)" "pending 0"
    check_eq "nothing dead" "$(rcli ZSCORE "${P}dead" "$id")" ""
    SC_PG_OPTS="-c fsync=off" sc_pg_start "$IT_DIR/postgres" "$IT_PG_PORT"
    wait_video "$id" processed 60
    check_eq "processed as its first attempt" \
        "$(it_psql -c "SELECT status, attempt FROM videos WHERE id = '$id'")" "processed|1"
    it_stop_wait "$IT_DIR/patient.pid"
}

it_main
