#!/usr/bin/env bash
# Resumable uploads (tus 1.0 at /api/uploads/) against real PostgreSQL,
# Redis, the S3 server and a worker: two independent clients
# (tus-js-client, python3-tuspy) through a network that drops the
# connection every 10 MB, the protocol's refusals, expiry with its S3
# multipart upload aborted, and uploads spread over two API instances,
# one of them killed mid-upload.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

CTL="$BIN_DIR/showcasectl"
TOOLS="$IT_TOP/tests/integration/tools"
export NODE_MODULES="$IT_TOP/deploy/local/node_modules"

it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"
it_quick_jobs
export API_CORS_ORIGINS=https://portal.example.org
# S3 through the recording proxy: AbortMultipartUpload is seen there
S3_PROXY_PORT=$(sc_free_port)
/usr/bin/python3 "$TOOLS/s3_proxy.py" "$S3_PROXY_PORT" "$IT_S3_PORT" "$IT_DIR/s3.requests" \
    >"$IT_DIR/s3_proxy.log" 2>&1 &
echo $! >"$IT_DIR/s3_proxy.pid"
sc_wait_for curl -s -o /dev/null "http://127.0.0.1:$S3_PROXY_PORT/" || it_fail "the S3 proxy did not start"
export S3_ENDPOINT="http://127.0.0.1:$S3_PROXY_PORT"
it_start_api api
MAIN_PORT=$IT_API_PORT
API="http://127.0.0.1:$IT_API_PORT"
it_start_worker_bg worker
FX="$IT_DIR/fx"
mkdir -p "$FX"

# shellcheck source=tests/integration/api_client.sh
. "$(dirname "$0")/api_client.sh"

# A playable clip, then the same clip grown to 60 MB by an ISO BMFF free
# box at its end (players and the worker skip it): made once, reused.
it_clip "$FX/clip.mp4"
grow() {
    local size=$1 out=$2 clip pad
    clip=$(stat -c %s "$FX/clip.mp4")
    pad=$((size - clip))
    { cat "$FX/clip.mp4"
      printf '%08x' "$pad" | xxd -r -p
      printf 'free'
      head -c $((pad - 8)) /dev/urandom; } >"$out"
}
grow $((60 * 1000 * 1000)) "$FX/big.mp4"
for n in 1 3 6; do head -c $((n * 1000 * 1000)) "$FX/big.mp4" >"$FX/first${n}m"; done

signup tus1@example.org >/dev/null
signup tus2@example.org >/dev/null
TOK=$(token tus1@example.org)
OTHER=$(token tus2@example.org)
H_TUS=(-H "Tus-Resumable: 1.0.0")

# b64 TEXT
b64() { printf '%s' "$1" | base64 -w0; }

# create TOKEN LENGTH [TITLE]: prints the Location's id (empty on failure)
create() {
    curl -s -o /dev/null -D - -X POST "${H_TUS[@]}" -H "Authorization: Bearer $1" \
        -H "Upload-Length: $2" -H "Upload-Metadata: title $(b64 "${3:-clip}"),is_public $(b64 true)" \
        "$API/api/uploads/" | tr -d '\r' | sed -n 's|^Location: /api/uploads/||Ip'
}

# head_offset TOKEN ID: the Upload-Offset HEAD reports
head_offset() {
    curl -s -o /dev/null -D - -I "${H_TUS[@]}" -H "Authorization: Bearer $1" \
        "$API/api/uploads/$2" | tr -d '\r' | sed -n 's/^Upload-Offset: //Ip'
}

# patch TOKEN ID OFFSET FILE [curl args]: prints the status (headers in
# patch.headers).  The body of a refused PATCH is read only up to 2 MiB
# (then the connection is closed, no answer): refusals are tested with
# smaller bodies.
patch() {
    local tok=$1 id=$2 off=$3 file=$4
    shift 4
    curl -s -o /dev/null -D "$IT_DIR/patch.headers" -w '%{http_code}' -X PATCH "${H_TUS[@]}" \
        -H "Authorization: Bearer $tok" -H "Upload-Offset: $off" -H "Expect:" \
        -H "Content-Type: ${PATCH_CT:-application/offset+octet-stream}" --data-binary "@$file" "$@" \
        "$API/api/uploads/$id"
}

# --- through a network that drops every 10 MB ---------------------------

start_cutting_proxy() {
    CUT_PORT=$(sc_free_port)
    /usr/bin/python3 "$TOOLS/tcp_proxy.py" "$CUT_PORT" "$IT_API_PORT" "$IT_DIR/cut.log" \
        --cut-bytes $((10 * 1000 * 1000)) >"$IT_DIR/cut_proxy.log" 2>&1 &
    echo $! >"$IT_DIR/cut_proxy.pid"
    sc_wait_for curl -s -o /dev/null "http://127.0.0.1:$CUT_PORT/health/live"
}

test_tus_js_client_resumes_through_dropped_connections() {
    local out id
    [ -n "${CUT_PORT:-}" ] || start_cutting_proxy
    : >"$IT_DIR/cut.log"
    out=$(node "$TOOLS/tus_upload.js" "http://127.0.0.1:$CUT_PORT/api/uploads/" "$TOK" \
        "$FX/big.mp4" "tus-js-client" 2>"$IT_DIR/tusjs.err") || {
        it_fail "tus-js-client failed"; tail -5 "$IT_DIR/tusjs.err"; return; }
    id=$(jq -r .url <<<"$out" | sed 's|.*/api/uploads/||')
    check "connections were cut" test "$(grep -c ' cut$' "$IT_DIR/cut.log")" -ge 5
    check "the client resumed" test "$(jq .retries <<<"$out")" -ge 5
    # the resumes went on from where the server was, not from 0
    check "resumed from several offsets" jq -e '[.offsets[] | select(. > 0 and . < 60000000)] | unique | length >= 4' <<<"$out"
    # and the bytes after the last whole part were kept too, not only parts
    check "a resume past the last whole part" jq -e '[.offsets[] | select(. % 5242880 != 0 and . < 60000000)] | length >= 1' <<<"$out"
    check_eq "the server has it all" "$(head_offset "$TOK" "$id")" 60000000
    check_eq "processed" "$(wait_processed "$TOK" "$id" 120)" processed
    out=$(call GET "/api/videos/$id" -H "Authorization: Bearer $TOK")
    check_eq "its title" "$(field "$out" .title)" "tus-js-client"
    check_eq "the original's size" "$(it_psql -c "SELECT source_bytes FROM videos WHERE id = '$id'")" 60000000
    check_eq "no tail objects left" "$(it_psql -c "SELECT count(*) FROM tus_parts WHERE upload_id = '$id'")" 0
}

test_tuspy_resumes_through_dropped_connections() {
    local url id
    [ -n "${CUT_PORT:-}" ] || start_cutting_proxy
    : >"$IT_DIR/cut.log"
    url=$(/usr/bin/python3 "$TOOLS/tuspy_upload.py" "http://127.0.0.1:$CUT_PORT/api/uploads/" "$TOK" \
        "$FX/big.mp4" "tuspy" 2>"$IT_DIR/tuspy.err") || {
        it_fail "tuspy failed"; tail -5 "$IT_DIR/tuspy.err"; return; }
    id=${url##*/}
    check "connections were cut" test "$(grep -c ' cut$' "$IT_DIR/cut.log")" -ge 5
    check_eq "the server has it all" "$(head_offset "$TOK" "$id")" 60000000
    check_eq "processed" "$(wait_processed "$TOK" "$id" 120)" processed
}

# --- the protocol's answers ------------------------------------------------

test_discovery_and_cors() {
    local h
    h=$(curl -s -o /dev/null -D - -X OPTIONS "$API/api/uploads/" | tr -d '\r')
    check_contains "Tus-Version" "$h" "Tus-Version: 1.0.0"
    check_contains "extensions" "$h" "Tus-Extension: creation,creation-with-upload,expiration,termination,checksum"
    check_contains "max size" "$h" "Tus-Max-Size: 104857600"
    check_contains "checksum algorithm" "$h" "Tus-Checksum-Algorithm: sha1"
    h=$(curl -s -o /dev/null -D - -X OPTIONS -H "Origin: https://portal.example.org" \
        -H "Access-Control-Request-Method: PATCH" "$API/api/uploads/x" | tr -d '\r')
    check_contains "preflight allows PATCH" "$h" "PATCH"
    check_contains "preflight allows Upload-Offset" "$h" "Upload-Offset"
    h=$(curl -s -o /dev/null -D - -X POST "${H_TUS[@]}" -H "Origin: https://portal.example.org" \
        -H "Authorization: Bearer $TOK" -H "Upload-Length: 100" \
        -H "Upload-Metadata: title $(b64 cors)" "$API/api/uploads/" | tr -d '\r')
    check_contains "Location exposed to scripts" "$h" "Location, Tus-Resumable"
    check_contains "Upload-Expires" "$h" "Upload-Expires: "
}

# tus 1.0: a POST with X-HTTP-Method-Override is the method it names
# (tus-js-client's overridePatchMethod, for proxies passing only GET and
# POST): bytes appended, the offset read, the upload ended.
test_method_override() {
    local id code h
    id=$(create "$TOK" 3000000 override)
    code=$(patch "$TOK" "$id" 0 "$FX/first1m" -X POST -H "X-HTTP-Method-Override: PATCH")
    check_eq "POST overridden as PATCH appends" "$code" 204
    check_contains "its new offset" "$(tr -d '\r' <"$IT_DIR/patch.headers")" "Upload-Offset: 1000000"
    h=$(curl -s -o /dev/null -D - -X POST "${H_TUS[@]}" -H "Authorization: Bearer $TOK" \
        -H "X-HTTP-Method-Override: HEAD" "$API/api/uploads/$id" | tr -d '\r')
    check_contains "POST overridden as HEAD gives the offset" "$h" "Upload-Offset: 1000000"
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${H_TUS[@]}" -H "Authorization: Bearer $TOK" \
        -H "X-HTTP-Method-Override: DELETE" "$API/api/uploads/$id")
    check_eq "POST overridden as DELETE ends it" "$code" 204
    check_eq "ended" "$(it_psql -c "SELECT count(*) FROM tus_uploads WHERE id = '$id'")" 0
}

test_creation_refusals() {
    local out
    out=$(call POST /api/uploads/ -H "Authorization: Bearer $TOK" -H "Upload-Length: 10" \
        -H "Upload-Metadata: title $(b64 x)")
    check_eq "no Tus-Resumable: 412" "$(status_of "$out")" 412
    out=$(call POST /api/uploads/ "${H_TUS[@]}" -H "Upload-Length: 10" -H "Upload-Metadata: title $(b64 x)")
    check_eq "no token: 401" "$(status_of "$out")" 401
    out=$(call POST /api/uploads/ "${H_TUS[@]}" -H "Authorization: Bearer $TOK" \
        -H "Upload-Length: $((100 * 1024 * 1024 + 1))" -H "Upload-Metadata: title $(b64 x)")
    check_eq "past the upload limit: 413" "$(status_of "$out")" 413
    out=$(call POST /api/uploads/ "${H_TUS[@]}" -H "Authorization: Bearer $TOK" -H "Upload-Length: 10")
    check_eq "no title: 400" "$(status_of "$out")" 400
    check_eq "the field named" "$(field "$out" .fields.title)" "is required"
    out=$(call POST /api/uploads/ "${H_TUS[@]}" -H "Authorization: Bearer $TOK" -H "Upload-Length: ten" \
        -H "Upload-Metadata: title $(b64 x)")
    check_eq "a bad length: 400" "$(status_of "$out")" 400
    out=$(call POST /api/uploads/ "${H_TUS[@]}" -H "Authorization: Bearer $TOK" -H "Upload-Length: 10" \
        -H "Upload-Metadata: title $(b64 x),is_public $(b64 maybe)")
    check_eq "a bad is_public: 400" "$(status_of "$out")" 400
    out=$(call POST /api/uploads/ "${H_TUS[@]}" -H "Authorization: Bearer $TOK" -H "Upload-Length: 10" \
        -H "Upload-Metadata: title !!!")
    check_eq "a title not base64: 400" "$(status_of "$out")" 400
    check_eq "named as such" "$(field "$out" .fields.title)" "must be base64 (RFC 4648, with padding)"
    out=$(call POST /api/uploads/ "${H_TUS[@]}" -H "Authorization: Bearer $TOK" -H "Upload-Length: 10" \
        -H "Upload-Metadata: title $(b64 first),is_public $(b64 true),title $(b64 second)")
    check_eq "a key twice (tus: keys are unique): 400" "$(status_of "$out")" 400
    check_eq "named" "$(field "$out" '.fields["Upload-Metadata"]')" "has a key twice"
}

test_creation_with_upload() {
    local h id out
    h=$(curl -s -o /dev/null -D - -X POST "${H_TUS[@]}" -H "Authorization: Bearer $TOK" \
        -H "Upload-Length: 60000000" -H "Upload-Metadata: title $(b64 first)" -H "Expect:" \
        -H "Content-Type: application/offset+octet-stream" --data-binary "@$FX/first1m" \
        "$API/api/uploads/" | tr -d '\r')
    check_contains "201" "$h" "HTTP/1.1 201"
    check_contains "the bytes taken" "$h" "Upload-Offset: 1000000"
    id=$(sed -n 's|^Location: /api/uploads/||Ip' <<<"$h")
    check_eq "HEAD agrees" "$(head_offset "$TOK" "$id")" 1000000
    h=$(curl -s -o /dev/null -D - -X POST "${H_TUS[@]}" -H "Authorization: Bearer $TOK" \
        -H "Upload-Length: 60000000" -H "Upload-Metadata: title $(b64 first)" -H "Expect:" \
        -H "Content-Type: text/plain" --data-binary "@$FX/first1m" "$API/api/uploads/" | tr -d '\r')
    check_contains "a body of another type: 415" "$h" "HTTP/1.1 415"
    # tus-js-client sends the whole small file with the creation
    out=$(TUS_WITH_UPLOAD=1 node "$TOOLS/tus_upload.js" "$API/api/uploads/" "$TOK" \
        "$FX/clip.mp4" "with the creation" 2>"$IT_DIR/tusjs2.err") || {
        it_fail "tus-js-client failed"; tail -5 "$IT_DIR/tusjs2.err"; return; }
    id=$(jq -r .url <<<"$out" | sed 's|.*/api/uploads/||')
    check "one request: the creation" grep -q "tus upload $id created by user [0-9]* with its first bytes" "$IT_DIR/api.log"
    check "no PATCH" test "$(grep -c "PATCH /api/uploads/$id" "$IT_DIR/api.log")" = 0
    check_eq "processed" "$(wait_processed "$TOK" "$id" 60)" processed
}

test_rate_limits_hold_for_creations() {
    local api_save=$API h
    API_RATE_LIMITS=1 API_LIMIT_UPLOAD_ACCOUNT=1/h it_start_api api_rl
    API="http://127.0.0.1:$IT_API_PORT"
    check "the first creation" test -n "$(create "$OTHER" 1000)"
    h=$(curl -s -D - -X POST "${H_TUS[@]}" -H "Authorization: Bearer $OTHER" -H "Upload-Length: 1000" \
        -H "Upload-Metadata: title $(b64 x)" "$API/api/uploads/" | tr -d '\r')
    check_contains "the second: 429" "$h" "HTTP/1.1 429"
    check_contains "the limit named" "$h" '"limit":"upload_account"'
    check_contains "Retry-After" "$h" "Retry-After: "
    h=$(curl -s -D - -X PATCH -H "Authorization: Bearer $OTHER" -H "Upload-Offset: 0" \
        "$API/api/uploads/00000000-0000-4000-8000-000000000000" | tr -d '\r')
    check_contains "no Tus-Resumable: 412" "$h" "HTTP/1.1 412"
    check_contains "with Tus-Version" "$h" "Tus-Version: 1.0.0"
    sc_stop_pidfile "$IT_DIR/api_rl.pid" 10
    API=$api_save
    IT_API_PORT=$MAIN_PORT
}

test_wrong_offset_409_and_checksum_460() {
    local id size sum
    id=$(create "$TOK" 60000000)
    check "created" test -n "$id"
    check_eq "a wrong offset: 409" "$(patch "$TOK" "$id" 5 "$FX/first1m")" 409
    check_contains "a refusal says Tus-Resumable too" "$(tr -d '\r' <"$IT_DIR/patch.headers")" "Tus-Resumable: 1.0.0"
    check_eq "offset unchanged" "$(head_offset "$TOK" "$id")" 0
    sum=$(openssl dgst -sha1 -binary "$FX/clip.mp4" | base64)
    check_eq "a wrong checksum: 460" \
        "$(patch "$TOK" "$id" 0 "$FX/first1m" -H "Upload-Checksum: sha1 $sum")" 460
    check_eq "the chunk was discarded" "$(head_offset "$TOK" "$id")" 0
    check_eq "an unknown algorithm: 400" \
        "$(patch "$TOK" "$id" 0 "$FX/first1m" -H "Upload-Checksum: md5 $sum")" 400
    sum=$(openssl dgst -sha1 -binary "$FX/first3m" | base64)
    check_eq "the right checksum: 204" \
        "$(patch "$TOK" "$id" 0 "$FX/first3m" -H "Upload-Checksum: sha1 $sum")" 204
    check_contains "the new offset" "$(tr -d '\r' <"$IT_DIR/patch.headers")" "Upload-Offset: 3000000"
    check_eq "HEAD agrees" "$(head_offset "$TOK" "$id")" 3000000
    check_eq "a wrong content type: 415" \
        "$(PATCH_CT=application/octet-stream patch "$TOK" "$id" 3000000 "$FX/first1m")" 415
    check_eq "an empty PATCH at the offset: 204" \
        "$(patch "$TOK" "$id" 3000000 /dev/null)" 204
    check_eq "an empty PATCH elsewhere: 409" \
        "$(patch "$TOK" "$id" 1 /dev/null)" 409
    check_eq "still 3000000" "$(head_offset "$TOK" "$id")" 3000000
}

test_another_players_upload_is_not_found() {
    local id
    id=$(create "$TOK" 1000)
    check_eq "HEAD" "$(curl -s -o /dev/null -w '%{http_code}' -I "${H_TUS[@]}" \
        -H "Authorization: Bearer $OTHER" "$API/api/uploads/$id")" 404
    check_eq "PATCH" "$(patch "$OTHER" "$id" 0 "$FX/clip.mp4" -H "Content-Length: 1000" 2>/dev/null)" 404
    check_eq "DELETE" "$(status_of "$(call DELETE "/api/uploads/$id" "${H_TUS[@]}" -H "Authorization: Bearer $OTHER")")" 404
    check_eq "still the owner's" "$(head_offset "$TOK" "$id")" 0
    check_eq "not an id: 404" "$(status_of "$(call DELETE "/api/uploads/..%2f" "${H_TUS[@]}" -H "Authorization: Bearer $TOK")")" 404
}

test_past_upload_length_is_refused() {
    local id
    id=$(create "$TOK" 1000)
    check_eq "a body past Upload-Length: 413" "$(patch "$TOK" "$id" 0 "$FX/clip.mp4")" 413
    check_eq "nothing kept" "$(head_offset "$TOK" "$id")" 0
}

test_not_a_video_is_refused_and_removed() {
    local id
    head -c 2000 /dev/urandom >"$FX/noise"
    id=$(create "$TOK" 2000)
    check_eq "not MP4: 400" "$(patch "$TOK" "$id" 0 "$FX/noise")" 400
    check_eq "the upload is gone" "$(curl -s -o /dev/null -w '%{http_code}' -I "${H_TUS[@]}" \
        -H "Authorization: Bearer $TOK" "$API/api/uploads/$id")" 404
    check_eq "no video" "$(it_psql -c "SELECT count(*) FROM videos WHERE id = '$id'")" 0
}

test_a_small_file_in_one_patch() {
    local id size
    size=$(stat -c %s "$FX/clip.mp4")
    id=$(create "$TOK" "$size" "small")
    check_eq "204" "$(patch "$TOK" "$id" 0 "$FX/clip.mp4")" 204
    check_eq "processed" "$(wait_processed "$TOK" "$id" 60)" processed
    check_eq "a completed upload takes no more" "$(patch "$TOK" "$id" "$size" "$FX/first1m")" 413
}

test_termination_aborts_the_multipart_upload() {
    local id
    id=$(create "$TOK" 60000000)
    check_eq "a part's worth" "$(patch "$TOK" "$id" 0 "$FX/first6m")" 204
    check_eq "DELETE: 204" "$(status_of "$(call DELETE "/api/uploads/$id" "${H_TUS[@]}" -H "Authorization: Bearer $TOK")")" 204
    check_eq "then 404" "$(curl -s -o /dev/null -w '%{http_code}' -I "${H_TUS[@]}" \
        -H "Authorization: Bearer $TOK" "$API/api/uploads/$id")" 404
    check "S3 saw the abort" grep -q "DELETE /[^ ]*originals/$id/source.mp4?uploadId=" "$IT_DIR/s3.requests"
    check "the tail went too" grep -q "DELETE /[^ ]*uploads/$id/tail-6000000 " "$IT_DIR/s3.requests"
}

test_expired_upload_is_gone_and_aborted() {
    local id api_save=$API
    API_TUS_EXPIRY_S=3 API_TUS_SWEEP_S=1 it_start_api api_exp
    API="http://127.0.0.1:$IT_API_PORT"
    id=$(create "$TOK" 60000000)
    check_eq "a part's worth" "$(patch "$TOK" "$id" 0 "$FX/first6m")" 204
    sleep 3
    # expired: 410 until the sweeper has removed it, then 404
    check "410 or 404" grep -qE '^(410|404)$' <<<"$(patch "$TOK" "$id" 6000000 "$FX/first1m")"
    check "swept" it_wait_sql "SELECT count(*) FROM tus_uploads WHERE id = '$id'" 0 20
    check_eq "then 404" "$(curl -s -o /dev/null -w '%{http_code}' -I "${H_TUS[@]}" \
        -H "Authorization: Bearer $TOK" "$API/api/uploads/$id")" 404
    check "S3 saw the abort" grep -q "DELETE /[^ ]*originals/$id/source.mp4?uploadId=" "$IT_DIR/s3.requests"
    check "the log says so" grep -q "tus upload $id expired" "$IT_DIR/api_exp.log"
    sc_stop_pidfile "$IT_DIR/api_exp.pid" 10
    API=$api_save
    IT_API_PORT=$MAIN_PORT
}

# --- any instance, and one killed ---------------------------------------

test_two_instances_and_one_killed() {
    local port_a=$MAIN_PORT port_b alt url id off pid
    it_start_api api_b
    port_b=$IT_API_PORT
    ALT_PORT=$(sc_free_port)
    /usr/bin/python3 "$TOOLS/tcp_proxy.py" "$ALT_PORT" "$port_a,$port_b" "$IT_DIR/alt.log" \
        >"$IT_DIR/alt_proxy.log" 2>&1 &
    echo $! >"$IT_DIR/alt_proxy.pid"
    sc_wait_for curl -s -o /dev/null "http://127.0.0.1:$ALT_PORT/health/live"
    alt="http://127.0.0.1:$ALT_PORT/api/uploads/"
    # 6 MB PATCHes, each on a new connection: they alternate
    url=$(/usr/bin/python3 "$TOOLS/tuspy_upload.py" "$alt" "$TOK" "$FX/big.mp4" "two" 6000000 --checksum \
        2>"$IT_DIR/tuspy2.err") || { it_fail "tuspy failed"; tail -3 "$IT_DIR/tuspy2.err"; }
    id=${url##*/}
    check "PATCHes on A" test "$(grep -c "PATCH /api/uploads/$id 204" "$IT_DIR/api.log")" -ge 3
    check "PATCHes on B" test "$(grep -c "PATCH /api/uploads/$id 204" "$IT_DIR/api_b.log")" -ge 3
    check_eq "processed" "$(wait_processed "$TOK" "$id" 120)" processed

    # B killed mid-PATCH, restarted: the client resumes where the server says
    id=$(create "$TOK" 60000000 "killed")
    curl -s -o /dev/null -X PATCH "${H_TUS[@]}" -H "Authorization: Bearer $TOK" -H "Upload-Offset: 0" \
        -H "Content-Type: application/offset+octet-stream" --limit-rate 4M \
        --data-binary "@$FX/big.mp4" "http://127.0.0.1:$port_b/api/uploads/$id" &
    pid=$!
    it_wait_sql "SELECT upload_offset >= 15728640 FROM tus_uploads WHERE id = '$id'" t 30 ||
        it_fail "no parts committed"
    kill -KILL "$(cat "$IT_DIR/api_b.pid")"
    wait "$pid"
    rm -f "$IT_DIR/api_b.pid"
    IT_API_PORT=$port_b
    API_PORT=$port_b sc_daemon api_b "$IT_DIR" "$IT_DIR/api_b.log" "$BIN_DIR/showcase-api"
    sc_wait_for curl -sf -o /dev/null "http://127.0.0.1:$port_b/health/live" || it_fail "B did not restart"
    off=$(head_offset "$TOK" "$id")
    check "the server kept what it committed" test "$off" -ge 15728640
    check "killed mid-upload" test "$off" -lt 60000000
    url=$(/usr/bin/python3 "$TOOLS/tuspy_upload.py" "$alt" "$TOK" "$FX/big.mp4" "killed" \
        --url "$alt$id" 2>"$IT_DIR/tuspy3.err") || { it_fail "the resume failed"; tail -3 "$IT_DIR/tuspy3.err"; }
    check "the resume began at the server's offset" \
        grep -q "PATCH /api/uploads/$id 204" <(cat "$IT_DIR/api.log" "$IT_DIR/api_b.log")
    check_eq "complete" "$(head_offset "$TOK" "$id")" 60000000
    check_eq "processed" "$(wait_processed "$TOK" "$id" 120)" processed
    IT_API_PORT=$port_a
}

it_main
