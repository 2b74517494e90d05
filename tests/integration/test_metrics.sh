#!/usr/bin/env bash
# `showcasectl queue publish-backlog` against real PostgreSQL and
# redis-server, sending to the SigV4-checking CloudWatch stand-in: the
# videos stuck past VIDEO_STUCK_AFTER_S, the backlog per worker with no
# live worker (above the template's target, so the worker group scales
# out from zero), and what is still sent when PostgreSQL or Redis is down.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

it_start_services
"$BIN_DIR/showcasectl" migrate up >/dev/null || it_fail "migrations failed"
# a prefix of its own: these tests decide what the queue holds
export QUEUE_PREFIX='metrics:{q}:'
P=$QUEUE_PREFIX
rcli() { redis-cli -p "$IT_REDIS_PORT" "$@"; }

# The stand-in checks the signature with the keys and region the programs use.
cw_port=$(sc_free_port)
/usr/bin/python3 "$IT_TOP/tests/integration/tools/cloudwatch_stub.py" "$cw_port" "$S3_REGION" \
    "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$IT_DIR/cw.log" >"$IT_DIR/cw.out" 2>&1 &
echo $! >"$IT_DIR/cw.pid"
sc_wait_for curl -s -o /dev/null "http://127.0.0.1:$cw_port/" || it_fail "the CloudWatch stub did not start"
export CLOUDWATCH_ENDPOINT="http://127.0.0.1:$cw_port"

# publish: run publish-backlog; its output and "exit N" in PUBLISHED, and
# what CloudWatch received (nothing when it sent nothing) in the log.
publish() {
    : >"$IT_DIR/cw.log"
    PUBLISHED=$("$BIN_DIR/showcasectl" queue publish-backlog 2>&1; echo "exit $?")
}

# sent NAME: the value CloudWatch got for metric NAME, or "none".
sent() {
    jq -r --arg n "$1" '. as $f | [range(1; 21) | tostring
        | select($f["MetricData.member." + . + ".MetricName"] == $n)
        | $f["MetricData.member." + . + ".Value"]] | first // "none"' "$IT_DIR/cw.log"
}

# BacklogPerWorkerTarget's default in the CloudFormation template.
template_target() {
    awk '/^  BacklogPerWorkerTarget:/ { p = 1; next } p && /^  [^ ]/ { p = 0 }
         p && $1 == "Default:" { print $2 }' "$IT_TOP/deploy/aws/showcase.yaml"
}

# video STATUS AGE: a video row uploaded AGE ago ('2 hours'), with STATUS.
video() {
    it_psql -c "INSERT INTO videos (user_id, title, original_key, status, error_code,
                    processed_key, processed_at, uploaded_at)
                SELECT id, 'clip', 'originals/x/source.mp4', '$1',
                    CASE WHEN '$1' = 'failed' THEN 'corrupt' END,
                    CASE WHEN '$1' = 'processed' THEN 'processed/x/1/video.mp4' END,
                    CASE WHEN '$1' = 'processed' THEN now() END,
                    now() - interval '$2'
                FROM users" >/dev/null
}

test_stuck_videos_reach_cloudwatch() {
    local oldest
    it_psql -c "INSERT INTO users (email, password_hash, first_name, last_name, city, country)
                VALUES ('stuck@example.com', 'x', 'Ann', 'Lee', 'Bogota', 'CO')" >/dev/null
    publish
    check_eq "none stuck yet" "$(sent StuckVideos) $(sent OldestStuckVideoSeconds)" "0 0"
    video uploaded '2 hours'        # stuck: never taken
    video processing '90 minutes'   # stuck: taken, never finished
    video uploaded '10 minutes'     # young: not yet
    video processed '3 hours'       # finished
    video failed '3 hours'          # finished
    publish
    check_contains "exit status" "$PUBLISHED" "exit 0"
    check_eq "CloudWatch got StuckVideos" "$(sent StuckVideos)" 2
    oldest=$(sent OldestStuckVideoSeconds)
    check "the oldest is about two hours old ($oldest s)" \
        awk -v s="$oldest" 'BEGIN { exit !(s >= 7200 && s < 7260) }'
    check_contains "printed" "$PUBLISHED" "StuckVideos 2 (unfinished 3600 s after upload)"
    # VIDEO_STUCK_AFTER_S sets what counts as stuck
    : >"$IT_DIR/cw.log"
    VIDEO_STUCK_AFTER_S=300 "$BIN_DIR/showcasectl" queue publish-backlog >/dev/null 2>&1
    check_eq "with VIDEO_STUCK_AFTER_S=300" "$(sent StuckVideos)" 3
    it_psql -c "UPDATE videos SET status = 'processed', processed_key = 'k', processed_at = now()" >/dev/null
    publish
    check_eq "none once they are processed" "$(sent StuckVideos)" 0
}

test_backlog_with_no_worker_is_above_the_target() {
    local target value i
    target=$(template_target)
    check "the template has a target ($target)" test -n "$target"
    # what an instance runs with: the template writes its target there
    check_eq "showcasectl's default target is the template's" \
        "$("$BIN_DIR/showcasectl" config | awk -F'|' '$2 ~ /`BACKLOG_PER_WORKER_TARGET`/ { gsub(/[ `]/, "", $3); print $3 }')" \
        "$target"
    # one upload waiting, no worker alive: the group's first worker
    "$BIN_DIR/showcasectl" queue enqueue lone-upload >/dev/null
    check_eq "no live worker" "$(rcli --scan --pattern "${P}worker:*")" ""
    BACKLOG_PER_WORKER_TARGET=$target publish
    check_contains "exit status" "$PUBLISHED" "exit 0"
    value=$(sent BacklogPerWorker)
    check "BacklogPerWorker $value is above the target $target with 1 job and no worker" \
        awk -v v="$value" -v t="$target" 'BEGIN { exit !(v > t) }'
    check_eq "BacklogWithNoWorker, what the scale-from-zero alarm watches" "$(sent BacklogWithNoWorker)" 1
    # nothing waiting, no worker: nothing to scale out for
    rcli DEL "${P}pending" >/dev/null
    BACKLOG_PER_WORKER_TARGET=$target publish
    check_eq "idle and empty" "$(sent BacklogPerWorker) $(sent BacklogWithNoWorker)" "0 0"
    # once a worker lives, the plain ratio
    for i in 1 2 3; do "$BIN_DIR/showcasectl" queue enqueue "upload-$i" >/dev/null; done
    rcli SET "${P}worker:host-a:1" x EX 60 >/dev/null
    rcli SET "${P}worker:host-b:2" x EX 60 >/dev/null
    BACKLOG_PER_WORKER_TARGET=$target publish
    check_eq "3 jobs over 2 workers" "$(sent BacklogPerWorker) $(sent BacklogWithNoWorker)" "1.5 0"
    check_contains "printed" "$PUBLISHED" "BacklogPerWorker 1.5 (pending 3 + scheduled 0 over 2 workers)"
}

test_redis_down_still_sends_stuck_videos() {
    video uploaded '2 hours'
    sc_redis_stop "$IT_DIR/redis"
    publish
    check_contains "fails" "$PUBLISHED" "exit 1"
    check_contains "says what" "$PUBLISHED" "showcasectl: cannot read the queue (its figures not sent): cannot connect to redis"
    check_eq "stuck videos sent" "$(sent StuckVideos)" 1
    check_eq "no queue figure" "$(sent BacklogPerWorker) $(sent DeadJobs)" "none none"
    sc_redis_start "$IT_DIR/redis" "$IT_REDIS_PORT"
}

test_postgresql_down_still_sends_the_queue() {
    sc_pg_stop "$IT_DIR/postgres"
    publish
    check_contains "fails, so the timer shows it" "$PUBLISHED" "exit 1"
    check_contains "says what" "$PUBLISHED" \
        "showcasectl: cannot count stuck videos (StuckVideos not sent): cannot connect to postgresql"
    check_contains "and what was sent" "$PUBLISHED" "BacklogPerWorker 1.5 "
    check_eq "the queue's figures sent" "$(sent BacklogPerWorker) $(sent BacklogWithNoWorker) $(sent DeadJobs)" "1.5 0 0"
    check_eq "no stuck figure, rather than a false 0" \
        "$(sent StuckVideos) $(sent OldestStuckVideoSeconds)" "none none"
}

it_main
