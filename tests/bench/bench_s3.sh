#!/usr/bin/env bash
# Upload throughput of `showcasectl s3 put` against `curl -T`, in one run,
# to the same local SigV4-verifying S3 server, with the same 200 MB file:
#   curl -T FILE PRESIGNED_PUT_URL     the baseline: one streamed PUT
#   showcasectl s3 put FILE KEY        a file of known size: one streamed PUT
#   cat FILE | showcasectl s3 put - K  a pipe (size unknown): multipart,
#                                      S3_PART_SIZE_MB x S3_PARTS_IN_FLIGHT
# ROUNDS paired rounds (curl, file, pipe in turn); medians of MB/s and of
# peak RSS (GNU time's %M).  The presigned URL for curl is made by
# showcasectl, so curl signs nothing and does no extra work.
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-5}
mb=${SIZE_MB:-200}

port=$(sc_free_port)
sc_s3_start "$dir/s3" "$port" bench
export S3_ENDPOINT="http://127.0.0.1:$port" S3_BUCKET=bench S3_FORCE_PATH_STYLE=1
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
head -c $((mb * 1000000)) /dev/urandom >"$dir/src"

# timed NAME CMD...: append "seconds peak_kib" to $dir/NAME
timed() {
    local name=$1
    shift
    /usr/bin/time -f '%e %M' -o "$dir/t" "$@" >/dev/null
    cat "$dir/t" >>"$dir/$name"
}

for ((i = 1; i <= rounds; i++)); do
    url=$("$bin/showcasectl" s3 presign curl.bin --method PUT --ttl 600)
    timed curl curl -sf -T "$dir/src" "$url" -o /dev/null
    timed file "$bin/showcasectl" s3 put "$dir/src" file.bin
    timed pipe bash -c "cat '$dir/src' | '$bin/showcasectl' s3 put - pipe.bin"
done

mbps() { awk -v mb="$mb" '{ printf "%.1f\n", mb / $1 }' "$dir/$1" | median; }
peak() { awk '{ printf "%.1f\n", $2 / 1024 }' "$dir/$1" | median; }

echo "$mb MB file, $rounds paired rounds, medians; part size ${S3_PART_SIZE_MB:-8} MiB x ${S3_PARTS_IN_FLIGHT:-4} in flight; $(nproc) cores"
printf '%-44s %8s %14s\n' "upload" "MB/s" "peak RSS MiB"
printf '%-44s %8s %14s\n' "curl -T (presigned PUT)" "$(mbps curl)" "$(peak curl)"
printf '%-44s %8s %14s\n' "showcasectl s3 put FILE (one PUT)" "$(mbps file)" "$(peak file)"
printf '%-44s %8s %14s\n' "cat FILE | showcasectl s3 put - (multipart)" "$(mbps pipe)" "$(peak pipe)"
echo "peak RSS: GNU time %M, the largest process of the command (showcasectl, not cat)"
awk -v a="$(mbps file)" -v b="$(mbps curl)" -v c="$(mbps pipe)" \
    'BEGIN { printf "showcasectl FILE / curl -T: %.2f; multipart pipe / curl -T: %.2f\n", a / b, c / b }'
