"""Benchmark the finance team's page on a local server: its size, and how fast the chart appears and changes.

Starts uvicorn (``forecast_api.application:create_app``) on 127.0.0.1 with ``--registry``, waits until the model
is loaded, then measures with headless Debian Chromium (Playwright):

- size: the page as served (one document, scripts and styles inlined), raw and gzip as sent;
- load: from navigation start to the chart's first draw (``performance.mark("chart-drawn")``), fresh tab each run;
- store switch: typing another store id + Enter until the chart is redrawn (history + forecast requests);
- what-if: pressing a day's Promo toggle until the scenario is drawn (one POST /forecasts);
- all stores: switching to the daily total of every store (informative; a 3 MB forecast for 1,115 stores).

Targets (issue 11): page + assets <= 300 KB compressed; chart visible <= 1.5 s; switch or what-if <= 300 ms.
Prints JSON; ``--screenshot PATH`` also saves a 1280 px screenshot of a store with a what-if as a small PNG
(docs/web-page.png is made so from the tests' tiny synthetic model: no real data in it).

    .venv/bin/python scripts/bench/bench_page.py --registry artifacts/models --runs 10
"""

import argparse
import gzip
import io
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "functions" / "api" / "web"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OPEN_WITHOUT_PROMO = """rows => rows.filter(row =>
  row.querySelector('button[data-name="open"]').getAttribute("aria-pressed") === "true"
  && row.querySelector('button[data-name="promo"]').getAttribute("aria-pressed") === "false"
).map(row => row.querySelector('button[data-name="promo"]').dataset.date)"""
"""Forecast days (table rows) on which the store is open without a promo: a promo there changes the forecast."""
TIMED = """async ([action, value]) => {
  const drawn = new Promise((done) => document.addEventListener("chart-drawn", done, { once: true }));
  const started = performance.now();
  if (action === "store") {
    const input = document.getElementById("store");
    input.value = value;
    input.dispatchEvent(new Event("change"));
  } else if (action === "toggle") {
    document.querySelector(`button[data-name="promo"][data-date="${value}"]`).click();
  } else {
    const radio = document.querySelector('input[name="view"][value="total"]');
    radio.checked = true;
    radio.dispatchEvent(new Event("change"));
  }
  await drawn;
  return performance.now() - started;
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(registry: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "MODEL_REGISTRY": str(registry), "MODEL_CACHE_DIR": str(log.parent / "cache")}
    argv = [str(REPO / ".venv" / "bin" / "uvicorn"), "--factory", "forecast_api.application:create_app",
            "--app-dir", "functions/api", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    with open(log, "wb") as out:
        process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"uvicorn exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=60) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"the server did not answer /health within 120 s; see {log}")


def sizes(url: str) -> dict[str, Any]:
    """Bytes of the page as served (identity and gzip) and of each source file it inlines."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request) as response:
        sent = response.read()
        encoding = response.headers.get("Content-Encoding")
    html = gzip.decompress(sent) if encoding == "gzip" else sent
    files = {}
    for path in [*sorted(WEB.glob("*.*")), *sorted((WEB / "vendor").glob("*"))]:
        data = path.read_bytes()
        files[str(path.relative_to(WEB))] = {"bytes": len(data), "gzip": len(gzip.compress(data, 9))}
    return {"page_bytes": len(html), "page_sent_gzip_bytes": len(sent), "content_encoding": encoding,
            "budget_bytes": 300 * 1024, "sources": files}


def summary(values: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(values), 1), "max_ms": round(max(values), 1),
            "min_ms": round(min(values), 1), "runs": len(values)}


def small_png(png: bytes, path: Path) -> None:
    """Save a screenshot with a 128-colour palette (tens of KB instead of a few hundred)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, optimize=True)


def measure(url: str, runs: int, screenshot: Path | None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium not found (apt-get install -y chromium)")
    loads, switches, whatifs, totals = [], [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        for run in range(runs):
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            page = context.new_page()
            page.goto(url)
            page.wait_for_selector('#chart:not([data-drawn="0"])', timeout=30_000)
            loads.append(page.evaluate("() => performance.getEntriesByName('chart-drawn')[0].startTime"))
            stores = page.eval_on_selector_all("#store-pick option", "els => els.map(e => e.value)")
            switches.append(page.evaluate(TIMED, ["store", stores[(run + 1) % len(stores)]]))
            days = page.eval_on_selector_all("#days tbody tr", OPEN_WITHOUT_PROMO)
            whatifs.append(page.evaluate(TIMED, ["toggle", days[run % len(days)]]))
            if run == 0 and screenshot is not None:
                small_png(page.screenshot(full_page=False), screenshot)
            if run < 3:
                totals.append(page.evaluate(TIMED, ["total", ""]))
            context.close()
        version = browser.version
        browser.close()
    return {"chromium": version, "chart_visible_after_load": summary(loads), "store_switch": summary(switches),
            "whatif_promo_toggle": summary(whatifs), "all_stores_total": summary(totals)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--registry", type=Path, default=REPO / "artifacts" / "models", help="model registry folder")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--screenshot", type=Path, help="also save a small PNG of a store with a what-if here")
    parser.add_argument("--work-dir", type=Path, default=REPO / "reports" / "bench_page")
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_server(args.registry.resolve(), port, args.work_dir / "uvicorn.log")
    try:
        url = f"http://127.0.0.1:{port}/"
        with urllib.request.urlopen(url + "health") as response:
            health = json.load(response)
        result = {"model_version": health["model_version"], "origin": health["origin"],
                  "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}",
                  "size": sizes(url), **measure(url, args.runs, args.screenshot)}
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
