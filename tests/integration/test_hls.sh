#!/usr/bin/env bash
# HLS from the same pass as the MP4: a processed video's hls_url answers a
# master playlist with two renditions whose media playlists point at
# presigned S3 URLs; each rendition decodes whole, every segment starts
# with a keyframe at the same times in both; the bucket stays private; a
# player cannot read another's unpublished playlist; deletion removes the
# HLS objects.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

it_start_services
"$BIN_DIR/showcasectl" migrate up >/dev/null || it_fail "migrations"
export POLICY_MIN_SECONDS=0 POLICY_MIN_SHORT_SIDE=0 TRANSCODE_CARD_MS=0
export WORKER_METRICS_PORT=0 WORKER_TMP_DIR="$IT_DIR/jobs" WORKER_CONCURRENCY=1
export HLS_LADDER=320x180@300 HLS_SEGMENT_S=2
if grep -q __asan_init "$BIN_DIR/showcase-transcode"; then export WORKER_MEMORY_MB=0; fi
export API_RATE_LIMITS=0 API_ARGON2_OPS=1 API_ARGON2_MEM_KB=8192
mkdir -p "$WORKER_TMP_DIR"
it_start_api api
API="http://127.0.0.1:$IT_API_PORT"
# shellcheck source=tests/integration/api_client.sh
. "$(dirname "$0")/api_client.sh"
it_start_worker_bg worker
FX="$IT_DIR/fx"
mkdir -p "$FX"
# 7 s at 15 fps: segments at 0, 2, 4, 6 s
ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=640x360:r=15:d=7 -c:v libx264 \
    -preset ultrafast -pix_fmt yuv420p "$FX/clip.mp4" || it_fail "fixture"

signup owner@example.com >/dev/null
signup other@example.com >/dev/null
OWNER=$(token owner@example.com)
OTHER=$(token other@example.com)

# processed ID: wait until the video's row says processed
processed() {
    it_wait_sql "SELECT status FROM videos WHERE id = '$1'" processed 90
}

# keyframe_times FILE: the presentation times of its keyframes, one a line
keyframe_times() {
    ffprobe -v error -select_streams v:0 -show_entries packet=pts_time,flags \
        -of csv=p=0 "$1" | awk -F, '$2 ~ /K/ { printf "%.3f\n", $1 }'
}

# segment_times PLAYLIST: the start time of each segment (sums of EXTINF)
segment_times() {
    awk -F'[:,]' '/^#EXTINF:/ { printf "%.3f\n", t; t += $2 }' "$1"
}

PUB=$(field "$(upload "$OWNER" "$FX/clip.mp4" "Public drill" -F is_public=true)" .video_id)
PRIV=$(field "$(upload "$OWNER" "$FX/clip.mp4" "Private drill")" .video_id)
processed "$PUB" || it_fail "the public video was not processed"
processed "$PRIV" || it_fail "the private video was not processed"

test_hls_url_lists_two_variants_that_decode_whole() {
    local out url master mp4 n=0 name dur want
    out=$(call GET "/api/videos/$PUB" -H "Authorization: Bearer $OWNER")
    url=$(field "$out" .hls_url)
    check_eq "hls_url" "$url" "/api/videos/$PUB/hls/master.m3u8"
    check_contains "hls_url in the public list" \
        "$(body_of "$(call GET /api/public/videos)")" "\"hls_url\":\"$url\""
    master=$(curl -sf "$API$url")
    check_contains "master: 720p" "$master" "RESOLUTION=1280x720"
    check_contains "master: 180p" "$master" "RESOLUTION=320x180"
    check_contains "master: codecs" "$master" 'CODECS="avc1.'
    # ffprobe reads the master over HTTP: one program per variant
    n=$(ffprobe -v error -show_entries program=program_id -of csv=p=0 "$API$url" | grep -c .)
    [ "$n" -ge 2 ] || it_fail "ffprobe lists $n variants, want 2 or more"
    mp4=$(field "$out" .processed_url)
    curl -sf -o "$IT_DIR/video.mp4" "$mp4" || it_fail "the MP4"
    want=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$IT_DIR/video.mp4")
    for name in 720p 180p; do
        # every frame decoded through the API's playlist and S3's Range
        dur=$(ffmpeg -nostdin -v error -i "$API/api/videos/$PUB/hls/$name.m3u8" \
            -f null - -progress pipe:1 | awk -F= '/^out_time_us=/ { t = $2 } END { print t / 1e6 }')
        # ffmpeg reports the last frame's start: its end within a frame
        awk -v d="$dur" -v w="$want" 'BEGIN { e = d + 1/15; exit !(e >= w - 1/15 - 1e-3 && e <= w + 1/15 + 1e-3) }' ||
            it_fail "$name decodes $dur s (+ a frame), the MP4 is $want s"
    done
}

test_segments_start_on_keyframes_aligned_across_renditions() {
    local name media file k s
    for name in 720p 180p; do
        media="$IT_DIR/$name.m3u8"
        curl -sf -o "$media" "$API/api/videos/$PUB/hls/$name.m3u8" || it_fail "$name playlist"
        file=$(grep -m1 -v '^#' "$media")
        curl -sf -o "$IT_DIR/$name.m4s" "$file" || it_fail "$name file from its presigned URL"
        k=$(keyframe_times "$IT_DIR/$name.m4s")
        s=$(segment_times "$media")
        check_eq "$name: segments start at" "$(tr '\n' ' ' <<<"$s")" "0.000 2.000 4.000 6.000 "
        # each segment's first frame is a keyframe
        check_eq "$name: keyframes at the segment starts" \
            "$(comm -23 <(echo "$s") <(echo "$k") | tr '\n' ' ')" ""
        check_eq "$name: byte ranges" "$(grep -c '^#EXT-X-BYTERANGE:' "$media")" 4
    done
    check_eq "the same boundaries" "$(segment_times "$IT_DIR/720p.m3u8")" \
        "$(segment_times "$IT_DIR/180p.m3u8")"
}

test_the_bucket_stays_private() {
    local file bare code
    file=$(grep -m1 -v '^#' <(curl -sf "$API/api/videos/$PUB/hls/180p.m3u8"))
    check_contains "a presigned URL" "$file" "X-Amz-Signature="
    code=$(curl -s -o /dev/null -w '%{http_code}' -r 0-99 "$file")
    check_eq "the signed URL with a range" "$code" 206
    bare=${file%%\?*}
    code=$(curl -s -o /dev/null -w '%{http_code}' "$bare")
    check_eq "the same URL without its signature" "$code" 403
}

test_unpublished_playlists_are_the_owners_only() {
    local u="/api/videos/$PRIV/hls/master.m3u8" media
    check_eq "anonymous" "$(status_of "$(call GET "$u")")" 404
    check_eq "another player" "$(status_of "$(call GET "$u" -H "Authorization: Bearer $OTHER")")" 404
    check_eq "another player, media" "$(status_of "$(call GET "/api/videos/$PRIV/hls/720p.m3u8" \
        -H "Authorization: Bearer $OTHER")")" 404
    check_eq "the owner" "$(status_of "$(call GET "$u" -H "Authorization: Bearer $OWNER")")" 200
    media=$(call GET "/api/videos/$PRIV/hls/180p.m3u8" -H "Authorization: Bearer $OWNER")
    check_eq "the owner, media" "$(status_of "$media")" 200
    check_contains "the owner's media playlist is signed" "$media" "X-Amz-Signature="
    check_eq "no such rendition" "$(status_of "$(call GET "/api/videos/$PRIV/hls/999p.m3u8" \
        -H "Authorization: Bearer $OWNER")")" 404
    check_eq "not a playlist" "$(status_of "$(call GET "/api/videos/$PRIV/hls/720p.m4s" \
        -H "Authorization: Bearer $OWNER")")" 404
}

test_a_failed_transcode_leaves_no_hls_files() {
    local out="$IT_DIR/failed" rc
    mkdir -p "$out"
    # the index first, the frames cut after about a third: refused as
    # corrupt once they run out, with the renditions' muxers open
    ffmpeg -nostdin -v error -i "$FX/clip.mp4" -c copy -movflags +faststart "$FX/fast.mp4"
    head -c $(($(stat -c %s "$FX/fast.mp4") / 3)) "$FX/fast.mp4" >"$FX/cut.mp4"
    "$BIN_DIR/showcase-transcode" --hls "$out" "$FX/cut.mp4" "$out/video.mp4" \
        2>"$IT_DIR/failed-transcode.log"
    rc=$?
    check_eq "exit status: corrupt" "$rc" 12
    check_eq "files left" "$(ls -A "$out")" ""
}

# s3_keys PREFIX: the keys under PREFIX in the bucket, one a line
s3_keys() {
    /usr/bin/python3 - "$1" <<'PY'
import os, sys, urllib.parse, urllib.request, xml.etree.ElementTree as ET
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url = "%s/%s?list-type=2&prefix=%s" % (os.environ["S3_ENDPOINT"], os.environ["S3_BUCKET"],
                                      urllib.parse.quote(sys.argv[1], safe=""))
req = AWSRequest(method="GET", url=url)
S3SigV4Auth(Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]),
            "s3", os.environ["S3_REGION"]).add_auth(req)
body = urllib.request.urlopen(urllib.request.Request(url, headers=dict(req.headers))).read()
for k in ET.fromstring(body).iter():
    if k.tag.endswith("}Key"):
        print(k.text)
PY
}

test_a_deleted_videos_hls_objects_are_gone() {
    local before after
    before=$(s3_keys "processed/$PRIV/hls/" | tr '\n' ' ')
    check_eq "HLS objects before" "$before" \
        "processed/$PRIV/hls/1/180p.m3u8 processed/$PRIV/hls/1/180p.m4s processed/$PRIV/hls/1/720p.m3u8 processed/$PRIV/hls/1/720p.m4s processed/$PRIV/hls/1/master.m3u8 "
    check_eq "delete" "$(status_of "$(call DELETE "/api/videos/$PRIV" -H "Authorization: Bearer $OWNER")")" 200
    after=$(s3_keys "processed/$PRIV/" | tr '\n' ' ')
    check_eq "objects after" "$after" ""
    check_eq "its playlist" "$(status_of "$(call GET "/api/videos/$PRIV/hls/master.m3u8" \
        -H "Authorization: Bearer $OWNER")")" 404
}

it_main
