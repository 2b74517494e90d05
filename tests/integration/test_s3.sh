#!/usr/bin/env bash
# The S3 client (common/s3*.c, sigv4.c, awscreds.c) through `showcasectl s3`,
# against the SigV4-verifying S3 server: round trips with awkward keys,
# ranges, presigned URLs and their expiry, a wrong secret, a 200 MB
# streamed multipart upload within its memory bound, AbortMultipartUpload
# on failure (seen by a recording proxy), credentials from an IMDSv2
# stand-in that rotates them, and the server killed mid-upload.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

TOOLS="$IT_TOP/tests/integration/tools"
CTL="$BIN_DIR/showcasectl"

sha() { sha256sum "$1" | cut -d' ' -f1; }

# The signer against an independent one: botocore (Debian's python3-botocore).
test_sigv4_equals_botocore_for_300_random_requests() {
    check "botocore cross-check" /usr/bin/python3 "$TOOLS/botocore_check.py" "$BIN_DIR/sigv4_sign" 300 "$RANDOM"
    tail -n 1 "$IT_DIR/check.out" | sed 's/^/    /'
}

it_start_services


# start_proxy NAME UPSTREAM_PORT [ARGS]: a recording proxy; sets PROXY_PORT.
start_proxy() {
    local name=$1 up=$2
    shift 2
    PROXY_PORT=$(sc_free_port)
    /usr/bin/python3 "$TOOLS/s3_proxy.py" "$PROXY_PORT" "$up" "$IT_DIR/$name.requests" "$@" \
        >"$IT_DIR/$name.log" 2>&1 &
    echo $! >"$IT_DIR/$name.pid"
    sc_wait_for curl -s -o /dev/null "http://127.0.0.1:$PROXY_PORT/" || it_fail "proxy $name did not start"
}

test_s3_round_trip_with_awkward_keys() {
    local key f="$IT_DIR/obj" out="$IT_DIR/obj.out"
    head -c 300000 /dev/urandom >"$f"
    for key in "plain.bin" "with space/and+plus=eq~tilde.bin" "unicodé/ビデオ/ñ.mp4" \
        "a//double/./dot/../x" "quote'\"&?#%.bin"; do
        check "put $key" "$CTL" s3 put "$f" "$key"
        check "head $key" "$CTL" s3 head "$key"
        check_eq "head size of $key" "$(jq -r .size "$IT_DIR/check.out")" 300000
        check "get $key" "$CTL" s3 get "$key" "$out"
        check_eq "sha256 of $key" "$(sha "$out")" "$(sha "$f")"
        check "rm $key" "$CTL" s3 rm "$key"
        if "$CTL" s3 head "$key" >"$IT_DIR/head.out" 2>&1; then
            it_fail "$key still there after rm"
        fi
        check_contains "head after rm" "$(cat "$IT_DIR/head.out")" "HTTP 404"
    done
    # a small stream (stdin, not a file) goes as one PUT with a hashed body
    check "put from a pipe" bash -c "cat '$f' | '$CTL' s3 put - piped.bin"
    check "get piped" "$CTL" s3 get piped.bin "$out"
    check_eq "sha256 of the piped object" "$(sha "$out")" "$(sha "$f")"
}

test_s3_ranged_get() {
    local f="$IT_DIR/range"
    head -c 5000 /dev/urandom >"$f"
    check "put" "$CTL" s3 put "$f" range.bin
    check "get 100-199" "$CTL" s3 get range.bin "$IT_DIR/part" --range 100-199
    check_eq "100 bytes" "$(sha "$IT_DIR/part")" "$(tail -c +101 "$f" | head -c 100 | sha256sum | cut -d' ' -f1)"
    check "get 4990-" "$CTL" s3 get range.bin "$IT_DIR/tail" --range 4990-
    check_eq "the last 10 bytes" "$(stat -c %s "$IT_DIR/tail")" 10
}

test_s3_delete_by_prefix() {
    local f="$IT_DIR/p"
    echo data >"$f"
    for k in video1/source.mp4 video1/video.mp4 video1/poster.jpg video10/source.mp4; do
        check "put $k" "$CTL" s3 put "$f" "$k"
    done
    check "rm --prefix video1/" "$CTL" s3 rm --prefix video1/
    check_eq "deleted" "$(cat "$IT_DIR/check.out")" "deleted 3"
    check "video10 stays" "$CTL" s3 head video10/source.mp4
    "$CTL" s3 head video1/video.mp4 >/dev/null 2>&1 && it_fail "video1/video.mp4 still there"
}

test_s3_presigned_get_expires_and_put_works() {
    local f="$IT_DIR/pre" url code
    head -c 1000 /dev/urandom >"$f"
    check "put" "$CTL" s3 put "$f" "presigned/a b.bin"
    url=$("$CTL" s3 presign "presigned/a b.bin" --ttl 2)
    code=$(curl -s -o "$IT_DIR/pre.out" -w '%{http_code}' "$url")
    check_eq "GET before expiry" "$code" 200
    check_eq "the bytes" "$(sha "$IT_DIR/pre.out")" "$(sha "$f")"
    sleep 3
    code=$(curl -s -o "$IT_DIR/pre.err" -w '%{http_code}' "$url")
    check_eq "GET after expiry" "$code" 403
    check_contains "why" "$(cat "$IT_DIR/pre.err")" "Request has expired"
    url=$("$CTL" s3 presign "presigned/up.bin" --method PUT --ttl 60)
    code=$(curl -s -o /dev/null -w '%{http_code}' -T "$f" "$url")
    check_eq "presigned PUT" "$code" 200
    check "get what was PUT" "$CTL" s3 get presigned/up.bin "$IT_DIR/pre.out"
    check_eq "its bytes" "$(sha "$IT_DIR/pre.out")" "$(sha "$f")"
}

test_s3_wrong_secret_is_an_authentication_error() {
    local out rc
    echo x >"$IT_DIR/w"
    out=$(AWS_SECRET_ACCESS_KEY=wrong "$CTL" s3 put "$IT_DIR/w" wrong.bin 2>&1)
    rc=$?
    check_eq "exit status" "$rc" 1
    check_contains "message" "$out" "SignatureDoesNotMatch"
    check_contains "status" "$out" "HTTP 403"
    case $out in *retrying*) it_fail "a refused signature was retried: $out" ;; esac
    out=$(AWS_ACCESS_KEY_ID=NOBODY AWS_SECRET_ACCESS_KEY=x "$CTL" s3 head wrong.bin 2>&1)
    check_contains "unknown key id" "$out" "credentials or signature were refused"
}

test_s3_bad_input_is_refused_clearly() {
    local out rc
    out=$("$CTL" s3 put /nonexistent/file k 2>&1)
    rc=$?
    check_eq "missing file exits 1" "$rc" 1
    check_contains "missing file" "$out" "cannot open /nonexistent/file"
    echo x >"$IT_DIR/b"
    out=$("$CTL" s3 put "$IT_DIR/b" "$(head -c 1025 /dev/zero | tr '\0' k)" 2>&1)
    check_contains "key too long" "$out" "1 to 1024 bytes"
    out=$("$CTL" s3 get range.bin - --range 9-1 2>&1)
    check_contains "bad range" "$out" "bad byte range"
    "$CTL" s3 frobnicate >/dev/null 2>&1
    check_eq "unknown subcommand exits 2" "$?" 2
    out=$(AWS_SECRET_ACCESS_KEY='' "$CTL" s3 head x 2>&1)
    rc=$?
    check_eq "key id without secret exits 2" "$rc" 2
    check_contains "config message" "$out" "set both"
}

# 200 MB from a pipe (length unknown): multipart, 8 MiB parts, 4 in flight.
# Peak RSS must stay within a small upload's RSS + 4 x 8 MiB + 16 MiB.
test_s3_multipart_200mb_within_memory_bound() {
    local f="$IT_DIR/big" base peak bound
    head -c 200000000 /dev/urandom >"$f"
    echo x | /usr/bin/time -f %M -o "$IT_DIR/base.rss" "$CTL" s3 put - tiny.bin >/dev/null
    # shellcheck disable=SC2002  # a pipe on purpose: its length is unknown
    cat "$f" | S3_PART_SIZE_MB=8 S3_PARTS_IN_FLIGHT=4 \
        /usr/bin/time -f %M -o "$IT_DIR/big.rss" "$CTL" s3 put - big.bin >"$IT_DIR/big.out" 2>&1 \
        || { it_fail "multipart upload failed: $(cat "$IT_DIR/big.out")"; return; }
    base=$(tail -n1 "$IT_DIR/base.rss")
    peak=$(tail -n1 "$IT_DIR/big.rss")
    bound=$((base + 4 * 8 * 1024 + 16 * 1024))
    # AddressSanitizer shadows each byte of the part buffers with 1/8 byte
    if ldd "$CTL" | grep -q libasan; then
        bound=$((bound + 4 * 8 * 1024 / 8 + 8 * 1024))
    fi
    echo "    peak RSS ${peak} KiB (small upload ${base} KiB, bound ${bound} KiB)"
    [ "$peak" -le "$bound" ] || it_fail "peak RSS $peak KiB above $bound KiB"
    check "get" "$CTL" s3 get big.bin "$IT_DIR/big.back"
    check_eq "sha256 of 200 MB" "$(sha "$IT_DIR/big.back")" "$(sha "$f")"
    rm -f "$IT_DIR/big.back"
}

test_s3_failed_multipart_upload_is_aborted() {
    local out rc
    start_proxy abortproxy "$IT_S3_PORT" --fail-part 3
    out=$(head -c 20000000 /dev/urandom | S3_ENDPOINT="http://127.0.0.1:$PROXY_PORT" \
        S3_PART_SIZE_MB=5 S3_PARTS_IN_FLIGHT=1 "$CTL" s3 put - failing.bin 2>&1)
    rc=$?
    check_eq "exit status" "$rc" 1
    check_contains "S3's error" "$out" "InvalidRequest: injected failure"
    check_contains "part named" "$out" "part 3"
    check_contains "abort sent" "$(cat "$IT_DIR/abortproxy.requests")" "DELETE /showcase/failing.bin?uploadId="
    # the local server does not implement abort: a warning, not a crash
    check_contains "refusal logged" "$out" "cannot abort multipart upload"
    "$CTL" s3 head failing.bin >/dev/null 2>&1 && it_fail "failing.bin exists"
    sc_stop_pidfile "$IT_DIR/abortproxy.pid"
}

# Role credentials from a local IMDSv2 stand-in, 6 s lifetime, rotating
# between three key pairs the S3 server knows; a slow upload spans several.
test_s3_instance_role_credentials_rotate_before_expiry() {
    local imds_port s3_port keys out rc n akids
    keys="ROLEKEY1:rolesecret1,ROLEKEY2:rolesecret2,ROLEKEY3:rolesecret3"
    s3_port=$(sc_free_port)
    S3_LOCAL_EXTRA_KEYS=$keys sc_s3_start "$IT_DIR/s3role" "$s3_port" showcase
    imds_port=$(sc_free_port)
    /usr/bin/python3 "$TOOLS/imds_stub.py" "$imds_port" 6 "$keys" "$IT_DIR/imds.issued" \
        >"$IT_DIR/imds.log" 2>&1 &
    echo $! >"$IT_DIR/imds.pid"
    sc_wait_for curl -s -o /dev/null -X PUT "http://127.0.0.1:$imds_port/" || it_fail "IMDS stand-in did not start"
    start_proxy roleproxy "$s3_port"
    out=$(for _ in 1 2 3 4 5 6 7 8; do head -c 5242880 /dev/urandom; sleep 1.5; done \
        | tee "$IT_DIR/role.src" \
        | env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
            AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$imds_port" \
            S3_ENDPOINT="http://127.0.0.1:$PROXY_PORT" S3_PART_SIZE_MB=5 S3_PARTS_IN_FLIGHT=1 \
            "$CTL" s3 put - role.bin 2>&1)
    rc=$?
    check_eq "upload with role credentials" "$rc" 0
    [ "$rc" = 0 ] || echo "$out" | head -n 20
    env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
        AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$imds_port" \
        S3_ENDPOINT="http://127.0.0.1:$s3_port" "$CTL" s3 get role.bin "$IT_DIR/role.back" \
        || it_fail "get with role credentials failed"
    check_eq "sha256" "$(sha "$IT_DIR/role.back")" "$(sha "$IT_DIR/role.src")"
    n=$(wc -l <"$IT_DIR/imds.issued")
    akids=$(awk '$2 == "PUT" {print $5}' "$IT_DIR/roleproxy.requests" | sort -u | tr '\n' ' ')
    echo "    IMDS issued $n credential sets; PUTs signed with: $akids"
    [ "$n" -ge 3 ] || it_fail "only $n credential sets fetched over a ~12 s upload"
    [ "$(wc -w <<<"$akids")" -ge 2 ] || it_fail "the upload never used rotated keys: $akids"
    # no request was signed with keys past their expiration
    out=$(/usr/bin/python3 - "$IT_DIR/imds.issued" "$IT_DIR/roleproxy.requests" <<'PY'
import sys
issued = [l.split() for l in open(sys.argv[1])]
for line in open(sys.argv[2]):
    t, method, path, status, akid = line.split()
    if akid == "-":
        continue  # the harness's unsigned readiness probe
    got = [float(e) for (i, a, e) in issued if a == akid and float(i) <= float(t)]
    if not got or float(t) >= got[-1]:
        print("%s %s at %s signed with %s, expired or never issued" % (method, path, t, akid))
PY
)
    [ -z "$out" ] || it_fail "$out"
    sc_stop_pidfile "$IT_DIR/roleproxy.pid"
    sc_stop_pidfile "$IT_DIR/imds.pid"
    sc_s3_stop "$IT_DIR/s3role"
}

# The server is SIGKILLed after the first parts: bounded retries, a clean error.
test_s3_server_killed_mid_upload() {
    local s3_port out t0 t1
    s3_port=$(sc_free_port)
    # in a subshell, so that its SIGKILL is not reported by this shell
    (sc_s3_start "$IT_DIR/s3kill" "$s3_port" showcase)
    t0=$(date +%s)
    out=$( { head -c 11000000 /dev/urandom; sleep 2; head -c 20000000 /dev/urandom; } 2>/dev/null \
        | S3_ENDPOINT="http://127.0.0.1:$s3_port" S3_PART_SIZE_MB=5 S3_PARTS_IN_FLIGHT=2 \
            "$CTL" s3 put - killed.bin 2>&1 &
        sleep 1
        kill -KILL "$(cat "$IT_DIR/s3kill/s3.pid")"
        wait $!
        echo "put exit status $?")
    t1=$(date +%s)
    check_contains "clean failure" "$out" "put exit status 1"
    check_contains "gave up" "$out" "gave up after 4 attempts"
    check_contains "connection refused" "$out" "cannot reach"
    case $out in *"retrying in"*) ;; *) it_fail "no retries logged: $out" ;; esac
    check_contains "abort attempted" "$out" "cannot abort multipart upload"
    [ $((t1 - t0)) -le 30 ] || it_fail "took $((t1 - t0)) s to give up"
    rm -f "$IT_DIR/s3kill/s3.pid"
}

it_main
