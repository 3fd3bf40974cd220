#!/usr/bin/env bash
# Bring the stack up locally on 127.0.0.1 (S3-API server, buckets, data, model, API, nightly batch).
# Options: --data-dir D --model-dir M --moto-port P --api-port P --state-dir S (see README "Local emulation").
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m scripts.stack.local up "$@"
