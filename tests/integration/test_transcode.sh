#!/usr/bin/env bash
# The pipeline (worker/pipeline/) through showcase-transcode, on fixtures
# the ffmpeg command-line tool makes here: the contest clip's shape, turned
# and anamorphic sources checked on pixels, frame pacing, the watermark
# and the cards, the acceptance policy, and broken inputs that must end
# with their reason code and leave no file behind.
#
# Outputs are read back with ffprobe and ffmpeg (never with the pipeline's
# own code), and pictures are checked by averaging small regions of a
# decoded frame.
# shellcheck source=tests/integration/harness.sh
. "$(dirname "$0")/harness.sh"

TC="$BIN_DIR/showcase-transcode"
FX="$IT_DIR/fixtures"
mkdir -p "$FX"

# Geometry and pacing cases: a relaxed policy (small, short fixtures), no
# watermark and no cards unless the case is about them.
RELAXED=(--set POLICY_MIN_SECONDS=0 --set POLICY_MIN_SHORT_SIDE=0
         --set WATERMARK_OPACITY=0 --set TRANSCODE_CARD_MS=0)

# gen NAME.EXT FFMPEG_ARGS...: make a fixture with the ffmpeg tool.
gen() {
    local out="$FX/$1"
    shift
    ffmpeg -nostdin -v error -y "$@" "$out" || it_fail "fixture $out could not be made"
}

# tc NAME IN [ARGS]: transcode IN into $IT_DIR/NAME.mp4 with a poster and
# a report; the exit status is left in TC_EXIT, the log in NAME.log.
tc() {
    local name=$1 in=$2
    shift 2
    "$TC" "$@" --poster "$IT_DIR/$name.jpg" --report "$IT_DIR/$name.json" \
        "$in" "$IT_DIR/$name.mp4" 2>"$IT_DIR/$name.log"
    TC_EXIT=$?
}

# json NAME EXPR: a field of a report, with jq.
json() { jq -r "$2" "$IT_DIR/$1.json"; }

probe() { ffprobe -v error -select_streams v:0 -show_entries "stream=$2" -of csv=p=0 "$1"; }

# px FILE FRAME X Y W H: "R G B", the mean of a region of one frame.
px() {
    ffmpeg -nostdin -v error -i "$1" \
        -vf "select=eq(n\,$2),crop=$5:$6:$3:$4,scale=1:1:flags=area,format=rgb24" \
        -frames:v 1 -f rawvideo - | od -An -tu1 | xargs
}

# near DESCRIPTION "R G B" "R G B" [TOLERANCE]
near() {
    local got want tol=${4:-24} i
    read -r -a got <<<"$2"
    read -r -a want <<<"$3"
    for i in 0 1 2; do
        if [ -z "${got[$i]:-}" ] || [ $(( got[i] > want[i] ? got[i] - want[i] : want[i] - got[i] )) -gt "$tol" ]; then
            it_fail "$1: got '$2', want '$3' (+-$tol)"
            return
        fi
    done
}

# cropdetect FILE: the non-black rectangle, "w:h:x:y".
cropdetect() {
    ffmpeg -nostdin -v info -i "$1" -vf cropdetect=limit=48:round=2:reset=0 -f null - 2>&1 |
        grep -o 'crop=[0-9:]*' | tail -n 1 | cut -d= -f2
}

# moov_first FILE: "moov" or "mdat", whichever top-level box comes first.
moov_first() {
    /usr/bin/python3 - "$1" <<'EOF'
import struct, sys
f = open(sys.argv[1], 'rb')
while True:
    h = f.read(8)
    if len(h) < 8:
        print('none'); break
    size, kind = struct.unpack('>I4s', h)
    if kind in (b'moov', b'mdat'):
        print(kind.decode()); break
    if size == 1:
        size = struct.unpack('>Q', f.read(8))[0]; f.seek(size - 16, 1)
    else:
        f.seek(size - 8, 1)
EOF
}

# no_leftovers NAME: neither the outputs nor their .partial files exist.
no_leftovers() {
    local left
    left=$(cd "$IT_DIR" && find . -maxdepth 1 \( -name "$1.mp4*" -o -name "$1.jpg*" \) -printf '%f ')
    check_eq "$1: files left behind" "$left" ""
}

# An upright 4-colour pattern, asymmetric in both axes: red top-left,
# green top-right, blue bottom-left, white bottom-right.
QUAD="color=c=red:s=180x320:d=1[a];color=c=lime:s=180x320:d=1[b];\
color=c=blue:s=180x320:d=1[c];color=c=white:s=180x320:d=1[d];\
[a][b]hstack[t];[c][d]hstack[u];[t][u]vstack,format=yuv420p"

# check_quad NAME X Y W H: the pattern is upright in that rectangle.
check_quad() {
    local f="$IT_DIR/$1.mp4" x=$2 y=$3 w=$4 h=$5 qw qh
    qw=$((w / 4)) qh=$((h / 4))
    near "$1 top-left" "$(px "$f" 5 $((x + qw)) $((y + qh)) 8 8)" "255 0 0" 40
    near "$1 top-right" "$(px "$f" 5 $((x + 3 * qw)) $((y + qh)) 8 8)" "0 255 0" 40
    near "$1 bottom-left" "$(px "$f" 5 $((x + qw)) $((y + 3 * qh)) 8 8)" "0 0 255" 40
    near "$1 bottom-right" "$(px "$f" 5 $((x + 3 * qw)) $((y + 3 * qh)) 8 8)" "255 255 255" 40
    near "$1 left padding" "$(px "$f" 5 40 300 16 16)" "0 0 0" 8
    near "$1 right padding" "$(px "$f" 5 1220 300 16 16)" "0 0 0" 8
}

# --- the contest clip -------------------------------------------------------

test_1080p_45s_with_audio_becomes_the_contest_clip() {
    local out="$IT_DIR/main.mp4" dur
    gen main.mp4 -f lavfi -i testsrc2=s=1920x1080:r=30:d=45 -f lavfi -i sine=f=440:d=45 \
        -c:v libx264 -preset ultrafast -crf 32 -c:a aac -b:a 64k
    tc main "$FX/main.mp4"
    check_eq "exit status" "$TC_EXIT" 0
    check_eq "size, codec, pixels" "$(probe "$out" width,height,codec_name,pix_fmt)" "h264,1280,720,yuv420p"
    check_eq "colour tags" "$(probe "$out" color_space,color_transfer,color_primaries)" "bt709,bt709,bt709"
    check_eq "streams (no audio)" "$(ffprobe -v error -show_entries stream=codec_type -of csv=p=0 "$out" | xargs)" "video"
    check_eq "constant 30 fps" "$(probe "$out" r_frame_rate,avg_frame_rate)" "30/1,30/1"
    # 30 s of the source plus 2 x 2.5 s of cards, to within one frame
    dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$out")
    check "duration $dur is 35 s +- 1/30" awk -v d="$dur" 'BEGIN { exit !(d > 35 - 1/30 - 1e-6 && d < 35 + 1/30 + 1e-6) }'
    check_eq "frames" "$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$out")" 1050
    check_eq "index first (faststart)" "$(moov_first "$out")" moov
    check_eq "poster" "$(probe "$IT_DIR/main.jpg" codec_name,width,height)" "mjpeg,1280,720"
    check "poster decodes" ffmpeg -nostdin -v error -i "$IT_DIR/main.jpg" -f null -
    check_eq "report outcome" "$(json main .outcome)" ok
    check_eq "report: trimmed, audio dropped" "$(json main '[.output.trimmed, .output.audio_streams, .source.duration] | @csv')" "true,0,45"
    check_eq "report: source" "$(json main '[.source.container, .source.codec, .source.width, .source.height, .source.fps] | @csv')" '"mov,mp4,m4a,3gp,3g2,mj2","h264",1920,1080,30'
    check "report: time per stage" jq -e '.stages_ms | (.decode > 0 and .render > 0 and .encode > 0 and .total > 0)' "$IT_DIR/main.json"
}

# ssim_y A FRAME_A B FRAME_B: luma SSIM of the top-left 400x120 of two
# frames, B scaled to 1280x720 first.
ssim_y() {
    ffmpeg -nostdin -i "$1" -i "$3" -lavfi \
        "[0]select=eq(n\,$2),crop=400:120:0:0,setpts=N[a];[1]select=eq(n\,$4),scale=1280:720,crop=400:120:0:0,setpts=N[b];[a][b]ssim" \
        -f null - 2>&1 | grep -o ' Y:[0-9.]*' | cut -d: -f2
}

# The trimmed clip is the start of the source: testsrc2 prints its clock
# there, so frame 75 (after 2.5 s of card) must show the source's frame 0
# and frame 974 the source's frame 899, and not its neighbours.
test_trim_keeps_the_first_30_seconds() {
    local src="$FX/main.mp4" out="$IT_DIR/main.mp4" s0 s1 s2
    s0=$(ssim_y "$out" 75 "$src" 0)
    s1=$(ssim_y "$out" 974 "$src" 899)
    s2=$(ssim_y "$out" 974 "$src" 900)
    check "first content frame is the source's first (ssim $s0)" awk -v s="$s0" 'BEGIN { exit !(s > 0.95) }'
    check "last content frame is the source's frame 899 (ssim $s1)" awk -v s="$s1" 'BEGIN { exit !(s > 0.95) }'
    check "and not frame 900 (ssim $s2 < $s1)" awk -v a="$s2" -v b="$s1" 'BEGIN { exit !(a < b) }'
}

test_watermark_and_cards_are_drawn() {
    local out="$IT_DIR/mark.mp4"
    # a flat grey source: whatever is not grey was drawn by the pipeline
    gen grey.mp4 -f lavfi -i color=c=0x808080:s=1280x720:r=30:d=2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p
    tc mark "$FX/grey.mp4" --set POLICY_MIN_SECONDS=0 --set POLICY_MIN_SHORT_SIDE=0 --set TRANSCODE_CARD_MS=1000
    check_eq "exit status" "$TC_EXIT" 0
    check_eq "frames: 30 card + 60 clip + 30 card" "$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$out")" 120
    # watermark: 12% of 720 = 86 px high, 24 px from the bottom-right
    # corner; a quarter in from its corner the ball is orange, blended at
    # 80% over grey
    near "watermark (orange over grey)" "$(px "$out" 45 $((1280 - 24 - 86 + 18)) $((720 - 24 - 86 + 18)) 6 6)" "214 116 53" 30
    near "no watermark elsewhere" "$(px "$out" 45 100 100 16 16)" "128 128 128" 6
    # cards: the logo centred on the brand colour, before and after
    for f in 0 29 90 119; do
        near "card $f background" "$(px "$out" "$f" 20 20 16 16)" "18 32 64" 10
        near "card $f logo" "$(px "$out" "$f" $((640 - 162 + 81)) $((360 - 162 + 81)) 8 8)" "236 112 34" 30
    done
    near "clip is not a card" "$(px "$out" 30 20 20 16 16)" "128 128 128" 6
}

test_watermark_opacity_zero_leaves_the_picture_alone() {
    tc nomark "$FX/grey.mp4" "${RELAXED[@]}"
    check_eq "exit status" "$TC_EXIT" 0
    near "no watermark" "$(px "$IT_DIR/nomark.mp4" 15 $((1280 - 24 - 86 + 18)) $((720 - 24 - 86 + 18)) 6 6)" "128 128 128" 6
}

# --- turned phone videos -------------------------------------------------

# A portrait 360x640 picture stored turned, with a display matrix that
# turns it back (DEG: the matrix's rotation as ffprobe prints it): it must
# come out upright, 406x720 pillarboxed.
rotation_case() {
    local deg=$1 turn=$2
    gen "rot${deg}_bare.mp4" -f lavfi -i "$QUAD,$turn" -t 1 -r 30 -c:v libx264 -preset ultrafast
    gen "rot$deg.mp4" -i "$FX/rot${deg}_bare.mp4" -c copy -metadata:s:v:0 rotate="$deg"
    local r
    r=$(ffprobe -v error -show_entries stream_side_data=rotation -of csv=p=0 "$FX/rot$deg.mp4" | xargs)
    check_eq "fixture rot$deg has the matrix" "$(( (r % 360 + 360) % 360 ))" "$deg"
    # the fixture is what we think: ffmpeg's own autorotate shows it upright
    near "fixture rot$deg upright in ffmpeg" \
        "$(px "$FX/rot$deg.mp4" 5 45 80 8 8)" "255 0 0" 40
    tc "rot$deg" "$FX/rot$deg.mp4" "${RELAXED[@]}"
    check_eq "rot$deg exit status" "$TC_EXIT" 0
    check_eq "rot$deg reported rotation" "$(json "rot$deg" .source.rotation)" "$deg"
    check_quad "rot$deg" 436 0 406 720
}

test_rotation_90_comes_out_upright() { rotation_case 90 transpose=clock; }
test_rotation_180_comes_out_upright() { rotation_case 180 "hflip,vflip"; }
test_rotation_270_comes_out_upright() { rotation_case 270 transpose=cclock; }

test_unrotated_portrait_is_pillarboxed() {
    gen portrait.mp4 -f lavfi -i "$QUAD" -t 1 -r 30 -c:v libx264 -preset ultrafast
    tc portrait "$FX/portrait.mp4" "${RELAXED[@]}"
    check_quad portrait 436 0 406 720
}

# --- geometry ----------------------------------------------------------------

# geometry_case NAME SIZE [FFMPEG_ARGS]: a flat bright source; the
# non-black rectangle of the output must be WANT (w:h:x:y).
geometry_case() {
    local name=$1 size=$2 rect=$3
    shift 3
    gen "$name.mp4" -f lavfi -i "color=c=0xc08040:s=$size:r=30:d=1,format=yuv444p" "$@" -c:v libx264 -preset ultrafast
    tc "$name" "$FX/$name.mp4" "${RELAXED[@]}"
    check_eq "$name exit status" "$TC_EXIT" 0
    check_eq "$name size" "$(probe "$IT_DIR/$name.mp4" width,height,sample_aspect_ratio)" "1280,720,1:1"
    check_eq "$name picture rectangle" "$(cropdetect "$IT_DIR/$name.mp4")" "$rect"
}

test_4_3_is_pillarboxed() { geometry_case four3 640x480 960:720:160:0 -pix_fmt yuv420p; }
test_21_9_is_letterboxed() { geometry_case cinema 840x360 1280:548:0:86 -pix_fmt yuv420p; }
test_anamorphic_1440x1080_sar_4_3_fills_the_frame() {
    geometry_case anamorphic 1440x1080 1280:720:0:0 -vf setsar=4/3 -pix_fmt yuv420p
    check_eq "fixture is anamorphic" "$(probe "$FX/anamorphic.mp4" width,height,sample_aspect_ratio)" "1440,1080,4:3"
}
test_odd_size_1917x1079_works() {
    geometry_case odd 1918x1080 1280:720:0:0 -vf crop=1917:1079:0:0 -pix_fmt yuv444p
    check_eq "fixture is odd-sized" "$(probe "$FX/odd.mp4" width,height)" "1917,1079"
}

# --- frame pacing -------------------------------------------------------

test_variable_frame_rate_in_constant_out() {
    local out="$IT_DIR/vfr.mp4" deltas
    # drop frames irregularly from a 30 fps source: gaps of 1 to 4 frames
    gen vfr.mp4 -f lavfi -i testsrc2=s=640x360:r=30:d=4 \
        -vf "select='not(eq(mod(n\,7)\,2))*not(eq(mod(n\,11)\,5))*not(eq(mod(n\,5)\,1))'" \
        -fps_mode vfr -c:v libx264 -preset ultrafast
    deltas=$(ffprobe -v error -select_streams v:0 -show_entries packet=duration_time -of csv=p=0 "$FX/vfr.mp4" | sort -u | wc -l)
    check "fixture has several frame durations ($deltas)" test "$deltas" -gt 1
    tc vfr "$FX/vfr.mp4" "${RELAXED[@]}"
    check_eq "exit status" "$TC_EXIT" 0
    check_eq "constant rate" "$(probe "$out" r_frame_rate,avg_frame_rate)" "30/1,30/1"
    check_eq "one frame duration" "$(ffprobe -v error -select_streams v:0 -show_entries packet=duration -of csv=p=0 "$out" | sort -u | xargs)" 512
    check_eq "4 s at 30 fps" "$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$out")" 120
}

test_60fps_becomes_30fps() {
    local out="$IT_DIR/fps60.mp4"
    gen fps60.mp4 -f lavfi -i testsrc2=s=640x360:r=60:d=2 -c:v libx264 -preset ultrafast
    tc fps60 "$FX/fps60.mp4" "${RELAXED[@]}"
    check_eq "rate" "$(probe "$out" r_frame_rate,avg_frame_rate)" "30/1,30/1"
    check_eq "2 s at 30 fps" "$(ffprobe -v error -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$out")" 60
    check_eq "half the frames rendered" "$(json fps60 '[.output.frames_decoded, .output.frames_rendered] | @csv')" "120,60"
}

test_10bit_hdr_source_gives_8bit_output() {
    local out="$IT_DIR/hdr.mp4"
    gen hdr.mp4 -f lavfi -i "color=c=0xc08040:s=1280x720:r=30:d=1" -pix_fmt yuv420p10le \
        -c:v libx264 -preset ultrafast -color_trc smpte2084 -color_primaries bt2020 -colorspace bt2020nc
    check_eq "fixture is 10-bit PQ" "$(probe "$FX/hdr.mp4" pix_fmt,color_transfer)" "yuv420p10le,smpte2084"
    tc hdr "$FX/hdr.mp4" "${RELAXED[@]}"
    check_eq "exit status" "$TC_EXIT" 0
    check_eq "8-bit BT.709 out" "$(probe "$out" pix_fmt,color_transfer)" "yuv420p,bt709"
    check "decodes cleanly" ffmpeg -nostdin -v error -xerror -i "$out" -f null -
    check_eq "report: depth, hdr, tone mapped" "$(json hdr '[.source.bit_depth, .source.hdr, .output.tone_mapped] | @csv')" '10,"pq",true'
}

# --- policy -----------------------------------------------------------------

test_10s_source_is_too_short_by_default() {
    gen short.mp4 -f lavfi -i testsrc2=s=1920x1080:r=30:d=10 -c:v libx264 -preset ultrafast -crf 35
    tc short "$FX/short.mp4"
    check_eq "exit status" "$TC_EXIT" "$((10 + 7))"
    check_eq "reason" "$(json short .outcome)" too_short
    check_contains "message" "$(json short .message)" "10.0 s long; the minimum is 20 s"
    check_contains "log" "$(cat "$IT_DIR/short.log")" too_short
    no_leftovers short
}

test_10s_source_is_processed_whole_when_allowed() {
    local dur
    tc shortok "$FX/short.mp4" --set POLICY_MIN_SECONDS=5
    check_eq "exit status" "$TC_EXIT" 0
    dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$IT_DIR/shortok.mp4")
    check "duration $dur is 10 s + 5 s of cards" awk -v d="$dur" 'BEGIN { exit !(d > 15 - 1/30 - 1e-6 && d < 15 + 1/30 + 1e-6) }'
    check_eq "not trimmed" "$(json shortok .output.trimmed)" false
}

test_low_resolution_and_too_long_are_refused() {
    gen small.mp4 -f lavfi -i testsrc2=s=1280x720:r=10:d=21 -c:v libx264 -preset ultrafast -crf 40
    tc small "$FX/small.mp4"
    check_eq "low resolution" "$(json small .outcome),$TC_EXIT" "low_resolution,19"
    gen long.mp4 -f lavfi -i color=s=1920x1080:r=1:d=61 -c:v libx264 -preset ultrafast
    tc long "$FX/long.mp4"
    check_eq "too long" "$(json long .outcome),$TC_EXIT" "too_long,18"
    tc big "$FX/main.mp4" --set POLICY_MAX_MB=1
    check_eq "too large (limit 1 MB, file $(stat -c %s "$FX/main.mp4") bytes)" \
        "$(json big .outcome),$TC_EXIT" "too_large,16"
    # a portrait 1080x1920 phone video qualifies
    gen tall.mp4 -f lavfi -i color=s=1080x1920:r=10:d=20 -c:v libx264 -preset ultrafast
    tc tall "$FX/tall.mp4" --set TRANSCODE_CARD_MS=0
    check_eq "portrait 1080x1920 accepted" "$TC_EXIT" 0
}

# set_coded_size FILE W H: rewrite the picture size an MP4's H.264 sample
# description claims (the stream itself is left as it is).
set_coded_size() {
    /usr/bin/python3 - "$@" <<'EOF'
import struct, sys
path, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = bytearray(open(path, 'rb').read())
at = data.index(b'avc1', data.index(b'stsd'))
struct.pack_into('>HH', data, at + 28, w, h)    # VisualSampleEntry width, height
open(path, 'wb').write(data)
EOF
}

# A 16K picture costs hundreds of MB a frame: the size the header claims
# is refused before any decoder sees a packet.
test_picture_over_the_limit_is_refused_before_decoding() {
    local f
    gen small320.mp4 -f lavfi -i testsrc2=s=320x180:r=15:d=2 -c:v libx264 -preset ultrafast
    tc pixels "$FX/small320.mp4" "${RELAXED[@]}" --set POLICY_MAX_PIXELS=50000
    check_eq "reason and exit" "$(json pixels .outcome),$TC_EXIT" "picture_too_large,23"
    check_eq "message" "$(json pixels .message)" "the picture is 320x180, 57600 pixels; the limit is 50000"
    check_eq "nothing decoded" "$(json pixels '[.output.frames_decoded, .stages_ms.decode] | @csv')" "0,0"
    no_leftovers pixels
    # a real picture just over the default (4096x2304), one frame
    gen huge.mp4 -f lavfi -i color=s=4160x2340:r=1 -frames:v 1 -c:v libx264 -preset ultrafast
    tc huge "$FX/huge.mp4"
    check_eq "4160x2340 refused by default" "$(json huge '[.outcome, .source.width, .source.height] | @csv'),$TC_EXIT" \
        '"picture_too_large",4160,2340,23'
    # the header claims 4160x2340, the stream is 320x180: reading the
    # streams (which decodes) would have found the small size and gone
    # on, so this refusal shows the check came first
    f="$FX/liar_big.mp4"
    cp "$FX/small320.mp4" "$f" && set_coded_size "$f" 4160 2340
    tc liar_big "$f" "${RELAXED[@]}"
    check_eq "a header's size is checked before decoding" "$(json liar_big .outcome),$TC_EXIT" "picture_too_large,23"
    # the header claims 320x180, the stream is 1280x720: caught once the
    # streams are read, with no frame decoded
    gen hd.mp4 -f lavfi -i testsrc2=s=1280x720:r=15:d=2 -c:v libx264 -preset ultrafast
    f="$FX/liar_small.mp4"
    cp "$FX/hd.mp4" "$f" && set_coded_size "$f" 320 180
    tc liar_small "$f" "${RELAXED[@]}" --set POLICY_MAX_PIXELS=100000
    check_eq "a stream bigger than its header" \
        "$(json liar_small '[.outcome, .source.width, .output.frames_decoded] | @csv')" '"picture_too_large",1280,0'
}

# A playlist or a concat script named .mp4 names other files (or URLs).
# Their demuxers must never run: what they name here is a FIFO, so a run
# that opened it would hang until the timeout (exit 124).
test_playlists_and_scripts_named_mp4_are_refused_unread() {
    local dir="$FX/refs" name
    mkdir -p "$dir"
    mkfifo "$dir/segment.ts" "$dir/clip.mp4"
    printf '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\nsegment.ts\n#EXT-X-ENDLIST\n' \
        >"$dir/playlist.mp4"
    printf "ffconcat version 1.0\nfile 'clip.mp4'\n" >"$dir/script.mp4"
    # and a playlist as ffmpeg writes one, with its segments
    ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=s=320x180:r=15:d=2 -c:v libx264 -preset ultrafast \
        -f hls -hls_segment_filename "$dir/real%d.ts" "$dir/real.m3u8" || it_fail "hls fixture"
    cp "$dir/real.m3u8" "$dir/real.mp4"
    for name in playlist script real; do
        timeout 10 "$TC" "${RELAXED[@]}" --report "$IT_DIR/ref_$name.json" \
            "$dir/$name.mp4" "$IT_DIR/ref_$name.mp4" 2>"$IT_DIR/ref_$name.log"
        TC_EXIT=$?
        check_eq "$name.mp4: refused unread" "$(json "ref_$name" .outcome 2>/dev/null),$TC_EXIT" "unsupported_container,13"
        no_leftovers "ref_$name"
    done
    check_eq "the message says what it is" "$(json ref_playlist .message)" "the file is hls, not one of mp4,mov"
    check_eq "the script too" "$(json ref_script .source.container)" concat
    # the whitelist is the policy's, down to the demuxers a playlist
    # opens for its segments
    tc ref_hls "$dir/real.mp4" "${RELAXED[@]}" --set POLICY_CONTAINERS=hls
    check_eq "hls allowed, its segments' mpegts not" "$(json ref_hls .outcome),$TC_EXIT" "corrupt,12"
    tc ref_allowed "$dir/real.mp4" "${RELAXED[@]}" --set POLICY_CONTAINERS=hls,mpegts
    check_eq "both allowed" "$TC_EXIT" 0
}

# --- HDR to SDR ---------------------------------------------------------------

# hdr_bars NAME ZSCALE_TRANSFER X265_TRANSFER: 1 s of SMPTE HD bars made
# HDR as phones record it (10-bit HEVC, BT.2020, HLG or PQ; PQ with a
# 100 cd/m2 reference white), the generator of issue 16.  The bars stay
# within SDR range, so a right conversion gives back the SDR bars.
hdr_bars() {
    gen "$1.mp4" -f lavfi -i smptehdbars=s=1280x720:r=30:d=1 \
        -vf "zscale=tin=bt709:min=bt709:pin=bt709:rin=tv:t=$2:m=bt2020nc:p=bt2020:r=tv,format=yuv420p10le" \
        -c:v libx265 -preset ultrafast -x265-params "log-level=error:colorprim=bt2020:transfer=$3:colormatrix=bt2020nc" -tag:v hvc1
}

# bars_psnr FILE: mean PSNR (Y, Cb, Cr) of FILE's frames against the SDR bars.
bars_psnr() {
    ffmpeg -nostdin -i "$1" -f lavfi -i smptehdbars=s=1280x720:r=30:d=1 -lavfi \
        "[0]settb=1/30,setpts=N[a];[1]format=yuv420p,settb=1/30,setpts=N[b];[a][b]psnr" -f null - 2>&1 |
        grep -o 'average:[0-9.inf]*' | cut -d: -f2
}

# px709 INPUT X: "R G B" of a 32x32 patch at (X, 200) of the first frame,
# read as BT.709 limited range whatever the file says.
px709() {
    ffmpeg -nostdin -v error "${@:3}" -i "$1" \
        -vf "select=eq(n\,0),crop=32:32:$2:200,scale=1:1:flags=area:in_color_matrix=bt709:in_range=tv,format=rgb24" \
        -frames:v 1 -f rawvideo - | od -An -tu1 | xargs
}

# bars_de FILE: CIEDE2000 of each of the seven 75% colour bars of FILE
# against the SDR bars, then their mean ("... mean M").
bars_de() {
    local i x
    for i in 0 1 2 3 4 5 6; do
        x=$((160 + (2 * i + 1) * 960 / 14 - 16))
        echo "$(px709 "$1" $x) $(px709 smptehdbars=s=1280x720 $x -f lavfi)"
    done | /usr/bin/python3 -c '
import math, sys
# BT.709 R'"'"'G'"'"'B'"'"' (8-bit, gamma 2.4 display) to CIELAB (D65)
def lab(rgb):
    lin = [(c / 255.0) ** 2.4 for c in rgb]
    m = [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    xyz = [sum(m[i][j] * lin[j] for j in range(3)) for i in range(3)]
    f = [(t / w) ** (1 / 3) if t / w > (6 / 29) ** 3 else t / w / (3 * (6 / 29) ** 2) + 4 / 29
         for t, w in zip(xyz, (0.95047, 1.0, 1.08883))]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])
# CIEDE2000 (CIE 142-2001; Sharma, Wu and Dalal 2005)
def de2000(p, q):
    (L1, a1, b1), (L2, a2, b2) = p, q
    Cm = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    G = 0.5 * (1 - math.sqrt(Cm ** 7 / (Cm ** 7 + 25 ** 7)))
    a1p, a2p = (1 + G) * a1, (1 + G) * a2
    C1p, C2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p, h2p = math.degrees(math.atan2(b1, a1p)) % 360, math.degrees(math.atan2(b2, a2p)) % 360
    dh = 0 if C1p * C2p == 0 else h2p - h1p
    dh = dh - 360 if dh > 180 else dh + 360 if dh < -180 else dh
    dH = 2 * math.sqrt(C1p * C2p) * math.sin(math.radians(dh / 2))
    Lm, Cmp = (L1 + L2) / 2, (C1p + C2p) / 2
    if C1p * C2p == 0: hm = h1p + h2p
    elif abs(h1p - h2p) <= 180: hm = (h1p + h2p) / 2
    else: hm = (h1p + h2p + (360 if h1p + h2p < 360 else -360)) / 2
    T = 1 - 0.17 * math.cos(math.radians(hm - 30)) + 0.24 * math.cos(math.radians(2 * hm)) \
        + 0.32 * math.cos(math.radians(3 * hm + 6)) - 0.20 * math.cos(math.radians(4 * hm - 63))
    Rc = 2 * math.sqrt(Cmp ** 7 / (Cmp ** 7 + 25 ** 7))
    Rt = -math.sin(math.radians(60 * math.exp(-((hm - 275) / 25) ** 2))) * Rc
    Sl = 1 + 0.015 * (Lm - 50) ** 2 / math.sqrt(20 + (Lm - 50) ** 2)
    Sc, Sh = 1 + 0.045 * Cmp, 1 + 0.015 * Cmp * T
    dL, dC = (L2 - L1) / Sl, (C2p - C1p) / Sc
    return math.sqrt(dL ** 2 + dC ** 2 + (dH / Sh) ** 2 + Rt * dC * (dH / Sh))
assert abs(de2000((50, 2.6772, -79.7751), (50, 0, -82.7485)) - 2.0425) < 1e-4  # Sharma pair 1
d = []
for line in sys.stdin:
    v = [int(x) for x in line.split()]
    d.append(de2000(lab(v[:3]), lab(v[3:])) if len(v) == 6 else 99)
print(" ".join("%.2f" % x for x in d), "mean %.2f" % (sum(d) / len(d)))'
}

# hdr_case NAME HDR: the bars come back as SDR, in true colours.
hdr_case() {
    local name=$1 kind=$2 p de
    tc "$name" "$FX/$name.mp4" "${RELAXED[@]}"
    check_eq "$name: exit status" "$TC_EXIT" 0
    check_eq "$name: report" "$(json "$name" '[.source.hdr, .output.tone_mapped] | @csv')" "\"$kind\",true"
    check_eq "$name: 8-bit BT.709 out" "$(probe "$IT_DIR/$name.mp4" pix_fmt,color_space,color_transfer,color_primaries)" \
        "yuv420p,bt709,bt709,bt709"
    p=$(bars_psnr "$IT_DIR/$name.mp4")
    check "$name: PSNR $p dB against the SDR bars is at least 32" awk -v p="$p" 'BEGIN { exit !(p >= 32) }'
    de=$(bars_de "$IT_DIR/$name.mp4")
    echo "    $name: PSNR $p dB; CIEDE2000 of the bars $de"
    check "$name: mean CIEDE2000 of the seven bars ($de) is at most 3" \
        awk -v d="${de##*mean }" 'BEGIN { exit !(d <= 3) }'
}

test_hlg_bars_come_out_as_the_sdr_bars() {
    hdr_bars hlg arib-std-b67 arib-std-b67
    check_eq "fixture: HLG" "$(probe "$FX/hlg.mp4" pix_fmt,color_transfer,color_primaries)" "yuv420p10le,arib-std-b67,bt2020"
    hdr_case hlg hlg
}

test_pq_bars_come_out_as_the_sdr_bars() {
    hdr_bars pq smpte2084:npl=100 smpte2084
    check_eq "fixture: PQ" "$(probe "$FX/pq.mp4" pix_fmt,color_transfer,color_primaries)" "yuv420p10le,smpte2084,bt2020"
    hdr_case pq pq
}

# A PQ ramp from 0 to 1000 cd/m2 across the picture: what is darker than
# the roll-off's knee comes out as SDR shows that light; the part above
# SDR white (100 cd/m2) is compressed into distinct levels, not clipped.
test_pq_ramp_keeps_its_highlights_apart() {
    local out="$IT_DIR/ramp.mp4" res
    # PQ(1000 cd/m2) = 0.7518 of the 10-bit limited range
    gen ramp.mp4 -f lavfi -i "color=black:s=1280x720:r=30:d=1,format=yuv420p10le,geq=lum='64+876*0.7518*X/W':cb=512:cr=512" \
        -c:v libx265 -preset ultrafast -x265-params log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc -tag:v hvc1
    tc ramp "$FX/ramp.mp4" "${RELAXED[@]}"
    check_eq "exit status" "$TC_EXIT" 0
    res=$(ffmpeg -nostdin -v error -i "$out" -vf "select=eq(n\,10),crop=1280:2:0:360,extractplanes=y" -frames:v 1 -f rawvideo - |
        /usr/bin/python3 -c '
import sys
d = sys.stdin.buffer.read()[:1280]
ys = [sum(d[i:i + 8]) / 8 for i in range(0, 1280, 8)]       # 160 samples
def nits(e):    # BT.2100 PQ EOTF
    m1, m2, c1, c2, c3 = 2610 / 16384, 2523 / 32, 3424 / 4096, 2413 / 128, 2392 / 128
    p = e ** (1 / m2)
    return 10000 * (max(p - c1, 0) / (c2 - c3 * p)) ** (1 / m1)
bad = []
mono = all(b >= a - 1 for a, b in zip(ys, ys[1:]))
above = []
for i, y in enumerate(ys):
    n = nits(0.7518 * (i * 8 + 4) / 1280)
    want = 16 + 219 * (n / 100) ** (1 / 2.4)
    if n < 50 and abs(y - want) > 4:
        bad.append("%.0f cd/m2: %.0f, want %.0f" % (n, y, want))
    if n > 100:
        above.append(round(y))
print("monotonic" if mono else "not monotonic",
      "levels_above_white=%d" % len(set(above)), "at_top=%d" % above.count(max(above)),
      "top=%d" % max(above), "off=[%s]" % "; ".join(bad[:3]))')
    echo "    ramp: $res"
    check_eq "monotonic" "${res%% *}" monotonic
    check "above SDR white: at least 12 distinct levels ($res)" \
        awk -v r="$res" 'BEGIN { match(r, /levels_above_white=[0-9]+/); exit !(substr(r, RSTART + 19, RLENGTH - 19) + 0 >= 12) }'
    check "at most 10 samples of 51 on the top level ($res)" \
        awk -v r="$res" 'BEGIN { match(r, /at_top=[0-9]+/); exit !(substr(r, RSTART + 7, RLENGTH - 7) + 0 <= 10) }'
    check_contains "up to SDR white, not beyond" "$res" "top=235"
    check_contains "below the knee, as SDR shows that light" "$res" "off=[]"
}

# An SDR BT.709 source is not touched by any of it: at CRF 0 (lossless)
# the output's frames are the source's, bit for bit.
test_sdr_source_is_unchanged_bit_for_bit() {
    gen sdrbars.mp4 -f lavfi -i smptehdbars=s=1280x720:r=30:d=1 -pix_fmt yuv420p -c:v libx264 -preset ultrafast \
        -color_primaries bt709 -color_trc bt709 -colorspace bt709
    tc sdrbars "$FX/sdrbars.mp4" "${RELAXED[@]}" --set TRANSCODE_CRF=0
    check_eq "exit status" "$TC_EXIT" 0
    check_eq "report" "$(json sdrbars '[.source.hdr, .output.tone_mapped] | @csv')" '"none",false'
    check_eq "frames identical to the source's" \
        "$(ffmpeg -nostdin -v error -i "$IT_DIR/sdrbars.mp4" -f framemd5 - | grep -v '^#' | cut -d, -f6 | md5sum)" \
        "$(ffmpeg -nostdin -v error -i "$FX/sdrbars.mp4" -f framemd5 - | grep -v '^#' | cut -d, -f6 | md5sum)"
}

# --- interlaced sources -------------------------------------------------------

# psnr_vs OUT SRC FILTER RATE: the mean PSNR of OUT's frames against SRC
# through the ffmpeg filter chain FILTER, frame by frame at RATE fps.
psnr_vs() {
    ffmpeg -nostdin -i "$1" -i "$2" -lavfi \
        "[1]$3,settb=1/$4,setpts=N[r];[0]settb=1/$4,setpts=N[o];[o][r]psnr" -f null - 2>&1 |
        grep -o 'average:[0-9.inf]*' | cut -d: -f2
}

# A 1080i25 camcorder-style source, top field first (4 s: the effect
# shows from the first moving frame).  Moving edges woven from two
# instants come out doubled unless the fields are deinterlaced first.
test_interlaced_1080i25_is_deinterlaced_before_scaling() {
    local p out="$IT_DIR/i25.mp4"
    gen i25.mp4 -f lavfi -i testsrc2=s=1920x1080:r=50:d=4 -vf tinterlace=mode=interleave_top,setfield=tff \
        -c:v libx264 -preset ultrafast -flags +ilme+ildct -x264-params tff=1 -b:v 3M
    check_eq "fixture: interlaced, top field first" "$(probe "$FX/i25.mp4" field_order,r_frame_rate)" "tt,25/1"
    tc i25 "$FX/i25.mp4" "${RELAXED[@]}"
    check_eq "exit status" "$TC_EXIT" 0
    # the cap (30) is below the field rate: a frame per frame, at 25 fps
    check_eq "progressive 25 fps out" "$(probe "$out" field_order,r_frame_rate,nb_frames)" "progressive,25/1,100"
    check_eq "report" "$(json i25 '[.source.field_order, .output.deinterlace.method, .output.deinterlace.rate, .output.deinterlace.field_order_from] | @csv')" \
        '"tt","bwdif","frame","frames"'
    p=$(psnr_vs "$out" "$FX/i25.mp4" "bwdif=mode=send_frame,scale=1280:720" 25)
    check "PSNR $p dB against bwdif, scaled, is at least 38" awk -v p="$p" 'BEGIN { exit !(p >= 38) }'
    # with a cap at the field rate, every field becomes a frame
    tc i50 "$FX/i25.mp4" "${RELAXED[@]}" --set TRANSCODE_MAX_FPS=50
    check_eq "field rate: 50 fps" "$(probe "$IT_DIR/i50.mp4" field_order,r_frame_rate,nb_frames)" "progressive,50/1,200"
    p=$(psnr_vs "$IT_DIR/i50.mp4" "$FX/i25.mp4" "bwdif=mode=send_field,scale=1280:720" 50)
    check "field rate: PSNR $p dB against bwdif per field is at least 38" awk -v p="$p" 'BEGIN { exit !(p >= 38) }'
    # a progressive source is left alone
    gen p25.mp4 -f lavfi -i testsrc2=s=320x180:r=25:d=1 -c:v libx264 -preset ultrafast
    tc p25 "$FX/p25.mp4" "${RELAXED[@]}"
    check_eq "progressive source: no deinterlacing" \
        "$(json p25 '[.outcome, .source.field_order, .output.deinterlace, .stages_ms.deinterlace] | @csv')" '"ok","progressive",,0'
}

# The same woven fields coded as progressive MPEG-4 part 2, which says
# nothing of a field order: the interlacing is found by looking (idet).
test_interlaced_source_that_says_nothing_is_detected() {
    local p
    [ -s "$FX/i25.mp4" ] || gen i25.mp4 -f lavfi -i testsrc2=s=1920x1080:r=50:d=4 \
        -vf tinterlace=mode=interleave_top,setfield=tff -c:v libx264 -preset ultrafast \
        -flags +ilme+ildct -x264-params tff=1 -b:v 3M
    gen woven.mp4 -i "$FX/i25.mp4" -c:v mpeg4 -q:v 2
    check_eq "fixture: no field order" "$(probe "$FX/woven.mp4" codec_name,field_order)" "mpeg4,unknown"
    tc woven "$FX/woven.mp4" "${RELAXED[@]}"
    check_eq "exit status" "$TC_EXIT" 0
    check_eq "report" "$(json woven '[.output.deinterlace.method, .output.deinterlace.field_order_from] | @csv')" \
        '"bwdif","detection"'
    p=$(psnr_vs "$IT_DIR/woven.mp4" "$FX/woven.mp4" "bwdif=mode=send_frame:parity=tff,scale=1280:720" 25)
    check "PSNR $p dB against bwdif, scaled, is at least 38" awk -v p="$p" 'BEGIN { exit !(p >= 38) }'
}

# --- which stream, how long --------------------------------------------------

# Files from the field, beside the repository (CI clones it next to shared/).
SHARED_FX="$IT_TOP/../shared/fixtures"

# shared_fixture NAME: its path, or a failure when it is not there.
shared_fixture() {
    [ -r "$SHARED_FX/$1" ] || it_fail "shared fixture $SHARED_FX/$1 is missing"
    printf '%s' "$SHARED_FX/$1"
}

# magenta_share FILE: the share (0..1) of a picture's pixels that are
# magenta, on a 160x90 rendering of its first frame.
magenta_share() {
    ffmpeg -nostdin -v error -i "$1" -vf scale=160:90:flags=area,format=rgb24 -frames:v 1 -f rawvideo - |
        python3 -c '
import sys
d = sys.stdin.buffer.read()
n = len(d) // 3
m = sum(1 for i in range(n) if d[3*i] > 180 and d[3*i+1] < 80 and d[3*i+2] > 180)
print("%.3f" % (m / max(n, 1)))'
}

# duration_is FILE SECONDS: the container's duration, to within a frame.
duration_is() {
    local dur
    dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$1")
    check "$1: duration $dur is $2 s +- 1/30" awk -v d="$dur" -v w="$2" 'BEGIN { exit !(d > w - 1/30 - 1e-6 && d < w + 1/30 + 1e-6) }'
}

# A one-frame MJPEG still (magenta, not default) comes first, the real
# 22 s of H.264 (default) second: the video is the H.264 track.
test_the_default_track_is_used_not_a_still_before_it() {
    local f
    f=$(shared_fixture still-track-first.mov)
    check_eq "fixture: a still, then the default H.264" \
        "$(ffprobe -v error -show_entries stream=codec_name,nb_frames:stream_disposition=default -of csv=p=0 "$f" | xargs)" \
        "mjpeg,1,0 h264,660,1"
    tc still "$f"
    check_eq "exit status" "$TC_EXIT" 0
    check_eq "report: the track used and why" \
        "$(json still '[.source.codec, .source.stream.index, .source.stream.why, .source.duration, (.source.stream.skipped | map("\(.index):\(.why)") | join(" "))] | @csv')" \
        '"h264",1,"only",22,"0:still"'
    duration_is "$IT_DIR/still.mp4" 27
    check_eq "no magenta in the poster" "$(magenta_share "$IT_DIR/still.jpg")" 0.000
    check_eq "the still was magenta" "$(ffmpeg -nostdin -v error -i "$f" -map 0:0 -frames:v 1 -y "$IT_DIR/still_track.png" && magenta_share "$IT_DIR/still_track.png")" 1.000
    # with MJPEG allowed, the still is still not the video
    tc still_mjpeg "$f" --set POLICY_CODECS=mjpeg,h264 --set TRANSCODE_CARD_MS=0
    check_eq "mjpeg allowed: still the H.264" "$(json still_mjpeg '[.outcome, .source.codec, .output.content_seconds] | @csv')" '"ok","h264",22'
}

# put_udta_first FILE: move the moov's udta (where MP4 keeps cover art)
# before its tracks, so the demuxer meets the cover art first.
put_udta_first() {
    /usr/bin/python3 - "$1" <<'EOF'
import struct, sys
path = sys.argv[1]
d = bytearray(open(path, 'rb').read())
def boxes(start, end):
    while start < end:
        size, kind = struct.unpack('>I4s', d[start:start + 8])
        yield start, size, kind
        start += size
moov = next((o, s) for o, s, k in boxes(0, len(d)) if k == b'moov')
kids = list(boxes(moov[0] + 8, moov[0] + moov[1]))
order = [b for b in kids if b[2] == b'mvhd'] + [b for b in kids if b[2] == b'udta'] + \
        [b for b in kids if b[2] not in (b'mvhd', b'udta')]
body = b''.join(bytes(d[o:o + s]) for o, s, k in order)
d[moov[0] + 8:moov[0] + moov[1]] = body
open(path, 'wb').write(d)
EOF
}

test_cover_art_or_a_picture_track_first_is_not_the_video() {
    gen cover.png -f lavfi -i color=c=magenta:s=320x240 -frames:v 1
    # green video, magenta pictures
    gen covervideo.mp4 -f lavfi -i color=c=0x40a040:s=640x360:r=30:d=2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p
    gen coverart.mp4 -i "$FX/cover.png" -i "$FX/covervideo.mp4" -map 0 -map 1 -c copy -disposition:v:0 attached_pic
    put_udta_first "$FX/coverart.mp4"
    check_eq "fixture: cover art first" \
        "$(ffprobe -v error -show_entries stream=codec_name:stream_disposition=attached_pic -of csv=p=0 "$FX/coverart.mp4" | xargs)" \
        "png,1 h264,0"
    tc coverart "$FX/coverart.mp4" "${RELAXED[@]}"
    check_eq "cover art first: the video" \
        "$(json coverart '[.outcome, .source.codec, .source.stream.index, (.source.stream.skipped | map("\(.index):\(.why)") | join(" "))] | @csv')" \
        '"ok","h264",1,"0:cover_art"'
    near "the poster is the green video" "$(px "$IT_DIR/coverart.jpg" 0 600 300 32 32)" "64 160 64" 12
    # Matroska keeps a picture as a track of its own with no frame count:
    # the default track wins
    gen pictrack.mkv -i "$FX/cover.png" -i "$FX/covervideo.mp4" -map 0 -map 1 -c copy -disposition:v:0 0 -disposition:v:1 default
    tc pictrack "$FX/pictrack.mkv" "${RELAXED[@]}" --set POLICY_CONTAINERS=matroska --set POLICY_CODECS=png,h264
    check_eq "picture track first: the default video" \
        "$(json pictrack '[.outcome, .source.codec, .source.stream.index, .source.stream.why, .output.content_seconds] | @csv')" \
        '"ok","h264",1,"default",2'
    near "its poster is the green video" "$(px "$IT_DIR/pictrack.jpg" 0 600 300 32 32)" "64 160 64" 12
}

# set_unknown_duration FILE: write the all-ones "unknown" duration into
# every tkhd and mdhd (ISO/IEC 14496-12), as recorders of fragmented MP4
# do; mvhd says 0.
set_unknown_duration() {
    /usr/bin/python3 - "$1" <<'EOF'
import struct, sys
path = sys.argv[1]
d = bytearray(open(path, 'rb').read())
def walk(start, end):
    while start + 8 <= end:
        size, kind = struct.unpack('>I4s', d[start:start + 8])
        if size < 8:
            break
        if kind in (b'moov', b'trak', b'mdia'):
            walk(start + 8, start + size)
        body = start + 8
        v = d[body]
        if kind == b'tkhd':
            at, n = (body + 28, 8) if v == 1 else (body + 20, 4)
            d[at:at + n] = b'\xff' * n
        elif kind == b'mdhd':
            at, n = (body + 24, 8) if v == 1 else (body + 16, 4)
            d[at:at + n] = b'\xff' * n
        elif kind == b'mvhd':
            at, n = (body + 24, 8) if v == 1 else (body + 16, 4)
            d[at:at + n] = b'\x00' * n
        start += size
walk(0, len(d))
open(path, 'wb').write(d)
EOF
}

# fragmented NAME ARGS...: a fragmented MP4 (one fragment a second, the
# index at the end) with the unknown duration in its headers.
fragmented() {
    local name=$1
    shift
    gen "$name" "$@" -c copy -movflags frag_keyframe+empty_moov
    set_unknown_duration "$FX/$name"
}

test_an_unknown_header_duration_is_read_from_the_fragments() {
    local f
    f=$(shared_fixture fragmented-unknown-duration.mp4)
    check_eq "fixture: all-ones duration in the header" \
        "$(ffprobe -v error -show_entries stream=duration_ts -of csv=p=0 "$f")" 4294967295
    tc frag "$f"
    check_eq "exit status" "$TC_EXIT" 0
    check_eq "report: 25 s, from the fragments' index" \
        "$(json frag '[.source.duration, .source.duration_from, .source.header_duration, .output.content_seconds] | @csv')" \
        '25,"index","unknown",25'
    duration_is "$IT_DIR/frag.mp4" 30
    # the same recording cut to 15 s and looped to 75 s, fragmented and
    # unknown in the same way: judged by what they really hold
    fragmented frag15.mp4 -i "$f" -t 15
    fragmented frag75.mp4 -stream_loop 2 -i "$f"
    check_eq "fixtures: unknown too" \
        "$(for g in frag15 frag75; do ffprobe -v error -show_entries stream=duration_ts -of csv=p=0 "$FX/$g.mp4"; done | xargs)" \
        "4294967295 4294967295"
    tc frag15 "$FX/frag15.mp4"
    check_eq "15 s: too short" "$(json frag15 '[.outcome, .message] | @csv'),$TC_EXIT" \
        '"too_short","the video is 15.0 s long; the minimum is 20 s",17'
    tc frag75 "$FX/frag75.mp4"
    check_eq "75 s: too long" "$(json frag75 '[.outcome, .message] | @csv'),$TC_EXIT" \
        '"too_long","the video is 75.0 s long; the maximum is 60 s",18'
    no_leftovers frag15
    no_leftovers frag75
}

# Matroska written to a pipe (live recorders, browsers) has no duration
# and no index: the packets tell it, and the run still starts at the top.
test_a_missing_duration_is_read_from_the_packets() {
    ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=320x180:r=30:d=3 -c:v libx264 -preset ultrafast \
        -f matroska - >"$FX/live.mkv" || it_fail "live.mkv could not be made"
    check_eq "fixture: no duration" "$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$FX/live.mkv")" N/A
    tc live "$FX/live.mkv" "${RELAXED[@]}" --set POLICY_CONTAINERS=matroska
    check_eq "report: 3 s from the packets, all of it used" \
        "$(json live '[.outcome, .source.duration, .source.duration_from, .source.header_duration, .output.content_frames] | @csv')" \
        '"ok",3,"packets","missing",90'
    tc live_long "$FX/live.mkv" "${RELAXED[@]}" --set POLICY_CONTAINERS=matroska --set POLICY_MAX_SECONDS=2
    check_eq "too long from the packets" "$(json live_long .message)" "the video is 3.0 s long; the maximum is 2 s"
}

# --- broken inputs ------------------------------------------------------------

# broken_case NAME FILE REASON: refused with REASON, no file left behind.
broken_case() {
    local name=$1 file=$2 reason=$3
    tc "$name" "$file" "${RELAXED[@]}"
    check_eq "$name reason" "$(json "$name" .outcome 2>/dev/null)" "$reason"
    check "$name exit status $TC_EXIT is 10..30 (no crash)" test "$TC_EXIT" -ge 10 -a "$TC_EXIT" -lt 30
    check "$name message" test -n "$(json "$name" .message)"
    no_leftovers "$name"
}

test_broken_inputs_end_with_their_reason() {
    : >"$FX/empty.mp4"
    broken_case empty "$FX/empty.mp4" empty
    # seeded: now and then a truly random buffer probes as some other
    # container (an MP3 frame header, say), which is a different reason
    python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(7).randbytes(200000))' \
        >"$FX/random.mp4"
    broken_case random "$FX/random.mp4" corrupt
    # moov at the end (ffmpeg's default): half a file has no index
    gen whole.mp4 -f lavfi -i testsrc2=s=640x360:r=30:d=4 -c:v libx264 -preset ultrafast
    head -c $(($(stat -c %s "$FX/whole.mp4") / 2)) "$FX/whole.mp4" >"$FX/half.mp4"
    broken_case half "$FX/half.mp4" corrupt
    # index first: half a file opens, and ends early
    gen wholefs.mp4 -f lavfi -i testsrc2=s=640x360:r=30:d=4 -c:v libx264 -preset ultrafast -movflags +faststart
    head -c $(($(stat -c %s "$FX/wholefs.mp4") / 2)) "$FX/wholefs.mp4" >"$FX/halffs.mp4"
    broken_case halffs "$FX/halffs.mp4" corrupt
    check_contains "halffs message" "$(json halffs .message)" "the file ends after"
    gen audio.mp4 -f lavfi -i sine=d=2 -c:a aac
    broken_case audio "$FX/audio.mp4" no_video_stream
    gen png.png -f lavfi -i testsrc2=s=320x240 -frames:v 1
    cp "$FX/png.png" "$FX/png.mp4"
    broken_case png "$FX/png.mp4" unsupported_container
    gen qtrle.mov -f lavfi -i testsrc2=s=320x240:r=10:d=1 -c:v qtrle
    broken_case qtrle "$FX/qtrle.mov" unsupported_codec
    tc missing "$FX/no-such-file.mp4" "${RELAXED[@]}"
    check_eq "missing file" "$(json missing .outcome)" internal
}

test_bad_settings_and_usage() {
    "$TC" --set TRANSCODE_CRF=99 "$FX/grey.mp4" "$IT_DIR/x.mp4" 2>"$IT_DIR/badset.log"
    check_eq "bad setting exits 2" "$?" 2
    check_contains "message names it" "$(cat "$IT_DIR/badset.log")" "TRANSCODE_CRF: must be an integer between 0 and 51"
    "$TC" --set WATERMARK_LOGO="$FX/empty.mp4" "$FX/grey.mp4" "$IT_DIR/x.mp4" 2>"$IT_DIR/badlogo.log"
    check_eq "bad logo exits 2" "$?" 2
    "$TC" "$FX/grey.mp4" 2>/dev/null
    check_eq "usage exits 1" "$?" 1
    no_leftovers x
}

test_any_logo_may_be_configured() {
    gen square.png -f lavfi -i color=c=0x00ff00:s=64x32 -frames:v 1
    tc logo "$FX/grey.mp4" --set POLICY_MIN_SECONDS=0 --set POLICY_MIN_SHORT_SIDE=0 \
        --set TRANSCODE_CARD_MS=0 --set WATERMARK_LOGO="$FX/square.png" \
        --set WATERMARK_POSITION=top-left --set WATERMARK_OPACITY=100
    check_eq "exit status" "$TC_EXIT" 0
    # 86 px high, 172 wide, 24 px from the top-left corner
    near "green logo top-left" "$(px "$IT_DIR/logo.mp4" 10 $((24 + 80)) $((24 + 40)) 8 8)" "0 255 0" 30
    near "grey beside it" "$(px "$IT_DIR/logo.mp4" 10 $((24 + 180)) $((24 + 40)) 8 8)" "128 128 128" 8
}

# --- hooks for the queue worker ----------------------------------------

test_progress_reaches_one_and_cancel_stops_cleanly() {
    local out
    out=$(POLICY_MIN_SECONDS=0 POLICY_MIN_SHORT_SIDE=0 TRANSCODE_CARD_MS=500 \
        "$BIN_DIR/transcode_hooks" "$FX/fps60.mp4" "$IT_DIR/hooks.mp4" 2>"$IT_DIR/hooks.log")
    check_eq "full run" "$out" "reason=ok calls=90 first=0.011 last=1.000 monotonic=1"
    out=$(POLICY_MIN_SECONDS=0 POLICY_MIN_SHORT_SIDE=0 TRANSCODE_CARD_MS=500 \
        "$BIN_DIR/transcode_hooks" "$FX/fps60.mp4" "$IT_DIR/cancel.mp4" 0.5 2>"$IT_DIR/cancel.log")
    check_eq "cancelled half way" "$out" "reason=cancelled calls=45 first=0.011 last=0.500 monotonic=1"
    no_leftovers cancel
}

# The worker runs the transcoder with --sandbox: the seccomp filter is in
# place for the whole run (tests/unit/test_sandbox.c checks what it
# refuses), and a whole transcode, threads and all, works under it.
test_sandbox_filter_is_on_while_it_transcodes() {
    local mode pid st filters
    for mode in --sandbox --progress; do
        "$TC" "$mode" "${RELAXED[@]}" --set TRANSCODE_MAX_SECONDS=5 \
            "$FX/main.mp4" "$IT_DIR/sb$mode.mp4" 2>"$IT_DIR/sb$mode.log" &
        pid=$!
        filters=
        # the status of the running transcoder (before its exec, the shell's)
        while st=$(cat "/proc/$pid/status" 2>/dev/null); do
            case $st in
            *"State:	Z"*) break ;;
            *"Seccomp:	2"*) filters=$(printf '%s\n' "$st" | grep -E '^(NoNewPrivs|Seccomp_filters):' | xargs) ;;
            *showcase-trans*) [ -n "$filters" ] || filters=none ;;
            esac
            [ "$filters" != "" ] && [ "$filters" != none ] && break
            sleep 0.02
        done
        wait "$pid"
        check_eq "$mode: exit status" "$?" 0
        if [ "$mode" = --sandbox ]; then
            check_eq "$mode: filtered" "$filters" "NoNewPrivs: 1 Seccomp_filters: 1"
        else
            check_eq "$mode: not filtered" "$filters" none
        fi
    done
}

# Under valgrind (skipped on a sanitizer build, which checks the same
# things itself): a small good run and the broken inputs.
test_clean_under_valgrind() {
    local f name rc
    if grep -q __asan_init "$TC"; then
        echo "    (sanitizer build: valgrind skipped)"
        return
    fi
    gen tiny.mp4 -f lavfi -i testsrc2=s=160x90:r=10:d=1 -c:v libx264 -preset ultrafast
    for f in tiny.mp4 random.mp4 half.mp4 halffs.mp4 audio.mp4 png.mp4 qtrle.mov; do
        name=vg_${f%.*}
        valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
            "$TC" "${RELAXED[@]}" --set TRANSCODE_PRESET=ultrafast --report "$IT_DIR/$name.json" \
            "$FX/$f" "$IT_DIR/$name.mp4" 2>"$IT_DIR/$name.vg"
        rc=$?
        check "valgrind on $f: exit $rc (99 means errors)" test "$rc" -ne 99
        check_eq "valgrind on $f: report" "$(grep -c '==[0-9]*==' "$IT_DIR/$name.vg")" 0
    done
}

it_main
