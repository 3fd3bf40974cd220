#!/usr/bin/env bash
# Create or refresh .venv/ with every pinned dependency; re-installs only when a requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
stamp=.venv/.requirements.sha256
wanted=$(cat requirements-dev.txt training/requirements.txt layers/runtime/requirements.txt functions/*/requirements.txt | sha256sum | cut -d' ' -f1)
# LightGBM (the direct model's training) needs the system's OpenMP runtime.
if ! ldconfig -p | grep -q 'libgomp\.so\.1'; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgomp1 >/dev/null; } \
    || { echo "setup: LightGBM needs libgomp.so.1: install Debian's libgomp1" >&2; exit 1; }
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements-dev.txt
  echo "$wanted" > "$stamp"
fi
# The shared layer package and the training package are importable from the repo, no install step.
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf "%s\n" "$PWD/layers/core/python" "$PWD" "$PWD/functions/api" "$PWD/functions/batch" > "$site/rossmann.pth"
# The web page's pinned charting library (npm ci, re-run only when package-lock.json changes) into functions/api/web/vendor/.
scripts/setup_web.sh
