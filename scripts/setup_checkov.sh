#!/usr/bin/env bash
# Create or refresh .venv-checkov/ with the pinned template scanner (requirements-scan.txt); apart from .venv/
# because checkov pins boto3 exactly. Re-installs only when requirements-scan.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
stamp=.venv-checkov/.requirements.sha256
wanted=$(sha256sum requirements-scan.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  "$PYTHON" -m venv .venv-checkov
  .venv-checkov/bin/python -m pip install --quiet --upgrade pip
  .venv-checkov/bin/python -m pip install --quiet -r requirements-scan.txt
  echo "$wanted" > "$stamp"
fi
