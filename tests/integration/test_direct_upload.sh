#!/usr/bin/env bash
# Direct uploads to S3 with a presigned POST policy, against real
# PostgreSQL, Redis, the S3 server and a worker: the form's policy, a
# completed upload processed, completions refused for a missing object, a
# non-video object and another player, and forms never completed swept.
# (The local S3 server stores POSTed objects without checking the policy
# or its signature; the signature is checked against AWS's published
# example and botocore in the unit tests and test_s3.sh.)
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

CTL="$BIN_DIR/showcasectl"

it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"
it_quick_jobs
it_start_api api
API="http://127.0.0.1:$IT_API_PORT"
it_start_worker_bg worker
FX="$IT_DIR/fx"
mkdir -p "$FX"

# shellcheck source=tests/integration/api_client.sh
. "$(dirname "$0")/api_client.sh"

it_clip "$FX/clip.mp4"
head -c 5000 /dev/urandom >"$FX/noise"

signup direct1@example.org >/dev/null
signup direct2@example.org >/dev/null
TOK=$(token direct1@example.org)
OTHER=$(token direct2@example.org)

# upload_url TOKEN TITLE: the answer's body
upload_url() {
    body_of "$(post_json /api/videos/upload-url "{\"title\":\"$2\",\"is_public\":true}" "$1")"
}

# post_form ANSWER FILE: send FILE with the presigned form; prints S3's status
post_form() {
    local args=() name
    for name in $(jq -r '.fields | keys_unsorted[]' <<<"$1"); do
        args+=(-F "$name=$(jq -r --arg n "$name" '.fields[$n]' <<<"$1")")
    done
    curl -s -o "$IT_DIR/s3post.out" -w '%{http_code}' "${args[@]}" \
        -F "file=@$2;type=video/mp4" "$(jq -r .url <<<"$1")"
}

complete() { call POST "/api/videos/$2/complete" -H "Authorization: Bearer $1"; }

test_the_form_and_its_policy() {
    local a policy
    a=$(upload_url "$TOK" policy)
    check "a video_id" grep -qE '^[0-9a-f-]{36}$' <<<"$(jq -r .video_id <<<"$a")"
    check_eq "POST" "$(jq -r .method <<<"$a")" POST
    check_eq "the file's field" "$(jq -r .file_field <<<"$a")" file
    check_eq "the key" "$(jq -r .fields.key <<<"$a")" "originals/$(jq -r .video_id <<<"$a")/source.mp4"
    policy=$(jq -r .fields.policy <<<"$a" | base64 -d)
    check_eq "exactly that key" "$(jq -r '.conditions[] | objects | .key // empty' <<<"$policy")" \
        "$(jq -r .fields.key <<<"$a")"
    # shellcheck disable=SC2016  # the policy's $Content-Type, literally
    check_eq "a video/ type" "$(jq -c '.conditions[] | arrays | select(.[0] == "starts-with")' <<<"$policy")" \
        '["starts-with","$Content-Type","video/"]'
    check_eq "up to the limit" "$(jq -c '.conditions[] | arrays | select(.[0] == "content-length-range")' <<<"$policy")" \
        '["content-length-range",1,104857600]'
    check "a short expiry" test "$(( $(date -d "$(jq -r .expiration <<<"$policy")" +%s) - $(date +%s) ))" -le 900
    check_eq "no token: 401" "$(status_of "$(post_json /api/videos/upload-url '{"title":"x"}')")" 401
    check_eq "no title: 400" "$(status_of "$(post_json /api/videos/upload-url '{}' "$TOK")")" 400
}

test_a_completed_direct_upload_is_processed() {
    local a id out
    a=$(upload_url "$TOK" direct)
    id=$(jq -r .video_id <<<"$a")
    check_eq "S3 took the form" "$(post_form "$a" "$FX/clip.mp4")" 204
    check_eq "another player: 404" "$(status_of "$(complete "$OTHER" "$id")")" 404
    out=$(complete "$TOK" "$id")
    check_eq "complete: 201" "$(status_of "$out")" 201
    check_eq "the video_id" "$(field "$out" .video_id)" "$id"
    check_eq "processed" "$(wait_processed "$TOK" "$id" 120)" processed
    check_eq "the title" "$(field "$(call GET "/api/videos/$id" -H "Authorization: Bearer $TOK")" .title)" direct
    check_eq "once only" "$(status_of "$(complete "$TOK" "$id")")" 404
}

test_missing_or_bad_objects_make_no_job() {
    local a id out
    a=$(upload_url "$TOK" missing)
    id=$(jq -r .video_id <<<"$a")
    out=$(complete "$TOK" "$id")
    check_eq "no object: 400" "$(status_of "$out")" 400
    check_eq "said so" "$(field "$out" .error)" object_missing
    check_eq "no video" "$(it_psql -c "SELECT count(*) FROM videos WHERE id = '$id'")" 0
    check_eq "may still come" "$(post_form "$a" "$FX/noise")" 204
    out=$(complete "$TOK" "$id")
    check_eq "not a video: 400" "$(status_of "$out")" 400
    check_eq "said so" "$(field "$out" .error)" unsupported_media
    check_eq "no video" "$(it_psql -c "SELECT count(*) FROM videos WHERE id = '$id'")" 0
    check_eq "no job" "$(redis-cli -p "$IT_REDIS_PORT" --raw exists "showcase:{q}:job:$id")" 0
    check_eq "the form is gone" "$(status_of "$(complete "$TOK" "$id")")" 404
    check_eq "not an id: 404" "$(status_of "$(complete "$TOK" nope)")" 404
}

test_forms_never_completed_are_swept() {
    local a id port=$IT_API_PORT
    API_DIRECT_URL_TTL_S=2 API_TUS_SWEEP_S=1 it_start_api api_sweep
    API="http://127.0.0.1:$IT_API_PORT"
    a=$(upload_url "$TOK" abandoned)
    id=$(jq -r .video_id <<<"$a")
    check_eq "S3 took the form" "$(post_form "$a" "$FX/clip.mp4")" 204
    check "the object is there" "$CTL" s3 head "originals/$id/source.mp4"
    check "swept" it_wait_sql "SELECT count(*) FROM direct_uploads WHERE id = '$id'" 0 20
    check "the log says so" grep -q "direct upload $id never completed: removed" "$IT_DIR/api_sweep.log"
    check_eq "too late: 404" "$(status_of "$(complete "$TOK" "$id")")" 404
    check "the object is gone" bash -c "! '$CTL' s3 head originals/$id/source.mp4 2>/dev/null"
    sc_stop_pidfile "$IT_DIR/api_sweep.pid" 10
    IT_API_PORT=$port
    API="http://127.0.0.1:$IT_API_PORT"
}

it_main
