#!/usr/bin/env bash
# Bring the stack up locally on 127.0.0.1 (S3-API server, buckets, data, model, API, nightly batch), then append
# the held-back last days of the data and run the batch again: the API's origin moves with the data.
# Options: --data-dir D --model-dir M --moto-port P --api-port P --state-dir S --hold-back-days N
# (see docs/local.md).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m scripts.stack.local up "$@"
