#!/usr/bin/env bash
# The cost of the HLS ladder, in one run, on one generated input: 30 s of
# 1080p30 H.264 at about 10 Mb/s (testsrc2 with film-grain-like noise).
#
#   (a) mp4      showcase-transcode with HLS_LADDER=off: the MP4 alone
#   (b) ladder   showcase-transcode --hls: the same MP4, and the 720p
#                rendition from its packets plus 640x360 at 800 kb/s
#                (the default ladder), 4 s segments
#   (c) ffmpeg   one ffmpeg command making the same MP4 and the same
#                ladder: the transforms once, split, an MP4 output and an
#                hls output with -var_stream_map (fMP4, single_file,
#                keyframes forced every 4 s); ffmpeg encodes the 720p
#                picture once per output
#
# All at the pipeline's defaults (x264 ultrafast CRF 23), no cards.
# ROUNDS paired rounds (3 by default), medians of wall seconds and CPU
# seconds (user + sys, GNU time, children included).
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-3}
in="$dir/ref30.mp4"
logo="$top/worker/assets/logo.png"
ff() { ffmpeg -nostdin -v error -y "$@"; }

echo "# generating the reference input" >&2
ff -f lavfi -i "testsrc2=s=1920x1080:r=30:d=30,noise=alls=4:allf=t" -c:v libx264 \
    -preset veryfast -b:v 10M -maxrate 10M -bufsize 20M -pix_fmt yuv420p "$in"

# the transforms as in bench_transcode.sh, then the ladder's scale
graph="[0:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1[v];\
[1:v]scale=-2:86,format=rgba,colorchannelmixer=aa=0.8[l];[v][l]overlay=W-w-24:H-h-24:format=auto,split=3[m][h][s];\
[s]scale=640:360[low]"

ours() {
    "$bin/showcase-transcode" --set TRANSCODE_CARD_MS=0 "$@" "$in" "$dir/ours.mp4" 2>/dev/null
}
variant_a() { ours --set HLS_LADDER=off; }
variant_b() { rm -rf "$dir/b" && mkdir "$dir/b" && ours --hls "$dir/b"; }
variant_c() {
    rm -rf "$dir/c" && mkdir "$dir/c"
    ff -i "$in" -i "$logo" -an -filter_complex "$graph" \
        -map '[m]' -c:v libx264 -preset ultrafast -crf 23 -pix_fmt yuv420p \
        -movflags +faststart "$dir/c/video.mp4" \
        -map '[h]' -map '[low]' -c:v libx264 -preset ultrafast -pix_fmt yuv420p \
        -crf:v:0 23 -b:v:1 800k -maxrate:v:1 880k -bufsize:v:1 1600k \
        -force_key_frames 'expr:gte(t,n_forced*4)' \
        -f hls -hls_time 4 -hls_segment_type fmp4 -hls_flags single_file \
        -hls_playlist_type vod -master_pl_name master.m3u8 \
        -var_stream_map 'v:0,name:720p v:1,name:360p' "$dir/c/%v.m3u8"
}
export in dir bin
export -f ff ours variant_a variant_b variant_c
export graph logo

# timed NAME FN: append "wall cpu" to $dir/NAME.t
timed() {
    /usr/bin/time -f '%e %U %S' -o "$dir/t" bash -c "$2"
    awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$dir/t" >>"$dir/$1.t"
}

for ((i = 1; i <= rounds; i++)); do
    echo "# round $i of $rounds" >&2
    for v in a b c; do
        timed "$v" "variant_$v"
    done
done

col() { awk -v c="$2" '{ print $c }' "$dir/$1.t" | median; }
size() { du -cb "$@" | awk 'END { printf "%.2f", $1 / 1e6 }'; }

echo "reference: 30 s 1080p30 H.264 10 Mb/s; outputs 1280x720 MP4 + HLS 720p and 640x360@800k, 4 s segments; x264 ultrafast CRF 23; $rounds paired rounds, medians; $(nproc) cores"
printf '%-44s %8s %8s %10s\n' variant "wall s" "CPU s" "HLS MB"
printf '%-44s %8s %8s %10s\n' "(a) showcase-transcode, MP4 only" "$(col a 1)" "$(col a 2)" -
printf '%-44s %8s %8s %10s\n' "(b) showcase-transcode, MP4 + ladder" "$(col b 1)" "$(col b 2)" \
    "$(size "$dir"/b/*.m4s)"
printf '%-44s %8s %8s %10s\n' "(c) ffmpeg, one command, -var_stream_map" "$(col c 1)" "$(col c 2)" \
    "$(size "$dir"/c/*.m4s)"
awk -v aw="$(col a 1)" -v ac="$(col a 2)" -v bw="$(col b 1)" -v bc="$(col b 2)" \
    -v cw="$(col c 1)" -v cc="$(col c 2)" 'BEGIN {
    printf "(b) against (a): CPU %.2fx, wall %.2fx (target: CPU at most 1.35x)\n", bc / ac, bw / aw
    printf "(b) against (c): CPU %.2fx, wall %.2fx (target: CPU at most 0.8x)\n", bc / cc, bw / cw
    printf "the ladder alone, (b) - (a): %.2f CPU s\n", bc - ac
}'
