#!/usr/bin/env bash
# Front-end dependencies of the web page: `npm ci` from package-lock.json (pinned uPlot) into node_modules/,
# re-run only when the lock file changed (offline-safe once installed), then copy the built files the page
# inlines into functions/api/web/vendor/ (git-ignored; `sam build` ships functions/api/ with them).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "npm not found: install Node.js and npm (Debian: apt-get install -y nodejs npm)" >&2; exit 1; }
stamp=node_modules/.package-lock.sha256
wanted=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$wanted" > "$stamp"
fi
vendor=functions/api/web/vendor
mkdir -p "$vendor"
for file in uPlot.iife.min.js uPlot.min.css; do
  cmp -s "node_modules/uplot/dist/$file" "$vendor/$file" || cp "node_modules/uplot/dist/$file" "$vendor/$file"
done
