#!/usr/bin/env bash
# The events outbox (migration 005) and `showcasectl webhooks`, against a
# real PostgreSQL: every committed change of a video's status, made the
# way the API and the worker make it, is one event with the video's next
# version, and nothing else is (an update that changes no status, a
# fenced update that matches no row, a rolled-back transaction); a
# deletion is the version after the last.  Each event fans out into one
# delivery per enabled endpoint subscribed to its type.  The ctl
# commands add, list, remove, re-enable endpoints and redeliver events.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

CTL="$BIN_DIR/showcasectl"

it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"

it_psql >/dev/null <<SQL || it_fail "fixtures"
INSERT INTO users (email, password_hash, first_name, last_name, city, country)
VALUES ('owner@example.com', 'x', 'Ona', 'Owner', 'Cali', 'CO');
SQL
OWNER=$(it_psql -c "SELECT id FROM users WHERE email = 'owner@example.com'")

# new_video TITLE: a video as the API makes it at upload (status uploaded)
new_video() {
    it_psql -c "INSERT INTO videos (user_id, title, original_key)
                VALUES ($OWNER, '$1', 'originals/x/source.mp4') RETURNING id" | head -n 1
}

# The worker's updates: each fenced by the attempt it holds.
claim() {     # VIDEO: (uploaded|processing) -> processing, the attempt raised
    it_psql -c "UPDATE videos SET status = 'processing', attempt = attempt + 1,
                updated_at = now() WHERE id = '$1' AND status IN ('uploaded', 'processing')" ||
        it_fail "claim $1"
}
finish() {    # VIDEO ATTEMPT: processing -> processed
    it_psql -c "UPDATE videos SET status = 'processed', processed_key = 'processed/x/1/video.mp4',
                processed_at = now(), updated_at = now()
                WHERE id = '$1' AND status = 'processing' AND attempt = $2" ||
        it_fail "finish $1"
}
fail() {      # VIDEO ATTEMPT: processing -> failed
    it_psql -c "UPDATE videos SET status = 'failed', error_code = 'decode',
                error_message = 'cannot decode', updated_at = now()
                WHERE id = '$1' AND status = 'processing' AND attempt = $2" ||
        it_fail "fail $1"
}

# events_of VIDEO: "TYPE:VERSION" per event, oldest first
events_of() {
    it_psql -c "SELECT string_agg(type || ':' || version, ' ' ORDER BY id)
                FROM events WHERE video_id = '$1'"
}

# deliveries_of ENDPOINT: the types of the events it has a delivery of
deliveries_of() {
    it_psql -c "SELECT coalesce(string_agg(e.type, ' ' ORDER BY e.id), '')
                FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
                WHERE d.endpoint_id = $1"
}

# add_endpoint ARGS...: `webhooks add`, the new endpoint's id in ENDPOINT
# and its secret in SECRET
add_endpoint() {
    local out
    out=$("$CTL" webhooks add "$@") || { it_fail "webhooks add $*: exit $?"; return 1; }
    ENDPOINT=$(head -n 1 <<<"$out" | awk '{ print $3 }')
    SECRET=$(tail -n 1 <<<"$out")
}

# --- the outbox ------------------------------------------------------------

test_each_status_change_is_one_event_with_the_next_version() {
    local v out
    v=$(new_video 'First')
    check_eq "upload" "$(events_of "$v")" "video.uploaded:1"
    check_eq "claim" "$(claim "$v")" ""
    # no change of status: no event, the same version
    check_eq "a new title" "$(it_psql -c "UPDATE videos SET title = 'First, renamed',
        updated_at = now() WHERE id = '$v' RETURNING version")" 2
    check_eq "the same status" "$(it_psql -c "UPDATE videos SET status = 'processing'
        WHERE id = '$v' RETURNING version")" 2
    # a worker's claim after a crash: a new attempt, the same status
    claim "$v"
    check_eq "claimed again" "$(it_psql -c "SELECT attempt || ':' || version FROM videos
        WHERE id = '$v'")" "2:2"
    # a stale worker's fenced update matches no row
    out=$(it_psql -c "UPDATE videos SET status = 'failed', error_code = 'x'
                      WHERE id = '$v' AND attempt = 99 RETURNING id")
    check_eq "the fenced update matched nothing" "$out" ""
    finish "$v" 2
    check_eq "events" "$(events_of "$v")" \
        "video.uploaded:1 video.processing:2 video.processed:3"
    check_eq "the video's version" \
        "$(it_psql -c "SELECT version FROM videos WHERE id = '$v'")" 3
    # each event's data is the video as that change left it
    check_eq "data" "$(it_psql -c "SELECT string_agg(concat_ws(',', data->>'video_id' = '$v',
                                    data->>'status', data->>'version', data->>'title',
                                    data->>'attempt', user_id = $OWNER), ' ' ORDER BY id)
                                    FROM events WHERE video_id = '$v'")" \
        "t,uploaded,1,First,0,t t,processing,2,First,1,t t,processed,3,First,\
 renamed,2,t"
    check_eq "processed_at in the processed event" "$(it_psql -c "SELECT data->>'processed_at' IS NOT NULL
        FROM events WHERE video_id = '$v' AND type = 'video.processed'")" t
    it_psql -c "DELETE FROM videos WHERE id = '$v'"
    check_eq "deleted: the version after the last" "$(events_of "$v")" \
        "video.uploaded:1 video.processing:2 video.processed:3 video.deleted:4"
    check_eq "deleted data" "$(it_psql -c "SELECT concat_ws(',', data->>'video_id' = '$v',
        data->>'status', data->>'version') FROM events WHERE video_id = '$v'
        AND type = 'video.deleted'")" "t,deleted,4"
}

test_failure_and_revival_are_events() {
    local v
    v=$(new_video 'Second')
    claim "$v"
    fail "$v" 1
    # the API's retry of a failed video
    it_psql -c "UPDATE videos SET status = 'uploaded', error_code = NULL, error_message = NULL,
                updated_at = now() WHERE id = '$v' AND status = 'failed'"
    claim "$v"
    # the first attempt's worker, late: fenced out
    fail "$v" 1
    finish "$v" 2
    check_eq "events" "$(events_of "$v")" "video.uploaded:1 video.processing:2 video.failed:3 \
video.uploaded:4 video.processing:5 video.processed:6"
    check_eq "the failure's data" "$(it_psql -c "SELECT concat_ws(',', data->>'error_code',
        data->>'error_message', data->>'attempt') FROM events
        WHERE video_id = '$v' AND type = 'video.failed'")" "decode,cannot decode,1"
}

test_a_rolled_back_change_leaves_no_event() {
    local v before
    v=$(new_video 'Third')
    before=$(it_psql -c "SELECT count(*) FROM events")
    it_psql <<SQL
BEGIN;
UPDATE videos SET status = 'processing', attempt = 1 WHERE id = '$v';
INSERT INTO videos (user_id, title, original_key) VALUES ($OWNER, 'Never', 'originals/y/source.mp4');
DELETE FROM videos WHERE id = '$v';
ROLLBACK;
SQL
    check_eq "no event" "$(it_psql -c "SELECT count(*) FROM events")" "$before"
    check_eq "the video as it was" \
        "$(it_psql -c "SELECT status || ':' || version FROM videos WHERE id = '$v'")" "uploaded:1"
    claim "$v"
    check_eq "the next change has the next version" "$(events_of "$v")" \
        "video.uploaded:1 video.processing:2"
}

# --- fan-out ---------------------------------------------------------------

test_events_fan_out_to_subscribed_enabled_endpoints() {
    local v only_processed all off row
    it_psql -c "DELETE FROM webhook_endpoints"
    add_endpoint http://127.0.0.1:9/hook --events video.processed || return
    only_processed=$ENDPOINT
    check_eq "the secret printed is the endpoint's" \
        "$(it_psql -c "SELECT secret = '$SECRET' FROM webhook_endpoints WHERE id = $only_processed")" t
    add_endpoint https://example.com/all || return
    all=$ENDPOINT
    add_endpoint https://example.com/off || return
    off=$ENDPOINT
    it_psql -c "UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'test'
                WHERE id = $off"
    check_eq "the rows" "$(it_psql -c "SELECT string_agg(concat_ws(',', id, url,
        coalesce(array_to_string(event_types, '+'), 'NULL'), enabled), ' ' ORDER BY id)
        FROM webhook_endpoints")" "$only_processed,http://127.0.0.1:9/hook,video.processed,t \
$all,https://example.com/all,NULL,t $off,https://example.com/off,NULL,f"

    v=$(new_video 'Fourth')
    claim "$v"
    fail "$v" 1
    it_psql -c "UPDATE videos SET status = 'uploaded' WHERE id = '$v'"
    claim "$v"
    finish "$v" 2
    check_eq "processed only" "$(deliveries_of "$only_processed")" "video.processed"
    check_eq "all types" "$(deliveries_of "$all")" "video.uploaded video.processing \
video.failed video.uploaded video.processing video.processed"
    check_eq "disabled: none" "$(deliveries_of "$off")" ""
    row=$(it_psql -c "SELECT concat_ws(',', d.state, d.attempts, d.next_at <= now(),
        d.last_status IS NULL, d.delivered_at IS NULL) FROM webhook_deliveries d
        WHERE d.endpoint_id = $only_processed")
    check_eq "a new delivery: pending, due now" "$row" "pending,0,t,t,t"
    # the endpoints made before this test got none of its earlier events
    check_eq "nothing from before the endpoints" "$(it_psql -c "SELECT count(*)
        FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
        WHERE e.video_id <> '$v'")" 0
}

# --- showcasectl webhooks ------------------------------------------------------------

test_add_prints_the_endpoint_then_the_secret() {
    local out rc secret
    out=$("$CTL" webhooks add https://example.com/a --events video.failed,video.processed,video.failed 2>&1)
    rc=$?
    check_eq "exit" "$rc" 0
    check_eq "two lines" "$(wc -l <<<"$out")" 2
    check_contains "first line" "$(head -n 1 <<<"$out")" "added endpoint "
    check_contains "first line" "$(head -n 1 <<<"$out")" \
        " video.failed,video.processed https://example.com/a"
    secret=$(tail -n 1 <<<"$out")
    [[ $secret =~ ^whsec_[A-Za-z0-9+/]{32}$ ]] || it_fail "secret: '$secret'"
    check_eq "24 random bytes" "$(printf '%s' "${secret#whsec_}" | base64 -d | wc -c)" 24
    check_eq "stored: types once each, the secret" "$(it_psql -c "SELECT
        array_to_string(event_types, ',') || ' ' || (secret = '$secret')
        FROM webhook_endpoints WHERE url = 'https://example.com/a'")" "video.failed,video.processed true"
    out=$("$CTL" webhooks add https://example.com/b | tail -n 1)
    [ "$out" != "$secret" ] || it_fail "two endpoints, the same secret"
    check_contains "all types" "$("$CTL" webhooks add http://example.com/c | head -n 1)" \
        " all http://example.com/c"
    # the longest URL the table takes
    out=$("$CTL" webhooks add "https://example.com/$(printf 'x%.0s' {1..1980})" 2>&1)
    check_eq "a 2000-character URL: exit" "$?" 0
}

test_add_refuses_bad_urls_and_event_types() {
    local before out rc url
    before=$(it_psql -c "SELECT count(*) FROM webhook_endpoints")
    for url in ftp://example.com/x example.com/x HTTPS://example.com/x https:// \
        'https://example.com/a b' "https://example.com/$(printf 'x%.0s' {1..1981})" ''; do
        out=$("$CTL" webhooks add "$url" 2>&1)
        rc=$?
        check_eq "'${url:0:40}': exit" "$rc" 2
        check_contains "'${url:0:40}': message" "$out" "is not an http:// or https:// URL"
    done
    out=$("$CTL" webhooks add https://example.com/x --events video.processed,video.exploded 2>&1)
    rc=$?
    check_eq "unknown type: exit" "$rc" 2
    check_contains "unknown type named" "$out" "unknown event type 'video.exploded'"
    out=$("$CTL" webhooks add https://example.com/x --events '' 2>&1)
    check_eq "empty type list: exit" "$?" 2
    out=$("$CTL" webhooks add https://example.com/x --events video.failed, 2>&1)
    check_eq "trailing comma: exit" "$?" 2
    out=$("$CTL" webhooks add https://example.com/x --events 2>&1)
    check_eq "--events without a value: exit" "$?" 2
    out=$("$CTL" webhooks add https://example.com/x https://example.com/y 2>&1)
    check_eq "two URLs: exit" "$?" 2
    out=$("$CTL" webhooks add 2>&1)
    check_eq "no URL: exit" "$?" 2
    out=$("$CTL" webhooks frobnicate 2>&1)
    check_eq "unknown subcommand: exit" "$?" 2
    check_contains "unknown subcommand: usage" "$out" "usage: showcasectl webhooks add"
    out=$("$CTL" 2>&1)
    check_contains "showcasectl's usage lists webhooks" "$out" "showcasectl webhooks add|list"
    check_eq "nothing inserted" "$(it_psql -c "SELECT count(*) FROM webhook_endpoints")" "$before"
}

test_list_shows_endpoints_and_delivery_counts_not_secrets() {
    local a b v out
    it_psql -c "DELETE FROM webhook_endpoints"
    add_endpoint https://example.com/list-a --events video.uploaded,video.processing || return
    a=$ENDPOINT
    add_endpoint https://example.com/list-b || return
    b=$ENDPOINT
    v=$(new_video 'Listed')
    claim "$v"
    finish "$v" 1
    # b: uploaded and processing delivered, processed failed; a: its two pending
    it_psql -c "UPDATE webhook_deliveries d SET state = CASE e.type
                WHEN 'video.processed' THEN 'failed' ELSE 'delivered' END
                FROM events e WHERE e.id = d.event_id AND d.endpoint_id = $b"
    it_psql -c "UPDATE webhook_endpoints SET enabled = false,
                disabled_reason = E'failing since 2026-01-01: HTTP 500\nfrom upstream'
                WHERE id = $b"
    out=$("$CTL" webhooks list)
    check_eq "exit" "$?" 0
    check_eq "the lines" "$out" "$a yes video.uploaded,video.processing 2 0 0 https://example.com/list-a
$b no all 0 1 2 https://example.com/list-b failing since 2026-01-01: HTTP 500?from upstream"
    case $out in *whsec_*) it_fail "a secret in the list" ;; esac
    it_psql -c "DELETE FROM webhook_endpoints"
    check_eq "none: nothing" "$("$CTL" webhooks list)" ""
    "$CTL" webhooks list extra >/dev/null 2>&1
    check_eq "an argument: exit" "$?" 2
}

test_redeliver_makes_deliveries_pending_again() {
    local a b late v ev out rc
    it_psql -c "DELETE FROM webhook_endpoints"
    add_endpoint https://example.com/re-a --events video.processing || return
    a=$ENDPOINT
    add_endpoint https://example.com/re-b || return
    b=$ENDPOINT
    v=$(new_video 'Redelivered')
    claim "$v"
    ev=$(it_psql -c "SELECT id FROM events WHERE video_id = '$v' AND type = 'video.processing'")
    it_psql -c "UPDATE webhook_deliveries SET state = 'failed', attempts = 7,
                next_at = now() + interval '1 day', last_status = 500 WHERE event_id = $ev"
    # endpoints added after the event: one subscribed, one not, one disabled
    add_endpoint https://example.com/re-late || return
    late=$ENDPOINT
    add_endpoint https://example.com/re-other --events video.failed || return
    add_endpoint https://example.com/re-off || return
    it_psql -c "UPDATE webhook_endpoints SET enabled = false WHERE id = $ENDPOINT"

    out=$("$CTL" webhooks redeliver "$ev" --endpoint "$a" 2>&1)
    rc=$?
    check_eq "one endpoint: exit" "$rc" 0
    check_eq "one endpoint: output" "$out" "event $ev: 1 delivery pending (1 again, 0 new)"
    check_eq "one endpoint: the others untouched" "$(it_psql -c "SELECT string_agg(concat_ws(',',
        endpoint_id = $a, state, attempts, next_at <= now()), ' ' ORDER BY endpoint_id)
        FROM webhook_deliveries WHERE event_id = $ev")" "t,pending,7,t f,failed,7,f"

    out=$("$CTL" webhooks redeliver "$ev" 2>&1)
    rc=$?
    check_eq "all: exit" "$rc" 0
    check_eq "all: output" "$out" "event $ev: 3 deliveries pending (2 again, 1 new)"
    check_eq "all: the rows" "$(it_psql -c "SELECT string_agg(concat_ws(',', endpoint_id, state,
        attempts, next_at <= now(), last_status), ' ' ORDER BY endpoint_id)
        FROM webhook_deliveries WHERE event_id = $ev")" \
        "$a,pending,7,t,500 $b,pending,7,t,500 $late,pending,0,t"
    out=$("$CTL" webhooks redeliver "$ev" 2>&1)
    check_eq "again: nothing new" "$out" "event $ev: 3 deliveries pending (3 again, 0 new)"

    out=$("$CTL" webhooks redeliver 999999999 2>&1)
    rc=$?
    check_eq "no such event: exit" "$rc" 1
    check_contains "no such event: message" "$out" "no such event 999999999"
    out=$("$CTL" webhooks redeliver "$ev" --endpoint 999999999 2>&1)
    rc=$?
    check_eq "no such endpoint: exit" "$rc" 1
    check_contains "no such endpoint: message" "$out" "no such endpoint 999999999"
    out=$("$CTL" webhooks redeliver "$ev" --endpoint "$ENDPOINT" 2>&1)
    check_eq "a disabled endpoint: exit" "$?" 0
    check_contains "a disabled endpoint: warned" "$out" "endpoint $ENDPOINT is disabled"
    for out in "" "abc" "-1" "0" "$ev --endpoint" "$ev --endpoint x" "$ev $ev" \
        "99999999999999999999"; do
        # shellcheck disable=SC2086  # the words are the arguments
        "$CTL" webhooks redeliver $out >/dev/null 2>&1
        check_eq "redeliver '$out': exit" "$?" 2
    done
}

test_enable_and_rm() {
    local a v out rc
    it_psql -c "DELETE FROM webhook_endpoints"
    add_endpoint https://example.com/gone || return
    a=$ENDPOINT
    v=$(new_video 'Removed')
    it_psql -c "UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'HTTP 410'
                WHERE id = $a"
    claim "$v"
    check_eq "disabled: no new delivery" "$(deliveries_of "$a")" "video.uploaded"
    out=$("$CTL" webhooks enable "$a" 2>&1)
    rc=$?
    check_eq "enable: exit" "$rc" 0
    check_eq "enable: output" "$out" "enabled endpoint $a"
    check_eq "enabled, the reason cleared" "$(it_psql -c "SELECT enabled::text || ','
        || coalesce(disabled_reason, 'NULL') FROM webhook_endpoints WHERE id = $a")" "true,NULL"
    check_eq "enable again" "$("$CTL" webhooks enable "$a")" "endpoint $a was enabled already"
    finish "$v" 1
    check_eq "enabled: deliveries again" "$(deliveries_of "$a")" "video.uploaded video.processed"
    out=$("$CTL" webhooks enable 999999999 2>&1)
    check_eq "enable unknown: exit" "$?" 1
    check_contains "enable unknown: message" "$out" "no such endpoint 999999999"

    out=$("$CTL" webhooks rm "$a" 2>&1)
    rc=$?
    check_eq "rm: exit" "$rc" 0
    check_eq "rm: output" "$out" "removed endpoint $a and its deliveries"
    check_eq "rm: endpoint and deliveries gone" "$(it_psql -c "SELECT
        (SELECT count(*) FROM webhook_endpoints WHERE id = $a) +
        (SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $a)")" 0
    check_eq "rm: the events kept" "$(events_of "$v")" \
        "video.uploaded:1 video.processing:2 video.processed:3"
    out=$("$CTL" webhooks rm "$a" 2>&1)
    rc=$?
    check_eq "rm again: exit" "$rc" 1
    check_contains "rm again: message" "$out" "no such endpoint $a"
    for out in "" "x" "0" "1 2" "-5"; do
        # shellcheck disable=SC2086  # the words are the arguments
        "$CTL" webhooks rm $out >/dev/null 2>&1
        check_eq "rm '$out': exit" "$?" 2
        # shellcheck disable=SC2086
        "$CTL" webhooks enable $out >/dev/null 2>&1
        check_eq "enable '$out': exit" "$?" 2
    done
}

test_postgresql_down_is_exit_1_with_its_message() {
    local out rc cmd
    for cmd in "list" "add https://example.com/x" "rm 1" "enable 1" "redeliver 1"; do
        # shellcheck disable=SC2086  # the words are the arguments
        out=$(DATABASE_URL="postgresql://showcase@127.0.0.1:1/showcase" "$CTL" webhooks $cmd 2>&1)
        rc=$?
        check_eq "$cmd: exit" "$rc" 1
        check_contains "$cmd: message" "$out" "showcasectl: postgresql: "
        case $out in *whsec_*) it_fail "$cmd: a secret printed" ;; esac
    done
}

it_main
