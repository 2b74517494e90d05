#!/usr/bin/env bash
# The queue client (common/queue.c) against a real redis-server: every
# state change and its fencing (tools/queue_check.c), then the layout read
# back with redis-cli, the way docs/operations.md tells admins to.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

port=$(sc_free_port)
sc_redis_start "$IT_DIR/redis" "$port"
export REDIS_URL="redis://127.0.0.1:$port/0" QUEUE_PREFIX='showcase:{q}:'
rcli() { redis-cli -p "$port" "$@"; }
P='showcase:{q}:'

test_queue_state_changes() {
    "$BIN_DIR/queue_check" >"$IT_DIR/queue_check.out" 2>&1
    check_eq "queue_check exit status" "$?" 0
    grep -E '^(FAIL|[0-9]+ passed)' "$IT_DIR/queue_check.out" | sed 's/^/    /'
}

test_layout_reads_back_with_redis_cli() {
    check_eq "pending" "$(rcli LRANGE "${P}pending" 0 -1 | xargs)" "left-pending"
    check_eq "nothing leased" "$(rcli ZCARD "${P}lease")" 0
    check_eq "scheduled" "$(rcli ZRANGE "${P}scheduled" 0 -1 | xargs)" "left-scheduled"
    check_eq "dead" "$(rcli ZRANGE "${P}dead" 0 -1 | xargs)" "left-dead"
    check_eq "dead job's fields" \
        "$(rcli HMGET "${P}job:left-dead" video_id state attempt crashes last_error | xargs)" \
        "left-dead dead 1 0 s3 unreachable"
    check_eq "scheduled job's fields" \
        "$(rcli HMGET "${P}job:left-scheduled" state attempt last_error worker | xargs)" \
        "scheduled 1 db timeout"
    local due now
    due=$(rcli ZSCORE "${P}scheduled" left-scheduled)
    now=$(rcli TIME | head -n 1)
    check "retry due in 5 to 10 minutes (server clock)" \
        awk -v d="$due" -v n="$now" 'BEGIN { s = d / 1000 - n; exit !(s > 290 && s <= 600) }'
    check_eq "finished jobs leave no hash, no history" \
        "$(rcli EXISTS "${P}job:v1" "${P}job:v4" "${P}job:v5" "${P}job:v1:history" "${P}job:v5:history")" 0
    check_eq "every key under the prefix" \
        "$(rcli --scan --pattern "${P}*" | sort | xargs)" \
        "${P}dead ${P}job:left-dead ${P}job:left-dead:history ${P}job:left-pending ${P}job:left-pending:history ${P}job:left-scheduled ${P}job:left-scheduled:history ${P}pending ${P}scheduled"
}

# showcasectl queue shows what redis-cli shows for the same state.
test_showcasectl_queue_agrees_with_redis_cli() {
    local ctl="$BIN_DIR/showcasectl"
    export S3_BUCKET=unused
    check_eq "stats" "$("$ctl" queue stats | xargs)" \
        "pending $(rcli LLEN "${P}pending") leased $(rcli ZCARD "${P}lease") scheduled $(rcli ZCARD "${P}scheduled") dead $(rcli ZCARD "${P}dead")"
    check_eq "list pending" "$("$ctl" queue list pending | xargs)" "$(rcli LRANGE "${P}pending" 0 -1 | xargs)"
    check_eq "list scheduled" "$("$ctl" queue list scheduled | xargs)" "$(rcli ZRANGE "${P}scheduled" 0 -1 WITHSCORES | xargs)"
    check_eq "show" "$("$ctl" queue show left-dead | grep -v '^history ' | xargs)" "$(rcli HGETALL "${P}job:left-dead" | xargs)"
    check_eq "history" "$("$ctl" queue show left-dead | sed -n 's/^history //p')" "$(rcli LRANGE "${P}job:left-dead:history" 0 -1)"
    check_eq "history events" "$("$ctl" queue show left-dead | sed -n 's/^history [0-9]* //p')" "queued
leased by w9, attempt 1
dead: s3 unreachable"
    check_eq "dead" "$("$ctl" queue dead)" "left-dead 1 0 s3 unreachable"
    check_eq "unknown job" "$("$ctl" queue show nope 2>&1; echo "exit $?")" "showcasectl: no such job: nope
exit 1"
    check_eq "enqueue" "$("$ctl" queue enqueue new-video) $("$ctl" queue enqueue new-video)" "queued exists"
    check_eq "retry one" "$("$ctl" queue retry left-dead; echo "exit $?") $(rcli LRANGE "${P}pending" 0 -1 | xargs)" \
        "exit 0 left-pending new-video left-dead"
    check_eq "retried job's fresh counts" "$(rcli HMGET "${P}job:left-dead" state attempt | xargs)" "pending 0"
    check_eq "purge-dead" "$("$ctl" queue purge-dead) $(rcli ZCARD "${P}dead")" "0 purged 0"
    check_eq "bad list" "$("$ctl" queue list nonsense >/dev/null 2>&1; echo $?)" 2
}

# The autoscaling metric reaches CloudWatch correctly signed: a stand-in
# re-signs every request with botocore and refuses a mismatch.
test_backlog_metric_is_published_signed() {
    local cw ctl="$BIN_DIR/showcasectl" out
    cw=$(sc_free_port)
    /usr/bin/python3 "$IT_TOP/tests/integration/tools/cloudwatch_stub.py" "$cw" eu-west-1 \
        AKIDEXAMPLE wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY "$IT_DIR/cw.log" \
        >"$IT_DIR/cw.out" 2>&1 &
    echo $! >"$IT_DIR/cw.pid"
    sc_wait_for curl -s -o /dev/null "http://127.0.0.1:$cw/" || it_fail "stub did not start"
    rcli SET "${P}worker:host-a:1" x EX 60 >/dev/null
    rcli SET "${P}worker:host-b:2" x EX 60 >/dev/null
    local waiting=$(( $(rcli LLEN "${P}pending") + $(rcli ZCARD "${P}scheduled") ))
    # no PostgreSQL here: the queue's figures go without the stuck videos
    # (test_metrics.sh has those, against a real one)
    DATABASE_URL="postgresql://showcase@127.0.0.1:$(sc_free_port)/showcase"
    export DATABASE_URL
    out=$(S3_BUCKET=unused S3_REGION=eu-west-1 CLOUDWATCH_ENDPOINT="http://127.0.0.1:$cw" \
        AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY \
        "$ctl" queue publish-backlog 2>&1)
    check_contains "published" "$out" "BacklogPerWorker $(awk -v w="$waiting" 'BEGIN { printf "%g", w / 2 }') "
    check_eq "CloudWatch got it" \
        "$(jq -r '[.Action, .Namespace, ."MetricData.member.1.MetricName", ."MetricData.member.1.Value"] | join(" ")' "$IT_DIR/cw.log")" \
        "PutMetricData Showcase BacklogPerWorker $(awk -v w="$waiting" 'BEGIN { printf "%g", w / 2 }')"
    check_eq "and the figures the alarms watch" \
        "$(jq -r '[."MetricData.member.2.MetricName", ."MetricData.member.2.Value", ."MetricData.member.3.MetricName", ."MetricData.member.3.Unit"] | join(" ")' "$IT_DIR/cw.log")" \
        "DeadJobs $(rcli ZCARD "${P}dead") OldestJobAgeSeconds Seconds"
    out=$(S3_BUCKET=unused S3_REGION=eu-west-1 CLOUDWATCH_ENDPOINT="http://127.0.0.1:$cw" \
        AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wrong-secret \
        "$ctl" queue publish-backlog 2>&1; echo "exit $?")
    check_contains "a bad signature is refused" "$out" "PutMetricData answered 403: SignatureDoesNotMatch"
    check_contains "and fails the command" "$out" "exit 1"
}

it_main
