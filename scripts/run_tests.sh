#!/usr/bin/env bash
# Set up, lint, run the tests (docs/conventions.md, "Test tiers").
#   scripts/run_tests.sh            every tier (what CI runs); the tests start the local services they need on 127.0.0.1
#   scripts/run_tests.sh --fast     the inner loop: unit and functional tiers only (no Chromium, SAM, checkov, RIE)
# Further arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ "${1:-}" = "--fast" ]; then
  shift
  .venv/bin/ruff check .
  exec .venv/bin/python -m pytest tests/unit tests/functional -m "unit or functional" "$@"
fi
scripts/setup_sam.sh  # aws-sam-cli in its own venv, for the template checks
scripts/setup_checkov.sh  # checkov (requirements-scan.txt) in its own venv, for tests/system/test_checkov.py
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
