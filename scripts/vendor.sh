#!/usr/bin/env bash
# Refreshes static/vendor/ from the npm registry at pinned versions (`make vendor`).
# The files are committed: nothing is downloaded at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
WEUI=2.6.26
HTMX=2.0.11
ECHARTS=5.6.0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() { (cd "$tmp" && npm pack --silent "$1@$2" >/dev/null && mkdir -p "$1" && tar -xzf "$1"-*.tgz -C "$1" && rm "$1"-*.tgz); }
fetch weui "$WEUI"
fetch htmx.org "$HTMX"
fetch echarts "$ECHARTS"
mkdir -p static/vendor/weui static/vendor/htmx static/vendor/echarts
cp "$tmp/weui/package/dist/style/weui.min.css" static/vendor/weui/
cp "$tmp/weui/package/LICENSE" static/vendor/weui/LICENSE 2>/dev/null || true
cp "$tmp/htmx.org/package/dist/htmx.min.js" static/vendor/htmx/
cp "$tmp/htmx.org/package/LICENSE" static/vendor/htmx/LICENSE
cp "$tmp/echarts/package/dist/echarts.min.js" static/vendor/echarts/
cp "$tmp/echarts/package/LICENSE" static/vendor/echarts/LICENSE
printf 'weui %s\nhtmx.org %s\necharts %s\n' "$WEUI" "$HTMX" "$ECHARTS" > static/vendor/VERSIONS
echo "vendored: $(tr '\n' ' ' < static/vendor/VERSIONS)"
