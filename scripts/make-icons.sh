#!/usr/bin/env bash
# Draws the Wallet's icons (an original, simple design: a countersign tick inside a ring on a
# deep teal rounded square) as RGBA PNGs in icons/. Needs ImageMagick 6 (`convert`).
set -euo pipefail
cd "$(dirname "$0")/.."
out=icons
mkdir -p "$out"
big="$out/icon.png"
convert -size 1024x1024 xc:none \
  -fill '#0f4c5c' -draw 'roundrectangle 64,64 960,960 200,200' \
  -fill none -stroke '#e9f5f2' -strokewidth 56 -draw 'circle 512,512 512,222' \
  -stroke '#f2b84b' -strokewidth 84 -draw 'stroke-linecap round stroke-linejoin round polyline 372,530 474,632 668,404' \
  -define png:color-type=6 -resize 512x512 "PNG32:$big"
for size in 32 64 128; do
  convert "$big" -resize "${size}x${size}" -define png:color-type=6 "PNG32:$out/${size}x${size}.png"
done
convert "$big" -resize 256x256 -define png:color-type=6 "PNG32:$out/128x128@2x.png"
# Windows' icon (the app's resource file needs one): 16 to 256 pixels in one .ico.
convert "$big" -define icon:auto-resize=256,128,64,48,32,16 "$out/icon.ico"
# The tray icon: the same mark, small.
convert "$big" -resize 32x32 -define png:color-type=6 "PNG32:$out/tray.png"
file "$out"/*.png "$out/icon.ico"
