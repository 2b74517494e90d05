#!/bin/sh
# Regenerates logo.png, the default watermark: a basketball drawn from
# formulas (orange disc, dark seams, soft transparent edge), 256x256 RGBA.
# The committed PNG is the output of this script; run it from this
# directory after changing the drawing.
set -eu
c='hypot(X-128,Y-128)'
seam="lt(abs(X-128),5)+lt(abs(Y-128),5)+lt(abs(hypot(X+62,Y-128)-170),5)"
seam="$seam+lt(abs(hypot(X-318,Y-128)-170),5)+gt($c,111)"
ffmpeg -loglevel error -y -f lavfi -i "color=c=black@0:s=256x256,format=rgba" \
	-frames:v 1 -vf "geq=r='if($seam,28,236)':g='if($seam,24,112)':b='if($seam,22,34)':a='clip((120-$c)*128,0,255)'" \
	-pix_fmt rgba logo.png
