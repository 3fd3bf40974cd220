"""Benchmark the forecast API handler the way Lambda runs it: genuine events in, response dicts out.

Measures (1) cold start: a fresh Python process importing the handler and answering its first
request, which loads the model (sha256 check, ONNX session, covariate fit); (2) warm latency of
one store x 42 days (p50/p99), forecast and explained (``GET /stores/{id}/explain``, with last year); (3) all
stores x 42 days in one request; (4) warm ``POST /totals`` of every
federal state x 42 days and of every store's window (p50/p99; the first call, which computes the every-store
forecast once for the served history, apart). Prints JSON.

With ``--data-dir D`` (train.csv + store.csv) an S3-API server (moto) starts on 127.0.0.1, the nightly
batch runs on that data and publishes its history state, and the API is measured forecasting from it
(FORECAST_BUCKET set): the cold start then also reads the pointer and the state (sha256, parse,
covariate fit on it). It adds (5) warm latency with the pointer checked on every request
(STATE_REFRESH_SECONDS=0: the cost of the one small GET) and (6) the request that notices a newly
published state and switches to it. With ``--registry-in-s3`` the version is published to that
server too and each cold start fetches it into an empty cache folder, as a new Lambda container does.

    MODEL_REGISTRY=artifacts/models .venv/bin/python scripts/bench/bench_api.py [--data-dir ../shared/data/rossmann]
        [--registry-in-s3]
"""

import argparse
import atexit
import copy
import json
import logging
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"

COLD_START = """
import json, sys, time
started = time.perf_counter()
import api_lambda
imported = time.perf_counter()
class Context:
    aws_request_id = "cold-start"
    function_name = "rossmann-forecast-api"
    memory_limit_in_mb = 2048
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:rossmann-forecast-api"
response = api_lambda.handler(json.load(open({event!r})), Context())
done = time.perf_counter()
assert response["statusCode"] == 200, response
print(json.dumps({{"import_s": imported - started, "first_request_s": done - imported, "total_s": done - started}}))
"""


class Context:
    function_name = "rossmann-forecast-api"
    memory_limit_in_mb = 2048
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:rossmann-forecast-api"

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def cold_starts(runs: int) -> list[dict[str, float]]:
    """Each run: a new interpreter, timed from its first line (interpreter start-up not included)."""
    script = COLD_START.format(event=str(EVENTS / "api_http_health.json"))
    results = []
    for _ in range(runs):
        wall = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="bench-cache-") as cache:  # an empty /tmp, as in a new container
            out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                                 env={**os.environ, "MODEL_CACHE_DIR": cache})
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["process_wall_s"] = time.perf_counter() - wall
        results.append({k: round(v, 3) for k, v in result.items()})
    return results


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def warm(handler: Any, repeats: int, store_ids: list[int], route: str = "forecast") -> dict[str, float]:
    """One store x 42 days through the HTTP API event (``GET /stores/{id}/<route>``), stores cycled;
    milliseconds."""
    template = load_event("api_http_store_forecast.json")
    times = []
    for i in range(repeats):
        evt = copy.deepcopy(template)
        path = f"/stores/{store_ids[i % len(store_ids)]}/{route}"
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


def totals(handler: Any, repeats: int, body: dict[str, Any]) -> dict[str, Any]:
    """Warm ``POST /totals`` with ``body`` (its first call, which computes the every-store forecast, apart);
    milliseconds."""
    evt = load_event("api_http_forecasts.json")
    evt["rawPath"] = evt["requestContext"]["http"]["path"] = "/totals"
    evt["body"] = json.dumps(body)
    evt["headers"]["content-length"] = str(len(evt["body"]))
    times = []
    for i in range(repeats + 1):
        started = time.perf_counter()
        response = handler(copy.deepcopy(evt), Context(f"totals-{i}"))
        times.append(1000 * (time.perf_counter() - started))
        assert response["statusCode"] == 200, response["body"][:500]
    first, times = times[0], times[1:]
    return {"body": body, "requests": repeats, "totals": len(json.loads(response["body"])["totals"]),
            "first_ms": round(first, 1), "p50_ms": round(percentile(times, 50), 2),
            "p99_ms": round(percentile(times, 99), 2), "max_ms": round(max(times), 2)}


def start_s3() -> Any:
    """Start moto on 127.0.0.1 with the bench's buckets and point this process (and its children) at it."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ.update({"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "bench",
                       "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "eu-central-1"})
    client = boto3.client("s3")
    for bucket in ("bench-models", "bench-data", "bench-forecasts"):
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    return client


def publish_model(client: Any) -> None:
    """Publish MODEL_REGISTRY's version (pinned, else latest) to the S3 server and serve it from there."""
    from training.publish import publish_version

    registry = Path(os.environ["MODEL_REGISTRY"])
    publish_version(registry.parent, "bench-models", "models", os.environ.get("MODEL_VERSION") or None, client)
    os.environ["MODEL_REGISTRY"] = "s3://bench-models/models"
    cache = tempfile.mkdtemp(prefix="bench-cache-")
    atexit.register(shutil.rmtree, cache, ignore_errors=True)
    os.environ["MODEL_CACHE_DIR"] = cache


def publish_state(client: Any, data_dir: Path) -> Callable[[int], dict[str, Any]]:
    """Upload ``data_dir``'s files to the S3 server; return a function running the nightly batch the given number
    of days after the data's last day (which publishes the history state the API then serves)."""
    os.environ.update({"DATA_BUCKET": "bench-data", "FORECAST_BUCKET": "bench-forecasts"})
    for name in ("train.csv", "store.csv"):
        client.upload_file(str(data_dir / name), "bench-data", name)
    import numpy as np

    from nightly_batch.handler import handle
    from rossmann_core.data.daily_csv import read_history_csv

    last = read_history_csv(str(data_dir / "train.csv")).date.max()

    def run(days_after: int) -> dict[str, Any]:
        run_date = str(last + np.timedelta64(days_after, "D"))
        result = handle({"run_date": run_date}, request_id=f"bench-{run_date}")
        if result["status"] != "ok":
            raise SystemExit(f"nightly batch failed: {result['error']}")
        return result

    return run


def switch(handler: Any, run_batch: Callable[[int], dict[str, Any]]) -> dict[str, Any]:
    """Seconds of the first request after a newly published state (pointer checked on every request)."""
    run_date = run_batch(2)["run_date"]
    started = time.perf_counter()
    response = handler(load_event("api_http_health.json"), Context("switch"))
    seconds = time.perf_counter() - started
    health = json.loads(response["body"])
    assert health["history_run_date"] == run_date, health
    return {"first_request_s": round(seconds, 3), "origin": health["origin"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--warm-requests", type=int, default=300)
    parser.add_argument("--all-requests", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, help="serve the history the nightly batch publishes from this data")
    parser.add_argument("--registry-in-s3", action="store_true", help="fetch the model from the S3 server")
    args = parser.parse_args()
    if not os.environ.get("MODEL_REGISTRY"):
        parser.error("set MODEL_REGISTRY (e.g. artifacts/models)")
    os.environ["MODEL_REGISTRY"] = str(Path(os.environ["MODEL_REGISTRY"]).resolve())
    run_batch = None
    if args.data_dir or args.registry_in_s3:
        client = start_s3()
        if args.registry_in_s3:
            publish_model(client)
        if args.data_dir:
            run_batch = publish_state(client, args.data_dir.resolve())
            run_batch(1)

    cold = cold_starts(args.cold_runs)
    import api_lambda
    from forecast_api import model_state

    logging.getLogger().setLevel(logging.WARNING)
    health = json.loads(api_lambda.handler(load_event("api_http_health.json"), Context("load"))["body"])
    stores = [int(s) for s in model_state.get_servable().stores.store_id]
    report = {
        "model_version": health["model_version"],
        "model": health["default_model"],
        "registry": os.environ["MODEL_REGISTRY"],
        "history": {k: health[k] for k in ("origin", "model_origin", "history_source", "history_run_date")},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "cold_start": {"runs": cold, "median_total_s": statistics.median(r["total_s"] for r in cold)},
        "warm_one_store_42_days": warm(api_lambda.handler, args.warm_requests, stores),
        "warm_explain_one_store_42_days": warm(api_lambda.handler, args.warm_requests, stores, "explain"),
        "all_stores_42_days": all_stores(api_lambda.handler, args.all_requests),
        "totals_every_state_42_days": totals(api_lambda.handler, args.warm_requests,
                                             {"group_by": "state", "period": "day"}),
        "totals_every_store_window": totals(api_lambda.handler, args.all_requests * 4,
                                            {"group_by": "store", "period": "window"}),
    }
    if run_batch is not None:
        os.environ["STATE_REFRESH_SECONDS"] = "0"
        report["warm_pointer_checked_every_request"] = warm(api_lambda.handler, args.warm_requests, stores)
        report["switch_to_a_new_state"] = switch(api_lambda.handler, run_batch)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
