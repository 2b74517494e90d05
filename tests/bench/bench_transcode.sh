#!/usr/bin/env bash
# The pipeline (showcase-transcode) against ffmpeg doing the same job, in
# one run, on one generated reference input: 60 s of 1080p30 H.264 at
# about 10 Mb/s with AAC audio (testsrc2 with film-grain-like noise, so
# the decoder and encoder have real work).
#
#   (a) ffmpeg    one ffmpeg command: -t 30, -an, scale+pad+overlay of the
#                 logo, libx264 at the same preset and CRF
#   (b) anb       the original ANB implementation: three ffmpeg runs (trim
#                 with -c copy, strip audio with -c copy, then
#                 scale+pad+overlay with libx264 ultrafast CRF 28)
#   (c) floor     decoding the first 30 s alone, plus encoding 30 s of raw
#                 1280x720 alone (prepared beforehand) at the same settings
#   ours          showcase-transcode without cards (the same frames as (a))
#   defaults      showcase-transcode as shipped: its default preset and
#                 CRF, with the cards; to be set against (b)
#
# ROUNDS paired rounds (every variant in turn), medians of wall seconds,
# CPU seconds (user + sys) and peak RSS (GNU time).  SSIM is measured once
# per variant against a lossless rendering of the same transforms (the
# cards skipped).  Then a table of preset and CRF for the pipeline alone.
# PRESET/CRF choose the settings compared (default: the pipeline's own).
# Before that table, the steps for rarer sources (deinterlacing, HDR) on
# clips of their own (STEPS=0 skips them, STEP_ROUNDS rounds, 3 by
# default; MAIN=0 runs them without the comparison).
set -euo pipefail

# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-5}
preset=${PRESET:-veryfast}
crf=${CRF:-23}
grid_presets=${GRID_PRESETS:-ultrafast superfast veryfast}
grid_crfs=${GRID_CRFS:-20 23 26 28}

in="$dir/ref60.mp4"
logo="$top/worker/assets/logo.png"
ff() { ffmpeg -nostdin -v error -y "$@"; }

echo "# generating the reference input" >&2
ff -f lavfi -i "testsrc2=s=1920x1080:r=30:d=60,noise=alls=4:allf=t" \
    -f lavfi -i "sine=f=440:d=60" -c:v libx264 -preset veryfast -b:v 10M \
    -maxrate 10M -bufsize 20M -pix_fmt yuv420p -c:a aac -b:a 128k "$in"

# The transforms, as ffmpeg filters: fit and pad to 1280x720, the logo
# 12% of 720 = 86 px high at 80% opacity, 24 px from the bottom-right.
graph="[0:v]scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:(ow-iw)/2:(oh-ih)/2,setsar=1[v];\
[1:v]scale=-2:86,format=rgba,colorchannelmixer=aa=0.8[l];[v][l]overlay=W-w-24:H-h-24:format=auto"

variant_a() {
    ff -i "$in" -i "$logo" -t 30 -an -filter_complex "$graph" -c:v libx264 \
        -preset "$preset" -crf "$crf" -pix_fmt yuv420p -movflags +faststart "$dir/a.mp4"
}
variant_b() {
    ff -i "$in" -t 30 -c copy "$dir/b1.mp4"
    ff -i "$dir/b1.mp4" -an -c copy "$dir/b2.mp4"
    ff -i "$dir/b2.mp4" -i "$logo" -filter_complex "$graph" -c:v libx264 \
        -preset ultrafast -crf 28 -pix_fmt yuv420p "$dir/b.mp4"
}
variant_c() {
    ff -i "$in" -t 30 -an -f null -
    ff -f rawvideo -pix_fmt yuv420p -s 1280x720 -r 30 -i "$dir/raw.yuv" \
        -c:v libx264 -preset "$preset" -crf "$crf" "$dir/c.mp4"
}
# ours P C CARD_MS OUT [OPTIONS]
ours() {
    "$bin/showcase-transcode" --set POLICY_MAX_SECONDS=61 --set TRANSCODE_PRESET="$1" \
        --set TRANSCODE_CRF="$2" --set TRANSCODE_CARD_MS="$3" "${@:5}" "$in" "$4" 2>/dev/null
}
variant_ours() { ours "$preset" "$crf" 0 "$dir/ours.mp4" --report "$dir/ours.json"; }
variant_defaults() {
    "$bin/showcase-transcode" --set POLICY_MAX_SECONDS=61 "$in" "$dir/defaults.mp4" 2>/dev/null
}

# MAIN=0 skips the comparison (only the reference clip's own report is
# made, for the steps below)
if [ "${MAIN:-1}" != 1 ]; then
    ours "$preset" "$crf" 0 "$dir/ours.mp4" --report "$dir/ours.json"
else
echo "# preparing the floor's raw input and the lossless reference" >&2
ff -i "$in" -t 30 -an -vf "scale=1280:720" -f rawvideo -pix_fmt yuv420p "$dir/raw.yuv"
ff -i "$in" -i "$logo" -t 30 -an -filter_complex "$graph" -c:v libx264 -qp 0 \
    -preset ultrafast -pix_fmt yuv420p "$dir/ref.mkv"

# the variants run in a child bash under GNU time (it counts children)
export in logo graph preset crf dir bin
export -f ff variant_a variant_b variant_c ours variant_ours variant_defaults

# timed NAME FN: append "wall cpu peak_kib" to $dir/NAME.t
timed() {
    /usr/bin/time -f '%e %U %S %M' -o "$dir/t" bash -c "$2"
    awk '{ printf "%s %.2f %s\n", $1, $2 + $3, $4 }' "$dir/t" >>"$dir/$1.t"
}

for ((i = 1; i <= rounds; i++)); do
    echo "# round $i of $rounds" >&2
    for v in a b c ours defaults; do
        timed "$v" "variant_$v"
    done
done

col() { awk -v c="$2" '{ print $c }' "$dir/$1.t" | median; }

# ssim FILE SKIP_FRAMES: SSIM (all planes) against the lossless reference
ssim() {
    ffmpeg -nostdin -i "$1" -i "$dir/ref.mkv" -lavfi \
        "[0:v]trim=start_frame=$2,setpts=PTS-STARTPTS[x];[1:v]setpts=PTS-STARTPTS[y];[x][y]ssim=shortest=1" \
        -f null - 2>&1 | grep -o 'All:[0-9.]*' | cut -d: -f2
}

echo "reference: 60 s 1080p30 H.264 $(ffprobe -v error -show_entries format=bit_rate -of csv=p=0 "$in" | awk '{ printf "%.1f Mb/s", $1 / 1e6 }') + AAC; output 30 s 1280x720; x264 $preset CRF $crf unless named; $rounds paired rounds, medians; $(nproc) cores"
printf '%-40s %8s %8s %9s %8s %9s\n' variant "wall s" "CPU s" "RSS MiB" SSIM "size MB"
row() {
    local name=$1 v=$2 file=$3 skip=$4 s=-
    [ -n "$file" ] && s=$(ssim "$file" "$skip")
    printf '%-40s %8s %8s %9.1f %8s %9s\n' "$name" "$(col "$v" 1)" "$(col "$v" 2)" \
        "$(awk -v k="$(col "$v" 3)" 'BEGIN { print k / 1024 }')" "$s" \
        "$([ -n "$file" ] && awk -v b="$(stat -c %s "$file")" 'BEGIN { printf "%.2f", b / 1e6 }' || echo -)"
}
row "(a) ffmpeg, one command" a "$dir/a.mp4" 0
row "(b) ANB: 3 runs, ultrafast CRF 28" b "$dir/b.mp4" 0
row "(c) floor: decode + encode alone" c "" 0
row "showcase-transcode, no cards" ours "$dir/ours.mp4" 0
# default_of NAME: a setting's default, from the configuration table
default_of() { "$bin/showcasectl" config | awk -F'|' -v n="\`$1\`" '$2 ~ n { gsub(/[ `]/, "", $3); print $3 }'; }
row "defaults: $(default_of TRANSCODE_PRESET) CRF $(default_of TRANSCODE_CRF), with cards" defaults "$dir/defaults.mp4" 75
awk -v ow="$(col ours 1)" -v oc="$(col ours 2)" -v aw="$(col a 1)" -v ac="$(col a 2)" \
    -v cc="$(col c 2)" -v bc="$(col b 2)" -v dc="$(col defaults 2)" 'BEGIN {
    printf "at %s CRF %s: wall %.2fx of (a), CPU %.2fx of (a), CPU %.2fx of the floor (c)\n", \
        ENVIRON["preset"], ENVIRON["crf"], ow / aw, oc / ac, oc / cc
    printf "defaults, cards included: CPU %.2fx of (b)\n", dc / bc
}'
echo "peak RSS of (b) and (c): the largest of their ffmpeg runs"
fi

# The steps for rarer sources, on 10 s clips of the same kind of picture
# (testsrc2 with noise, 1080p): interlaced 1080i25 H.264, HLG and PQ
# 10-bit HEVC, and the same HEVC in SDR for comparison; each run without
# cards at the pipeline's defaults.  Their cost is the CPU time of the
# thread they run on (the report's steps_cpu_ms: deinterlace and tonemap
# run on the calling thread alone), set against the job's CPU; the
# reference clip's report shows them at 0.
if [ "${STEPS:-1}" = 1 ]; then
    echo
    echo "# generating the interlaced and HDR clips" >&2
    noisy="testsrc2=s=1920x1080:r=30:d=10,noise=alls=4:allf=t"
    ff -f lavfi -i "testsrc2=s=1920x1080:r=50:d=10,noise=alls=4:allf=t" \
        -vf tinterlace=mode=interleave_top,setfield=tff -c:v libx264 -preset veryfast \
        -flags +ilme+ildct -x264-params tff=1 -b:v 10M "$dir/i25.mp4"
    for t in hlg:arib-std-b67 pq:smpte2084; do
        ff -f lavfi -i "$noisy" -vf "zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=${t#*:}:npl=100:m=bt2020nc:p=bt2020:r=tv,format=yuv420p10le" \
            -c:v libx265 -preset ultrafast -x265-params "log-level=error:bitrate=10000:colorprim=bt2020:transfer=${t#*:}:colormatrix=bt2020nc" \
            -tag:v hvc1 "$dir/${t%%:*}.mp4"
    done
    ff -f lavfi -i "$noisy" -vf format=yuv420p10le -c:v libx265 -preset ultrafast \
        -x265-params log-level=error:bitrate=10000 -tag:v hvc1 "$dir/sdr10.mp4"
    step_rounds=${STEP_ROUNDS:-3}
    for ((i = 1; i <= step_rounds; i++)); do
        for c in i25 hlg pq sdr10; do
            /usr/bin/time -f '%U %S' -o "$dir/t" "$bin/showcase-transcode" --set POLICY_MIN_SECONDS=0 \
                --set TRANSCODE_CARD_MS=0 --report "$dir/$c.json" "$dir/$c.mp4" "$dir/$c.out.mp4" 2>/dev/null
            echo "$(awk '{ print $1 + $2 }' "$dir/t") $(jq -r '[.steps_cpu_ms.deinterlace, .steps_cpu_ms.tonemap] | @tsv' "$dir/$c.json")" >>"$dir/$c.s"
        done
        # the same HDR step done by libavfilter's zscale + tonemap chain,
        # after the same scaling: ffmpeg's CPU with it minus without it
        for v in chain plain; do
        # (after the last round only: it is the slowest part)
        [ "$i" = "$step_rounds" ] || continue
            [ $v = chain ] && tm=",zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=mobius,zscale=t=bt709:m=bt709:r=tv" || tm=
            /usr/bin/time -f '%U %S' -o "$dir/t" ffmpeg -nostdin -v error -threads 1 -i "$dir/hlg.mp4" \
                -vf "scale=1280:720:flags=bilinear$tm,format=yuv420p" -f null -
            awk '{ print $1 + $2 }' "$dir/t" >>"$dir/ff_$v.s"
        done
    done
    echo "steps for rarer sources: 10 s 1080p clips, $step_rounds rounds, medians (the step's CPU ms; its share of the job's CPU)"
    printf '%-34s %8s %14s %11s %9s\n' clip "CPU s" "deinterlace ms" "tonemap ms" share
    for c in i25:"1080i25 H.264 (bwdif per frame)" hlg:"HLG 10-bit HEVC (tone-mapped)" pq:"PQ 10-bit HEVC (tone-mapped)" sdr10:"SDR 10-bit HEVC, same picture"; do
        f=$dir/${c%%:*}.s
        cpu=$(awk '{ print $1 }' "$f" | median)
        de=$(awk '{ print $2 }' "$f" | median)
        tm=$(awk '{ print $3 }' "$f" | median)
        printf '%-34s %8s %14s %11s %8s%%\n' "${c#*:}" "$cpu" "$de" "$tm" \
            "$(awk -v c="$cpu" -v d="$de" -v t="$tm" 'BEGIN { printf "%.1f", (d + t) / 10 / c }')"
    done
    echo "reference clip (SDR progressive): deinterlace $(jq .steps_cpu_ms.deinterlace "$dir/ours.json" 2>/dev/null || echo '?') ms, tonemap $(jq .steps_cpu_ms.tonemap "$dir/ours.json" 2>/dev/null || echo '?') ms"
    awk -v a="$(median <"$dir/ff_chain.s")" -v b="$(median <"$dir/ff_plain.s")" 'BEGIN {
        printf "libavfilter zscale+tonemap chain on the HLG clip, one thread, after the same scaling: %.2f CPU s (%.2f with it, %.2f without)\n", a - b, a, b }'
fi

[ "${GRID:-1}" = 1 ] || exit 0
echo
echo "showcase-transcode (no cards), one run each: preset, CRF -> time, size, SSIM"
printf '%-10s %4s %8s %8s %9s %8s\n' preset CRF "wall s" "CPU s" "size MB" SSIM
for p in $grid_presets; do
    for c in $grid_crfs; do
        /usr/bin/time -f '%e %U %S' -o "$dir/t" "$bin/showcase-transcode" --set POLICY_MAX_SECONDS=61 \
            --set TRANSCODE_PRESET="$p" --set TRANSCODE_CRF="$c" --set TRANSCODE_CARD_MS=0 \
            "$in" "$dir/grid.mp4" 2>/dev/null
        read -r w u s <"$dir/t"
        printf '%-10s %4s %8s %8.2f %9.2f %8s\n' "$p" "$c" "$w" "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" \
            "$(awk -v b="$(stat -c %s "$dir/grid.mp4")" 'BEGIN { print b / 1e6 }')" "$(ssim "$dir/grid.mp4" 0)"
    done
done
