#!/usr/bin/env bash
# Print the path of a working Python 3.12 (Lambda's python3.12 runtime): $PYTHON312, PATH, or pyenv's.
set -uo pipefail
for candidate in "${PYTHON312:-}" "$(command -v python3.12)" "$HOME"/.pyenv/versions/3.12*/bin/python3.12; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] \
     && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null; then
    echo "$candidate"
    exit 0
  fi
done
echo "no working python3.12 found (set PYTHON312=/path/to/python3.12)" >&2
exit 2
