#!/usr/bin/env bash
# Set up, lint, run every test (tests start the local services they need on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup_sam.sh  # aws-sam-cli in its own venv, for the template checks
scripts/setup_checkov.sh  # checkov (requirements-scan.txt) in its own venv, for tests/test_checkov.py
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
