#!/usr/bin/env bash
# Create or refresh .venv-sam/ with aws-sam-cli (it pins boto3 and click exactly, so it lives apart from .venv/).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
SAM_CLI_VERSION=1.170.0
if [ "$(.venv-sam/bin/sam --version 2>/dev/null)" != "SAM CLI, version $SAM_CLI_VERSION" ]; then
  "$PYTHON" -m venv .venv-sam
  .venv-sam/bin/python -m pip install --quiet --upgrade pip
  .venv-sam/bin/python -m pip install --quiet "aws-sam-cli==$SAM_CLI_VERSION"
fi
