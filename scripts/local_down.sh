#!/usr/bin/env bash
# Stop what scripts/local_up.sh started, by the PIDs it saved (--state-dir S if it was given one).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m scripts.stack.local down "$@"
