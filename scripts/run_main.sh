#!/usr/bin/env bash
# The main job: set up, train on all data and export a model version, then backtest the last 42 days.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/python -m training train --out artifacts
.venv/bin/python -m training backtest --cutoff 2015-05-08 --horizon 42 --model rf --out reports/backtest_rf.json
