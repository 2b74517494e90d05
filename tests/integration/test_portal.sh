#!/usr/bin/env bash
# The players' portal (api/portal/, served at /): its files with types,
# validators, 304, HEAD, the Content-Security-Policy, no way out of its
# directory, API paths never shadowed, API_PORTAL=0 and API_PORTAL_DIR;
# then a real browser (Debian's chromium, driven by playwright-core)
# through the whole player's journey against PostgreSQL, Redis, the S3
# server, the API and a worker (tools/portal_e2e.js says what it checks).
# Screenshots go to $IT_ARTIFACTS (default: the test's directory, kept
# with IT_KEEP=1).  The portal plays HLS with hls.js and uploads with
# tus-js-client, whose files the API serves as the pinned npm packages have
# them; the segments come from presigned S3 URLs that the S3 server lets
# the portal's origin read (CORS).  The browser reaches the API through
# tools/tcp_proxy.py, which drops a connection when the journey asks for
# it, to see the uploads go on from the server's offset.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

CTL="$BIN_DIR/showcasectl"
NODE_MODULES="$IT_TOP/deploy/local/node_modules"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

# the API's port, and that of the proxy the browser goes through, are known
# before the S3 server starts: the bucket's CORS rule names the portal's
# origins
PORTAL_PORT=$(sc_free_port)
PROXY_PORT=$(sc_free_port)
export S3_LOCAL_CORS_ORIGINS="http://127.0.0.1:$PORTAL_PORT,http://127.0.0.1:$PROXY_PORT"
it_start_services
"$CTL" migrate up >/dev/null || it_fail "migrations"
export API_ARGON2_OPS=1 API_ARGON2_MEM_KB=8192 API_RATE_LIMITS=0
export WORKER_CONCURRENCY=1 WORKER_METRICS_PORT=0 WORKER_TMP_DIR="$IT_DIR"
export WORKER_HEARTBEAT_MS=500 WORKER_LEASE_MS=3000
if grep -q __asan_init "$BIN_DIR/showcase-transcode"; then export WORKER_MEMORY_MB=0; fi
it_start_api api "$PORTAL_PORT"
API="http://127.0.0.1:$IT_API_PORT"
FX="$IT_DIR/fx"
ART=${IT_ARTIFACTS:-$IT_DIR/artifacts}
mkdir -p "$FX" "$ART"

# shellcheck source=tests/integration/api_client.sh
. "$(dirname "$0")/api_client.sh"
# headers PATH [curl args]: the response's headers, CRLF removed
headers() { curl -s -o /dev/null -D - "${@:2}" "$API$1" | tr -d '\r'; }
# header NAME HEADERS: the value of the first NAME
header() { grep -i "^$1:" <<<"$2" | head -n 1 | cut -d' ' -f2-; }
code() { curl -s -o /dev/null -w '%{http_code}' "${@:2}" "$API$1"; }

# --- the files over HTTP --------------------------------------------------

test_index_served_with_type_csp_and_validators() {
    local h body
    h=$(headers /)
    check_contains "status" "$(head -n 1 <<<"$h")" " 200"
    check_eq "type" "$(header Content-Type "$h")" "text/html; charset=utf-8"
    check_eq "cache" "$(header Cache-Control "$h")" "no-cache"
    check "etag" grep -Eq '^ETag: "[0-9a-f]+-[0-9a-f]+"$' <<<"$h"
    check "last-modified" grep -Eq '^Last-Modified: [A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9:]{8} GMT$' <<<"$h"
    check_eq "nosniff" "$(header X-Content-Type-Options "$h")" nosniff
    check_eq "frames" "$(header X-Frame-Options "$h")" DENY
    check_eq "referrer" "$(header Referrer-Policy "$h")" no-referrer
    check_contains "csp" "$(header Content-Security-Policy "$h")" "default-src 'self'; script-src 'self'; style-src 'self'"
    check_contains "csp media" "$(header Content-Security-Policy "$h")" "media-src 'self' blob: $S3_ENDPOINT;"
    check_contains "csp img" "$(header Content-Security-Policy "$h")" "img-src 'self' $S3_ENDPOINT;"
    # hls.js fetches segments from S3, and runs without a worker
    check_contains "csp connect" "$(header Content-Security-Policy "$h")" "connect-src 'self' $S3_ENDPOINT;"
    check_eq "csp worker" "$(grep -c worker-src <<<"$(header Content-Security-Policy "$h")")" 0
    check_contains "csp frames" "$(header Content-Security-Policy "$h")" "frame-ancestors 'none'"
    body=$(curl -s "$API/index.html")
    check_eq "index.html is /" "$body" "$(cat "$IT_TOP/api/portal/index.html")"
    # no inline script or style for the policy to forbid
    check "no inline script" bash -c "! grep -Eq '<script>|<style|style=\"' '$IT_TOP/api/portal/index.html'"
    check_eq "js type" "$(header Content-Type "$(headers /app.js)")" "text/javascript; charset=utf-8"
    check_eq "css type" "$(header Content-Type "$(headers /app.css)")" "text/css; charset=utf-8"
    check_eq "svg type" "$(header Content-Type "$(headers /icon.svg)")" "image/svg+xml"
}

test_hls_js_is_the_pinned_package_unchanged() {
    local pkg="$NODE_MODULES/hls.js" version
    version=$(jq -r .version "$pkg/package.json")
    check "the module is the package's file" cmp "$IT_TOP/api/portal/hls.light.min.mjs" \
        "$pkg/dist/hls.light.min.mjs"
    check "its license is the package's" cmp "$IT_TOP/api/portal/hls.js-LICENSE.txt" "$pkg/LICENSE"
    check_eq "pinned in package.json" "$(jq -r '.dependencies["hls.js"]' "$IT_TOP/deploy/local/package.json")" "$version"
    check "the notice names the version" grep -q "hls.js $version," "$IT_TOP/api/portal/THIRD_PARTY.txt"
    check_eq "served as a module" "$(header Content-Type "$(headers /hls.light.min.mjs)")" \
        "text/javascript; charset=utf-8"
    check_eq "served whole" "$(curl -s "$API/hls.light.min.mjs" | cmp - "$pkg/dist/hls.light.min.mjs" && echo same)" same
}

test_s3_lets_the_portal_read_with_range() {
    local h url=$S3_ENDPOINT/$S3_BUCKET/processed/x/hls/1/720p.m4s
    h=$(curl -s -o /dev/null -D - -X OPTIONS -H "Origin: $API" -H 'Access-Control-Request-Method: GET' \
        -H 'Access-Control-Request-Headers: range' "$url" | tr -d '\r')
    check_contains "preflight" "$(head -n 1 <<<"$h")" " 200"
    check_eq "range allowed" "$(header Access-Control-Allow-Headers "$h")" range
    check_eq "reads only" "$(header Access-Control-Allow-Methods "$h")" "GET, HEAD"
    check_eq "another origin" "$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H 'Origin: http://127.0.0.1:1' \
        -H 'Access-Control-Request-Method: GET' "$url")" 403
    check_eq "no writes" "$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS -H "Origin: $API" \
        -H 'Access-Control-Request-Method: PUT' "$url")" 403
}

test_tus_js_client_is_the_pinned_package_unchanged() {
    local pkg="$NODE_MODULES/tus-js-client" version
    version=$(jq -r .version "$pkg/package.json")
    check "the script is the package's browser build" cmp "$IT_TOP/api/portal/tus.min.js" "$pkg/dist/tus.min.js"
    check "its license is the package's" cmp "$IT_TOP/api/portal/tus-js-client-LICENSE.txt" "$pkg/LICENSE"
    check_eq "pinned in package.json" "$(jq -r '.dependencies["tus-js-client"]' "$IT_TOP/deploy/local/package.json")" "$version"
    check "the notice names the version" grep -q "tus-js-client $version," "$IT_TOP/api/portal/THIRD_PARTY.txt"
    check_eq "served as a script" "$(header Content-Type "$(headers /tus.min.js)")" "text/javascript; charset=utf-8"
    check_eq "served whole" "$(curl -s "$API/tus.min.js" | cmp - "$pkg/dist/tus.min.js" && echo same)" same
}

test_conditional_requests_answer_304() {
    local h etag lm
    h=$(headers /app.js)
    etag=$(header ETag "$h")
    lm=$(header Last-Modified "$h")
    check_eq "if-none-match" "$(code /app.js -H "If-None-Match: $etag")" 304
    check_eq "weak if-none-match" "$(code /app.js -H "If-None-Match: \"x\", W/$etag")" 304
    check_eq "other etag" "$(code /app.js -H 'If-None-Match: "0-0"')" 200
    # "*" is the field's whole value (RFC 9110 section 13.1.2), not any
    # star inside an entity tag
    check_eq "any" "$(code /app.js -H 'If-None-Match:  * ')" 304
    check_eq "a star inside a tag" "$(code /app.js -H 'If-None-Match: "0-0*"')" 200
    check_eq "if-modified-since" "$(code /app.js -H "If-Modified-Since: $lm")" 304
    check_eq "older copy" "$(code /app.js -H 'If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT')" 200
    check_eq "etag decides" "$(code /app.js -H 'If-None-Match: "0-0"' -H "If-Modified-Since: $lm")" 200
    h=$(headers /app.js -H "If-None-Match: $etag")
    check_eq "304 keeps etag" "$(header ETag "$h")" "$etag"
}

test_head_has_headers_and_no_body() {
    local out
    out=$(curl -s -I -w '%{size_download}' "$API/app.css" | tr -d '\r')
    check_contains "status" "$(head -n 1 <<<"$out")" " 200"
    check_eq "length" "$(header Content-Length "$out")" "$(stat -c %s "$IT_TOP/api/portal/app.css")"
    check_eq "no body" "$(tail -n 1 <<<"$out")" 0
}

test_no_way_out_of_the_directory() {
    local p
    # a file beside the directory that must never be served
    for p in /../Makefile /..%2FMakefile /%2e%2e/Makefile /%2e%2e%2fMakefile \
        /.. /%2e%2e /.hidden /portal_files.c /app.js.bak /%2fetc%2fpasswd \
        /..%2f..%2f..%2fetc%2fpasswd; do
        check_eq "GET $p" "$(code "$p" --path-as-is)" 404
    done
    # a link inside the directory is not followed
    ln -s /etc/passwd "$IT_TOP/api/portal/it-link-$$.txt"
    check_eq "symbolic link" "$(code "/it-link-$$.txt")" 404
    rm -f "$IT_TOP/api/portal/it-link-$$.txt"
    check_eq "unknown file" "$(code /nope.js)" 404
    check_contains "404 shape" "$(curl -s "$API/nope.js")" '"error":"not_found"'
}

# strict_json URL [curl args]: the answer is JSON in UTF-8 (RFC 8259)
strict_json() {
    curl -s "${@:2}" "$API$1" |
        python3 -c 'import json, sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))'
}

test_odd_paths_get_utf8_json_errors() {
    local long
    # an accented letter across the 200th byte of the path shown
    long="/$(head -c 198 /dev/zero | tr '\0' a)%C3%A9%C3%A9.js"
    for p in /%ff.js /%C3.js /api/%ff /api/videos/%ff/hls/x "$long" "/api$long"; do
        check "404 of $p is UTF-8 JSON" strict_json "$p"
        check_eq "404 of $p" "$(code "$p")" 404
    done
    check "405 too" strict_json /health%ff -X DELETE
    check_contains "a path that is text is still shown" "$(curl -s "$API/nope%C3%A9.js")" 'nopeé.js'
}

test_api_paths_are_not_shadowed() {
    local out
    check_eq "health" "$(curl -s "$API/health/live" | jq -r .status)" alive
    out=$(call GET /api/videos)
    check_eq "videos needs a token" "$(status_of "$out")" 401
    check_eq "unknown api path" "$(code /api/nope)" 404
    check_contains "api 404 is json" "$(curl -s "$API/api/nope")" '"error":"not_found"'
    # the portal's paths answer GET and HEAD only; other methods: no route
    check_eq "POST /nowhere" "$(code /nowhere -X POST)" 404
    check_eq "DELETE /" "$(code / -X DELETE)" 404
    check_eq "DELETE /health keeps its 405" "$(code /health -X DELETE)" 405
    check_eq "api answers are not kept" "$(header Cache-Control "$(headers /health/live)")" no-store
    check_eq "no csp on the api" "$(header Content-Security-Policy "$(headers /health/live)")" ""
}

test_portal_off_and_its_directory() {
    local port out
    port=$(sc_free_port)
    API_PORTAL=0 API_PORT=$port sc_daemon api-off "$IT_DIR" "$IT_DIR/api-off.log" "$BIN_DIR/showcase-api"
    sc_wait_for curl -sf -o /dev/null "http://127.0.0.1:$port/health/live" || it_fail "API_PORTAL=0 did not start"
    check_eq "off: /" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")" 404
    check_eq "off: file" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/app.js")" 404
    check_eq "off: api" "$(curl -s "http://127.0.0.1:$port/health/live" | jq -r .status)" alive
    sc_stop_pidfile "$IT_DIR/api-off.pid" 10
    # an explicit directory without the files is a configuration error
    out=$(API_PORTAL_DIR="$IT_DIR/none" API_PORT=$port timeout 10 "$BIN_DIR/showcase-api" 2>&1)
    check_eq "bad dir exit" "$?" 1
    check_contains "bad dir says why" "$out" "API_PORTAL_DIR: cannot serve the portal from $IT_DIR/none"
    check_contains "api log" "$(cat "$IT_DIR/api.log")" "serving the portal from $BIN_DIR/../api/portal"
}

test_languages_have_the_same_strings() {
    local out
    out=$(cd "$IT_TOP/api/portal" && node --input-type=module -e '
        const en = (await import("./strings-en.js")).default;
        const es = (await import("./strings-es.js")).default;
        const miss = (a, b) => Object.keys(a).filter((k) => !(k in b));
        console.log(JSON.stringify({ es: miss(en, es), en: miss(es, en) }));' 2>&1)
    check_eq "keys missing per language" "$out" '{"es":[],"en":[]}'
    # every key the page and the modules name is in the tables (the
    # minified files are others' software: THIRD_PARTY.txt)
    out=$(cd "$IT_TOP/api/portal" && grep -ohE --exclude='*.min.js' 'data-i18n(-aria)?="[a-z_0-9]+"|\bt\("[a-z_0-9]+"[,)]' index.html ./*.js |
        sed -E 's/.*"([a-z_0-9]+)".*/\1/' | sort -u | while read -r k; do
            grep -q "^  $k:" strings-en.js || echo "$k"
        done)
    check_eq "keys used but not defined" "$out" ""
}

# --- the browser ---------------------------------------------------------

# the 22 s 1080p clip; an 8 s one the page refuses; one whose container says
# 20 s (a 20 s sound track) but whose picture lasts 18 s: the page lets it
# through, the worker (which measures the video track) refuses it
fixtures() {
    ffmpeg -nostdin -v error -f lavfi -i testsrc=s=1920x1080:r=10:d=22 -c:v libx264 \
        -preset ultrafast -b:v 300k -pix_fmt yuv420p "$FX/jump-shot.mp4" &&
        ffmpeg -nostdin -v error -f lavfi -i testsrc=s=1920x1080:r=10:d=8 -c:v libx264 \
            -preset ultrafast -b:v 300k -pix_fmt yuv420p "$FX/short.mp4" &&
        ffmpeg -nostdin -v error -f lavfi -i testsrc=s=1920x1080:r=10:d=18 -f lavfi \
            -i sine=d=20 -c:v libx264 -preset ultrafast -b:v 300k -pix_fmt yuv420p \
            -c:a aac -b:a 32k "$FX/picture-18s.mp4"
}

test_browser_journey() {
    local tok out id draft issuer
    [ -x "$CHROMIUM" ] || { it_fail "no chromium at $CHROMIUM"; return; }
    fixtures || { it_fail "fixtures"; return; }
    it_start_worker_bg worker
    # another player's public video, processed, to vote for
    signup rival@example.com Medellin >/dev/null
    tok=$(token rival@example.com)
    out=$(upload "$tok" "$FX/jump-shot.mp4" "Rival dunk" -F is_public=true)
    id=$(field "$out" .video_id)
    # and one of theirs not published, whose playlists need their token
    out=$(upload "$tok" "$FX/jump-shot.mp4" "Rival draft" -F is_public=false)
    draft=$(field "$out" .video_id)
    it_wait_sql "SELECT count(*) FROM videos WHERE id IN ('$id', '$draft') AND status = 'processed'" 2 180 ||
        { it_fail "the rival's videos were not processed"; return; }
    # the public one as a video processed before HLS: no hls_url, the MP4
    it_psql -c "UPDATE videos SET hls = NULL WHERE id = '$id'" || it_fail "hls cleared"
    check_eq "no hls_url" "$(curl -s "$API/api/public/videos" | jq -r --arg id "$id" '.[] | select(.video_id == $id) | .hls_url')" null
    # another API with passwords off (its issuer need not answer here)
    issuer="http://127.0.0.1:$(sc_free_port)"
    (export API_LOCAL_ACCOUNTS=0 API_OIDC_ISSUER="$issuer" API_OIDC_AUDIENCE=app &&
        it_start_api api_nopw && echo "$IT_API_PORT" >"$IT_DIR/nopw.port")
    # the browser reaches the API through a proxy that drops one connection
    # when the journey asks for it: once 300 KB more have gone through it
    /usr/bin/python3 "$IT_TOP/tests/integration/tools/tcp_proxy.py" "$PROXY_PORT" "$IT_API_PORT" \
        "$IT_DIR/cut.log" --cut-bytes 300000 --armed "$IT_DIR/cut.armed" >"$IT_DIR/cut_proxy.log" 2>&1 &
    echo $! >"$IT_DIR/cut_proxy.pid"
    sc_wait_for curl -s -o /dev/null "http://127.0.0.1:$PROXY_PORT/health/live" || { it_fail "the proxy"; return; }
    PORTAL_URL="http://127.0.0.1:$PROXY_PORT/" S3_ORIGIN="$S3_ENDPOINT" FIXTURES="$FX" ARTIFACTS="$ART" \
        NO_PASSWORDS_URL="http://127.0.0.1:$(cat "$IT_DIR/nopw.port")/" \
        NODE_MODULES="$NODE_MODULES" CHROMIUM="$CHROMIUM" RIVAL_VIDEO="$id" \
        RIVAL_EMAIL=rival@example.com RIVAL_PASSWORD=secret123 RIVAL_DRAFT="$draft" \
        CUT_ARM="$IT_DIR/cut.armed" \
        timeout 240 node "$IT_TOP/tests/integration/tools/portal_e2e.js" >"$IT_DIR/e2e.log" 2>&1 ||
        it_fail "the browser journey failed (screenshots in $ART)"
    sed 's/^/      | /' "$IT_DIR/e2e.log"
    check_eq "two connections were cut" "$(grep -c ' cut$' "$IT_DIR/cut.log")" 2
    sc_stop_pidfile "$IT_DIR/cut_proxy.pid" 10
}

it_main
