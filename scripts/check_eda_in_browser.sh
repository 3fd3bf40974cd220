#!/usr/bin/env bash
# Open the EDA report in headless Chromium, screenshot it, and check it has one image per section and no
# empty section. Usage: scripts/check_eda_in_browser.sh [reports/eda/index.html] [screenshot.png]
# Needs Debian's chromium (apt-get install -y chromium); exits 2 when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
report="$(realpath "${1:-reports/eda/index.html}")"
shot="${2:-/tmp/eda.png}"
browser="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$browser" ] || { echo "chromium not found (apt-get install -y chromium)" >&2; exit 2; }
[ -f "$report" ] || { echo "no report at $report (run: python -m training eda --out reports/eda)" >&2; exit 1; }
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --user-data-dir="$profile")
"$browser" "${flags[@]}" --screenshot="$shot" --window-size=1400,6000 "file://$report" 2>/dev/null
"$browser" "${flags[@]}" --dump-dom "file://$report" 2>/dev/null > "$profile/dom.html"
.venv/bin/python - "$profile/dom.html" "$shot" <<'PY'
"""Check the DOM chromium rendered: 12 sections, each with text and a PNG that decodes."""
import base64, io, re, sys
from matplotlib import image
dom = open(sys.argv[1], encoding="utf-8").read()
sections = re.findall(r"<section id=\"(q\d+)\">(.*?)</section>", dom, flags=re.S)
problems = []
for anchor, body in sections:
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", "", body))
    if len(text.split()) < 30:
        problems.append(f"{anchor}: almost no text")
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", body)
    if not pngs:
        problems.append(f"{anchor}: no image")
    for png in pngs:
        pixels = image.imread(io.BytesIO(base64.b64decode(png)), format="png")
        if pixels.shape[0] < 100 or pixels.shape[1] < 100:
            problems.append(f"{anchor}: image of {pixels.shape[:2]} pixels")
print(f"{len(sections)} sections, {dom.count('<img')} <img> tags, screenshot {sys.argv[2]}")
if len(sections) != 12:
    problems.append(f"expected 12 sections, found {len(sections)}")
for problem in problems:
    print("PROBLEM:", problem)
sys.exit(1 if problems else 0)
PY
