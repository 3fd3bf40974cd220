#!/usr/bin/env bash
# Build the deployable folders with `sam build` (no container) into ${BUILD_DIR:-.aws-sam/build},
# then fail if the API function + its layers exceed 150 MB unzipped.
# Lambda's python3.12 runtime needs a local Python 3.12 for the function builds (pyenv's is found).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-.aws-sam/build}
scripts/setup_sam.sh
scripts/setup_web.sh  # the page's charting library into functions/api/web/vendor/, shipped with the function
python312=$(scripts/find_python312.sh)
PATH="$(dirname "$python312"):$PATH" SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-eu-central-1} \
  .venv-sam/bin/sam build --build-dir "$BUILD_DIR" --template-file template.yaml
# Lambda's /var/task and /opt are read-only, so modules shipped without .pyc are compiled again at every cold
# start (under the runtime emulator, scripts/stack/rie.py: 4.0 s -> 1.7 s to the first answer). unchecked-hash:
# the .pyc stay valid whatever timestamps the deployment zip gives the sources.
"$python312" -m compileall -q -j 0 --invalidation-mode unchecked-hash "$BUILD_DIR" > /dev/null
.venv/bin/python -m scripts.stack.package --build-dir "$BUILD_DIR" --function ApiFunction --limit-mb 150
