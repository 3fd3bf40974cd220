"""Benchmark the forecast API handler the way Lambda runs it: genuine events in, response dicts out.

Measures (1) cold start: a fresh Python process importing the handler and answering its first
request, which loads the model (sha256 check, ONNX session, covariate fit); (2) warm latency of
one store x 42 days (p50/p99); (3) all stores x 42 days in one request. Prints JSON.

    MODEL_REGISTRY=artifacts/models .venv/bin/python scripts/bench_api.py
"""

import argparse
import copy
import json
import logging
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
API_DIR = REPO / "functions" / "api"
EVENTS = REPO / "events"

COLD_START = """
import json, sys, time
started = time.perf_counter()
sys.path.insert(0, {api_dir!r})
import app
imported = time.perf_counter()
class Context:
    aws_request_id = "cold-start"
response = app.handler(json.load(open({event!r})), Context())
done = time.perf_counter()
assert response["statusCode"] == 200, response
print(json.dumps({{"import_s": imported - started, "first_request_s": done - imported, "total_s": done - started}}))
"""


class Context:
    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def cold_starts(runs: int) -> list[dict[str, float]]:
    """Each run: a new interpreter, timed from its first line (interpreter start-up not included)."""
    script = COLD_START.format(api_dir=str(API_DIR), event=str(EVENTS / "api_http_health.json"))
    results = []
    for _ in range(runs):
        wall = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["process_wall_s"] = time.perf_counter() - wall
        results.append({k: round(v, 3) for k, v in result.items()})
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def warm(handler: Any, repeats: int, store_ids: list[int]) -> dict[str, float]:
    """One store x 42 days through the HTTP API event, stores cycled; milliseconds."""
    template = load_event("api_http_store_forecast.json")
    times = []
    for i in range(repeats):
        evt = copy.deepcopy(template)
        path = f"/stores/{store_ids[i % len(store_ids)]}/forecast"
        evt["rawPath"] = evt["requestContext"]["http"]["path"] = path
        started = time.perf_counter()
        response = handler(evt, Context(f"warm-{i}"))
        times.append(1000 * (time.perf_counter() - started))
        assert response["statusCode"] == 200, response["body"][:500]
    return {"requests": repeats, "p50_ms": round(percentile(times, 50), 2), "p99_ms": round(percentile(times, 99), 2),
            "mean_ms": round(statistics.fmean(times), 2), "max_ms": round(max(times), 2)}


def all_stores(handler: Any, repeats: int) -> dict[str, Any]:
    evt = load_event("api_http_forecasts.json")
    evt["body"] = json.dumps({"stores": "all", "horizon_days": 42})
    evt["headers"]["content-length"] = str(len(evt["body"]))
    times, size = [], 0
    for i in range(repeats):
        started = time.perf_counter()
        response = handler(copy.deepcopy(evt), Context(f"all-{i}"))
        times.append(time.perf_counter() - started)
        assert response["statusCode"] == 200, response["body"][:500]
        size = len(response["body"])
        rows = sum(len(s["date"]) for s in json.loads(response["body"])["stores"])
    return {"requests": repeats, "rows": rows, "response_mb": round(size / 1e6, 2),
            "median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "max_s": round(max(times), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--warm-requests", type=int, default=300)
    parser.add_argument("--all-requests", type=int, default=5)
    args = parser.parse_args()
    if not os.environ.get("MODEL_REGISTRY"):
        parser.error("set MODEL_REGISTRY (e.g. artifacts/models)")
    os.environ["MODEL_REGISTRY"] = str(Path(os.environ["MODEL_REGISTRY"]).resolve())

    cold = cold_starts(args.cold_runs)
    sys.path.insert(0, str(API_DIR))
    import app

    from forecast_api import model_state

    logging.getLogger().setLevel(logging.WARNING)
    health = json.loads(app.handler(load_event("api_http_health.json"), Context("load"))["body"])
    stores = [int(s) for s in model_state.get_servable().version.stores.store_id]
    report = {
        "model_version": health["model_version"],
        "model": health["default_model"],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "cold_start": {"runs": cold, "median_total_s": statistics.median(r["total_s"] for r in cold)},
        "warm_one_store_42_days": warm(app.handler, args.warm_requests, stores),
        "all_stores_42_days": all_stores(app.handler, args.all_requests),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
