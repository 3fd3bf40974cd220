#!/usr/bin/env bash
# Set up, lint, run every test (tests start the local services they need on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup_sam.sh  # aws-sam-cli in its own venv, for the template checks
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
