#!/usr/bin/env bash
# Events to SNS against real PostgreSQL and Redis and workers, sending to
# the SigV4-checking SNS stand-in (tools/sns_stub.py): with
# EVENTS_SNS_TOPIC_ARN the worker adds the endpoint sns:<ARN> once, every
# event is published to the topic signed for service "sns" (botocore
# signs each request again and compares), an error answer is retried like
# a webhook, and a wrong secret key is refused by the stand-in.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

TOOLS="$IT_TOP/tests/integration/tools"
CTL="$BIN_DIR/showcasectl"

it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"
export WORKER_METRICS_PORT=0 WORKER_TMP_DIR="$IT_DIR/jobs" WORKER_HEARTBEAT_MS=500 WORKER_CONCURRENCY=1
# a quick dispatcher: retries after 10 ms, 600 ms, 3.6 s, ...
export WEBHOOK_POLL_MS=100 WEBHOOK_RETRY_BASE_MS=10 WEBHOOK_TIMEOUT_MS=3000
mkdir -p "$WORKER_TMP_DIR"

TOPIC=arn:aws:sns:us-east-1:123456789012:showcase-events
SPORT=$(sc_free_port)
SLOG="$IT_DIR/sns.jsonl"
PLAN="$IT_DIR/sns.plan"
touch "$SLOG"
# the stand-in checks signatures with the keys the programs have (those
# of the S3 stand-in) and the topic's region
sc_daemon sns "$IT_DIR" "$IT_DIR/sns.log" /usr/bin/python3 "$TOOLS/sns_stub.py" "$SPORT" us-east-1 \
    "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$SLOG" "$PLAN"
sc_wait_for curl -sf -o /dev/null "http://127.0.0.1:$SPORT/" || it_fail "the SNS stand-in did not start"
export EVENTS_SNS_TOPIC_ARN=$TOPIC EVENTS_SNS_ENDPOINT="http://127.0.0.1:$SPORT"

it_psql -c "INSERT INTO users (email, password_hash, first_name, last_name, city, country)
            VALUES ('sns@example.com', 'x', 'Ana', 'Diaz', 'Bogota', 'CO')" >/dev/null

# --- helpers -------------------------------------------------------------

endpoint() { it_psql -c "SELECT id FROM webhook_endpoints WHERE url = 'sns:$TOPIC'"; }
deliveries() { it_psql -c "SELECT $1 FROM webhook_deliveries WHERE endpoint_id = $(endpoint) ORDER BY event_id"; }
# published EVENT_ID [JQ]: what the stand-in got for that event, a line each
published() {
    jq -r --arg id "evt_$1" 'select(.form["MessageAttributes.entry.2.Value.StringValue"] == $id)
        | '"${2:-.status}" "$SLOG"
}
# new_video TITLE: a video uploaded (one event); prints its id
new_video() {
    it_psql -c "INSERT INTO videos (user_id, title, original_key)
                SELECT id, '$1', 'none' FROM users WHERE email = 'sns@example.com' RETURNING id"
}
refused_sql() { ! it_psql -c "$1" 2>/dev/null; }
events_of() { it_psql -c "SELECT id FROM events WHERE video_id = '$1' ORDER BY version"; }

# --- tests ---------------------------------------------------------------

test_the_worker_adds_the_topic_endpoint_once() {
    it_start_worker_bg w1
    it_start_worker_bg w2		# at the same time: still one endpoint
    SC_WAIT=15 sc_wait_for grep -q "events are published to SNS topic $TOPIC too" "$IT_DIR/w1.log" ||
        it_fail "w1 did not add it: $(tail -n 5 "$IT_DIR/w1.log")"
    SC_WAIT=15 sc_wait_for grep -q "events are published to SNS topic $TOPIC too" "$IT_DIR/w2.log" ||
        it_fail "w2 did not find it: $(tail -n 5 "$IT_DIR/w2.log")"
    check_eq "one endpoint, enabled, for every type" \
        "$(it_psql -c "SELECT count(*), bool_and(enabled), bool_and(event_types IS NULL), bool_and(secret LIKE 'whsec_%')
                       FROM webhook_endpoints WHERE url = 'sns:$TOPIC'")" "1|t|t|t"
    check_eq "added by one of them" "$(cat "$IT_DIR/w1.log" "$IT_DIR/w2.log" | grep -c ', added now')" 1
    check_contains "listed like any endpoint" "$("$CTL" webhooks list 2>&1)" "sns:$TOPIC"
    it_stop_wait "$IT_DIR/w2.pid"
    check_eq "w2 exit status" "$IT_EXIT" 0
    # the check allows http(s) and sns:arn: urls only
    check "an sns: url that is not an ARN is refused" \
        refused_sql "INSERT INTO webhook_endpoints (url, secret) VALUES ('sns:topic', 'whsec_x')"
    check "another scheme is refused" \
        refused_sql "INSERT INTO webhook_endpoints (url, secret) VALUES ('ftp://h/x', 'whsec_x')"
}

test_each_event_is_published_signed_to_the_topic() {
    local id ev out
    id=$(new_video published)
    it_psql -c "UPDATE videos SET status = 'processing' WHERE id = '$id';
                UPDATE videos SET status = 'processed', processed_key = 'p', processed_at = now()
                WHERE id = '$id'" >/dev/null
    it_wait_sql "SELECT count(*) FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
              WHERE e.video_id = '$id' AND d.state = 'delivered'" 3 20 ||
        it_fail "three delivered: $(deliveries "state, last_error" | sort | uniq -c)"
    for ev in $(events_of "$id"); do
        check_eq "evt_$ev: one Publish, its signature valid" "$(published "$ev" | xargs)" 200
    done
    check_eq "no request refused" "$(jq -r 'select(.status == 403) | .error' "$SLOG")" ""
    out=$(jq -r --arg v "$id" 'select(.form) | .form | select(.Message | fromjson | .data.video_id == $v)
        | [.TopicArn, (.Message | fromjson | .type), .["MessageAttributes.entry.1.Name"],
           .["MessageAttributes.entry.1.Value.DataType"], .["MessageAttributes.entry.1.Value.StringValue"],
           (.Message | fromjson | .data.version), (.Message | fromjson | .timestamp | test("^[0-9-]{10}T[0-9:.]{12}Z$"))]
        | join(" ")' "$SLOG" | sort -k6n)
    check_eq "topic, type in the message and as an attribute, data" "$out" \
        "$TOPIC video.uploaded type String video.uploaded 1 true
$TOPIC video.processing type String video.processing 2 true
$TOPIC video.processed type String video.processed 3 true"
    check_eq "the message is the webhook body" \
        "$(jq -r --arg v "$id" 'select(.form) | .form.Message | fromjson | select(.data.video_id == $v) | keys | join(",")' "$SLOG" | sort -u)" \
        "data,timestamp,type"
    check_eq "one attempt each" "$(deliveries "attempts || ' ' || last_status" | sort -u)" "1 200"
}

test_an_error_answer_is_retried_until_published() {
    local id ev
    printf '500\n400\n' >"$PLAN"	# an internal error, then throttling
    id=$(new_video retried)
    ev=$(events_of "$id")
    it_wait_sql "SELECT state FROM webhook_deliveries WHERE event_id = $ev AND endpoint_id = $(endpoint)" delivered 20 ||
        it_fail "delivered: $(deliveries "state, attempts, last_error")"
    check_eq "the same event three times: 500, 400, 200" "$(published "$ev" | xargs)" "500 400 200"
    check_eq "the same message each time" "$(published "$ev" .form.Message | sort -u | wc -l)" 1
    check_eq "recorded" "$(it_psql -c "SELECT state || ' ' || attempts || ' ' || last_status
        FROM webhook_deliveries WHERE event_id = $ev AND endpoint_id = $(endpoint)")" "delivered 3 200"
    check_contains "the error logged" "$(cat "$IT_DIR/w1.log")" \
        "attempt 1 failed (SNS answered 500: InternalError: internal error)"
    check_contains "throttling logged" "$(cat "$IT_DIR/w1.log")" \
        "attempt 2 failed (SNS answered 400: Throttling: Rate exceeded)"
}

test_a_wrong_secret_key_is_refused() {
    local id ev err
    it_stop_wait "$IT_DIR/w1.pid"
    it_start_worker_bg bad AWS_SECRET_ACCESS_KEY=not-the-key
    id=$(new_video refused)
    ev=$(events_of "$id")
    it_wait_sql "SELECT last_status FROM webhook_deliveries WHERE event_id = $ev AND endpoint_id = $(endpoint)" 403 15 ||
        it_fail "refused: $(deliveries "state, attempts, last_status, last_error")"
    it_stop_wait "$IT_DIR/bad.pid"
    err=$(it_psql -c "SELECT state || ' ' || last_error FROM webhook_deliveries WHERE event_id = $ev AND endpoint_id = $(endpoint)")
    check_contains "pending, with SNS's reason" "$err" "pending SNS answered 403: SignatureDoesNotMatch: "
    check "the stand-in refused it" grep -q '"status": 403, "error": "SignatureDoesNotMatch"' "$SLOG"
    check_eq "nothing published for it" "$(published "$ev")" ""
    # the right key publishes it on its next try
    it_start_worker_bg w1
    it_wait_sql "SELECT state FROM webhook_deliveries WHERE event_id = $ev AND endpoint_id = $(endpoint)" delivered 20 ||
        it_fail "delivered later: $(deliveries "state, attempts, last_error")"
    check_eq "published once" "$(published "$ev" | xargs)" 200
    it_stop_wait "$IT_DIR/w1.pid"
}

it_main
