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
.venv/bin/python -m scripts.stack.package --build-dir "$BUILD_DIR" --function ApiFunction --limit-mb 150
