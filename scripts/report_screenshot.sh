#!/usr/bin/env bash
# Screenshot a curation report (or any local HTML file) with headless Chromium, to look at it
# as a person would:
#
#   bash scripts/report_screenshot.sh out/demo/report.html /tmp/report.png [WIDTH] [HEIGHT]
#
# Needs Chromium (Debian: apt-get install -y chromium; fonts-noto-cjk shows CJK entries).
# Uses a fresh profile and no network services; the report itself loads nothing external.
set -euo pipefail
html=${1:?usage: report_screenshot.sh REPORT.html OUT.png [WIDTH] [HEIGHT]}
png=${2:?usage: report_screenshot.sh REPORT.html OUT.png [WIDTH] [HEIGHT]}
width=${3:-1200}
height=${4:-7000}
browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
  for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then browser=$(command -v "$name"); break; fi
  done
fi
if [ -z "$browser" ]; then
  echo "no Chromium found (Debian: apt-get install -y chromium), or set CHROMIUM=/path/to/chrome" >&2
  exit 3
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
abs_html=$(cd "$(dirname "$html")" && pwd)/$(basename "$html")
mkdir -p "$(dirname "$png")"
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$profile" --window-size="${width},${height}" \
  --screenshot="$png" "file://$abs_html" >/dev/null 2>"$profile/chromium.log" || {
    cat "$profile/chromium.log" >&2; exit 1; }
test -s "$png" || { echo "no screenshot written" >&2; cat "$profile/chromium.log" >&2; exit 1; }
echo "wrote $png"
