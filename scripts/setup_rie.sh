#!/usr/bin/env bash
# Lambda's python3.12 runtime for local emulation (scripts/stack/rie.py): a Python 3.12 venv at .venv-rie/ with
# the pinned Runtime Interface Client and the SDK the managed runtime provides (requirements-rie.txt).
# The Runtime Interface Emulator itself comes with aws-sam-cli (scripts/setup_sam.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
python312=$(scripts/find_python312.sh)
if [ ! -x .venv-rie/bin/python ]; then
  "$python312" -m venv .venv-rie
fi
stamp=.venv-rie/.requirements.sha256
wanted=$(sha256sum requirements-rie.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  .venv-rie/bin/pip install --quiet --disable-pip-version-check -r requirements-rie.txt
  echo "$wanted" > "$stamp"
fi
