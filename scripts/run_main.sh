#!/usr/bin/env bash
# The main job: set up, train RF + LSTM on all data and export a model version, then backtest the last
# 42 days (the ensemble backtest also scores the RF and the LSTM alone, in "members").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/python -m training train --out artifacts
.venv/bin/python -m training backtest --cutoff 2015-05-08 --horizon 42 --model ensemble --out reports/backtest.json
