"""Scaling curves: synthetic fleets of 1x, 4x, 16x the 1,115 stores, measured on this machine.

For each fleet (:mod:`scripts.bench.scale_fleet`: every extra store a real store's history with its own level,
noise and id) the benchmark trains the forest on it (RF only, a fixed budget of TRAIN_ROW_BUDGET training
rows, about today's full count, so 16x fits in memory and minutes), then, each piece in a fresh process as
a Lambda cold start would run it, against a moto S3 server of its own on 127.0.0.1:

- the single-function night (``batch_lambda.handler``): wall, CPU seconds (all threads), peak RSS;
- the fanned-out night (``batch_lambda.plan_handler``, one ``batch_lambda.shard_handler`` process per shard of
  SHARD_STORES stores, ``batch_lambda.commit_handler``, as template.yaml's state machine runs them): the same
  per step, and whether the committed CSV equals the single run's byte for byte;
- the API (``api_lambda.handler``, its Lambda entry, the fleet's model version from a local
  registry): cold start, one-store p50/p99, 50-store p50/p99, every store (all pages) and the bytes of
  Lambda's response, peak RSS;
- sizes: train.csv, rf.onnx, store_state.npz, history_state.npz, the forecasts CSV.

Writes the figures as JSON (``--out``) and one PNG chart per quantity (``--charts``), and prints the
table and where each Lambda limit breaks (linear fits over the fleets). CPU-heavy: run it under the lock.
``--training-from`` reuses an earlier report's model versions (left in ``--work``) and training figures.

    .venv/bin/python scripts/bench/scale_bench.py [--multiples 1 4 16]
        [--work DIR] [--out reports/scale_bench.json] [--charts docs] [--training-from EARLIER.json]
"""

import argparse
import contextlib
import importlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENTS = REPO_ROOT / "events"

BASE_STORES = 1_115
TRAIN_ROW_BUDGET = 640_000
"""Training rows the forest is fitted on at every fleet size (1x has 635,089, so it fits on all of them)."""
SHARD_STORES = 1_500
RUN_DATE = "2015-06-20"
"""The day after the data's last day: the night's run date (the sharded run uses the next day)."""
ONE_STORE_REQUESTS = 300
FIFTY_STORE_REQUESTS = 30
ALL_STORE_REPEATS = 3
LIMITS = {"memory_mb": 10_240, "timeout_s": 900, "response_bytes": 6 * 1024 * 1024, "package_mb": 250,
          "tmp_mb": 512}
"""Lambda's limits: memory, timeout, synchronous response payload, unzipped package (function + layers), and
the default /tmp (ephemeral storage, configurable to 10,240 MB) where the model version is cached."""
PACKAGE_MB = 126.7
"""The API function + layers unzipped, as ``scripts/bench/package_size.py`` measures it (docs/results.md): the
model is fetched from S3 at run time, so no fleet size changes it."""


# ---------------------------------------------------------------- child processes (one measured piece each)

class Context:
    """Lambda's context object, as the handlers and Powertools read it."""

    def __init__(self, name: str, memory: int = 3538) -> None:
        self.function_name, self.memory_limit_in_mb = name, memory
        self.aws_request_id = f"scale-{name}-{int(time.time() * 1000)}"
        self.invoked_function_arn = f"arn:aws:lambda:eu-central-1:123456789012:function:{name}"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def child_train(args: dict[str, Any]) -> dict[str, Any]:
    from training.config import ForestSettings
    from training.data import load_dataset
    from training.train import train_model

    started = time.perf_counter()
    dataset = load_dataset(Path(args["data_dir"]))
    loaded = time.perf_counter() - started
    version_dir = train_model(dataset, Path(args["out"]), models=("rf",),
                              settings=ForestSettings(max_train_rows=TRAIN_ROW_BUDGET))
    manifest = json.loads((version_dir / "manifest.json").read_text())
    return {"version_dir": str(version_dir), "load_seconds": round(loaded, 1), "rows": manifest["rows"],
            "fit_seconds": manifest["models"]["rf"]["train_seconds"],
            "calibration_rmspe": manifest["models"]["rf"]["metrics"]["calibration_rmspe"],
            "rf_onnx_bytes": (version_dir / "rf.onnx").stat().st_size,
            "store_state_bytes": (version_dir / "store_state.npz").stat().st_size}


def child_batch(args: dict[str, Any]) -> dict[str, Any]:
    """One Lambda invocation of a batch handler (``batch_lambda.<handler>``) on ``event`` in this fresh process."""
    started = time.perf_counter()
    app = importlib.import_module("batch_lambda")
    imported = time.perf_counter() - started
    result = getattr(app, args["handler"])(args["event"], Context(args["handler"]))
    if result.get("status") == "failed":
        raise SystemExit(f"{args['handler']} failed: {result['error']}")
    return {"import_seconds": round(imported, 3), "result": result}


def api_event(method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """The sample HTTP API event (events/api_http_forecasts.json) for another method, path and body."""
    request = json.loads((EVENTS / "api_http_forecasts.json").read_text())
    request["rawPath"] = request["requestContext"]["http"]["path"] = path
    request["requestContext"]["http"]["method"] = method
    request["rawQueryString"] = ""
    request["pathParameters"] = {"proxy": path.lstrip("/")}
    request["body"] = None if body is None else json.dumps(body)
    request["isBase64Encoded"] = False
    if body is None:
        request["headers"].pop("content-type", None)
    request["headers"].pop("content-length", None)
    return request


def child_api(args: dict[str, Any]) -> dict[str, Any]:
    """The API's Lambda handler in this fresh process: cold start, then the request mixes."""
    started = time.perf_counter()
    app = importlib.import_module("api_lambda")
    context = Context("rossmann-forecast-api", 2048)

    def call(method: str, path: str, body: dict[str, Any] | None = None) -> tuple[float, dict[str, Any], int]:
        begun = time.perf_counter()
        response = app.handler(api_event(method, path, body), context)
        seconds = time.perf_counter() - begun
        if response["statusCode"] != 200:
            raise SystemExit(f"{method} {path}: {response['statusCode']} {response['body'][:300]}")
        return seconds, json.loads(response["body"]), len(json.dumps(response))

    _, health, _ = call("GET", "/health")
    cold = time.perf_counter() - started
    stores = [int(s["store"]) for s in call("GET", "/stores")[1]["stores"]]
    rng = random.Random(0)
    one = [call("GET", f"/stores/{rng.choice(stores)}/forecast")[0] for _ in range(ONE_STORE_REQUESTS)]
    fifty = [call("POST", "/forecasts", {"stores": sorted(rng.sample(stores, min(50, len(stores))))})[0]
             for _ in range(FIFTY_STORE_REQUESTS)]
    every = []
    for _ in range(ALL_STORE_REPEATS):
        begun, pages, sizes, answered, page = time.perf_counter(), 0, [], 0, 1
        while page:
            _, body, size = call("POST", "/forecasts", {"stores": "all", "page": page})
            pages, answered, page = pages + 1, answered + len(body["stores"]), body["next_page"]
            sizes.append(size)
        every.append({"seconds": time.perf_counter() - begun, "pages": pages, "bytes": sum(sizes),
                      "max_page_bytes": max(sizes), "stores": answered})

    def quantiles(values: list[float]) -> dict[str, float]:
        return {"p50_ms": round(float(np.percentile(values, 50)) * 1000, 2),
                "p99_ms": round(float(np.percentile(values, 99)) * 1000, 2)}

    return {"cold_start_seconds": round(cold, 3), "model_version": health["model_version"], "stores": len(stores),
            "one_store": quantiles(one), "fifty_stores": quantiles(fifty),
            "all_stores": {"seconds_median": round(float(np.median([e["seconds"] for e in every])), 3),
                           **{k: every[0][k] for k in ("pages", "bytes", "max_page_bytes", "stores")}}}


def child_fleet(args: dict[str, Any]) -> dict[str, Any]:
    from scripts.bench.scale_fleet import build_fleet

    return build_fleet(Path(args["data_dir"]), Path(args["out"]), args["multiple"])


CHILDREN = {"fleet": child_fleet, "train": child_train, "batch": child_batch, "api": child_api}


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM), MB. Not ``ru_maxrss``: after fork + exec that also
    holds the parent's resident size at the fork."""
    status = Path("/proc/self/status").read_text()
    return round(int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1]) / 1024, 1)


def child_main(kind: str, args_file: str, out_file: str) -> int:
    result = CHILDREN[kind](json.loads(Path(args_file).read_text()))
    Path(out_file).write_text(json.dumps({**result, "peak_rss_mb": peak_rss_mb()}, default=str))
    return 0


# ---------------------------------------------------------------- the parent: fleets, S3, measurements

def measure(kind: str, args: dict[str, Any], env: dict[str, str], scratch: Path, log: Path) -> dict[str, Any]:
    """Run one child in a fresh process; its result (with its peak RSS) plus wall and CPU (user + system, all
    threads) seconds."""
    args_file, out_file = scratch / f"{kind}-args.json", scratch / f"{kind}-out.json"
    args_file.write_text(json.dumps(args))
    out_file.unlink(missing_ok=True)
    started = time.perf_counter()
    with open(log, "ab") as stream:
        process = subprocess.Popen([sys.executable, __file__, "--child", kind, str(args_file), str(out_file)],
                                   cwd=REPO_ROOT, env=env, stdout=stream, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{kind} child failed (exit {os.waitstatus_to_exitcode(status)}); see {log}")
    return {"wall_seconds": round(wall, 3), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 3),
            **json.loads(out_file.read_text())}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def moto_server(scratch: Path) -> Iterator[str]:
    from scripts.stack.local import aws_env, wait_for_http

    endpoint = f"http://127.0.0.1:{free_port()}"
    log = scratch / "moto.log"
    with open(log, "wb") as stream:
        moto = subprocess.Popen([str(REPO_ROOT / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p",
                                 endpoint.rsplit(":", 1)[1]], env=aws_env(endpoint), stdout=stream,
                                stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"{endpoint}/moto-api/", moto, log)
        yield endpoint
    finally:
        moto.terminate()
        moto.wait(timeout=30)


def nights(multiple: int, fleet_dir: Path, version_dir: Path, endpoint: str, scratch: Path,
           log: Path) -> dict[str, Any]:
    """The single and the sharded night of one fleet, each piece a fresh process; the S3 objects' sizes."""
    import boto3

    from scripts.stack.local import REGION, aws_env
    from scripts.stack.publish import publish

    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="local",
                          aws_secret_access_key="local")
    buckets = {name: f"scale-{multiple}x-{name}" for name in ("models", "data", "forecasts")}
    for bucket in buckets.values():
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    for name in ("train.csv", "store.csv"):
        client.upload_file(str(fleet_dir / name), buckets["data"], name)
    publish(client, version_dir, buckets["models"], "models")
    env = {**aws_env(endpoint), "DATA_BUCKET": buckets["data"], "FORECAST_BUCKET": buckets["forecasts"],
           "MODEL_REGISTRY": f"s3://{buckets['models']}/models", "SHARD_STORES": str(SHARD_STORES)}

    def run(handler: str, event: dict[str, Any], cache: str) -> dict[str, Any]:
        return measure("batch", {"handler": handler, "event": event},
                       {**env, "MODEL_CACHE_DIR": str(scratch / "cache" / cache)}, scratch, log)

    single = run("handler", {"run_date": RUN_DATE}, "single")
    sharded_date = str(np.datetime64(RUN_DATE) + 1)
    plan = run("plan_handler", {"run_date": sharded_date}, "plan")
    shards = [run("shard_handler", item, f"shard-{item['shard']}") for item in plan["result"]["shards"]]
    commit = run("commit_handler", {**plan["result"], "parts": [s["result"] for s in shards]}, "commit")

    def committed(run_date: str) -> bytes:
        from nightly_batch.output import read_committed

        return read_committed(client, buckets["forecasts"], f"forecasts/run_date={run_date}")[1]

    def size(key: str) -> int:
        return client.head_object(Bucket=buckets["forecasts"], Key=key)["ContentLength"]

    def step(measured: dict[str, Any]) -> dict[str, Any]:
        return {k: measured[k] for k in ("wall_seconds", "cpu_seconds", "peak_rss_mb", "import_seconds")}

    single_csv = committed(RUN_DATE)
    report = {
        "single": {**step(single), "timings": single["result"]["timings_seconds"], "rows": single["result"]["rows"]},
        "plan": {**step(plan), "timings": plan["result"]["plan_timings"], "shards": len(shards)},
        "shards": [{**step(s), "stores": s["result"]["stores"], "seconds_in_handler": s["result"]["seconds"]}
                   for s in shards],
        "commit": step(commit),
        "sharded_equals_single": committed(sharded_date) == single_csv,
        "sizes": {"forecasts_csv_bytes": len(single_csv),
                  "history_state_bytes": size(f"forecasts/run_date={RUN_DATE}/history_state.npz"),
                  "horizon_covariates_bytes": size(f"forecasts/run_date={sharded_date}/horizon_covariates.npz")},
    }
    for bucket in buckets.values():
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=item["Key"])
    return report


def measure_fleet(multiple: int, work: Path, data_dir: Path, endpoint: str, log: Path,
                  trained: dict[str, Any] | None) -> dict[str, Any]:
    """Every figure of one fleet; ``trained``: an earlier report's figures of this fleet, whose model version
    (still in ``work``) is reused instead of training again."""
    from scripts.stack.local import aws_env

    fleet_dir, scratch = work / f"fleet-{multiple}x", work / f"run-{multiple}x"
    scratch.mkdir(parents=True, exist_ok=True)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MODEL_", "FORECAST_"))}
    fleet = measure("fleet", {"data_dir": str(data_dir), "out": str(fleet_dir), "multiple": multiple}, base_env,
                    scratch, log)
    print(f"[{multiple}x] fleet {fleet['stores']} stores, {fleet['rows']} rows", file=sys.stderr, flush=True)
    if trained is None:
        train = measure("train", {"data_dir": str(fleet_dir), "out": str(scratch / "artifacts")}, base_env, scratch,
                        log)
        version_dir = Path(train["version_dir"])
    else:
        models = scratch / "artifacts" / "models"
        version_dir = models / json.loads((models / "latest.json").read_text())["version"]
        train = {k: v for k, v in trained["training"].items() if k != "peak_rss_mb"}  # ru_maxrss before VmHWM
    print(f"[{multiple}x] trained in {train['wall_seconds']} s", file=sys.stderr, flush=True)
    batch = nights(multiple, fleet_dir, version_dir, endpoint, scratch, log)
    print(f"[{multiple}x] nights: single {batch['single']['wall_seconds']} s", file=sys.stderr, flush=True)
    api_env = {**aws_env(endpoint), "MODEL_REGISTRY": str(version_dir.parent), "MODEL_CACHE_DIR": str(scratch / "api")}
    api = measure("api", {}, api_env, scratch, log)
    print(f"[{multiple}x] api one-store p99 {api['one_store']['p99_ms']} ms", file=sys.stderr, flush=True)
    return {"multiple": multiple, "stores": fleet["stores"], "train_rows_in_data": fleet["rows"],
            "train_csv_bytes": fleet["train_csv_bytes"],
            "training": {k: train[k] for k in ("wall_seconds", "cpu_seconds", "peak_rss_mb", "load_seconds", "rows",
                                               "fit_seconds", "calibration_rmspe", "rf_onnx_bytes",
                                               "store_state_bytes") if k in train},
            "batch": batch,
            "api": {k: api[k] for k in ("wall_seconds", "cpu_seconds", "peak_rss_mb", "cold_start_seconds", "stores",
                                        "one_store", "fifty_stores", "all_stores")}}


def main(argv: list[str] | None = None) -> int:
    from scripts.bench.scale_charts import render
    from training.config import data_dir

    parser = argparse.ArgumentParser(prog="scripts/bench/scale_bench.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--multiples", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--data-dir", help="train.csv + store.csv (default: the training data folder)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "scale-bench",
                        help="fleets, model versions and logs (large: 16x is ~0.6 GB of CSV)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports" / "scale_bench.json")
    parser.add_argument("--charts", type=Path, default=REPO_ROOT / "docs")
    parser.add_argument("--training-from", type=Path,
                        help="an earlier report: reuse its model versions (left in --work) and training figures")
    args = parser.parse_args(argv)
    earlier = {} if args.training_from is None else {
        f["multiple"]: f for f in json.loads(args.training_from.read_text())["fleets"]}
    args.work.mkdir(parents=True, exist_ok=True)
    log = args.work / "children.log"
    report: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                              "load_average": os.getloadavg(), "train_row_budget": TRAIN_ROW_BUDGET,
                              "shard_stores": SHARD_STORES, "limits": LIMITS, "package_mb": PACKAGE_MB,
                              "training_from": None if args.training_from is None else str(args.training_from),
                              "fleets": []}
    with moto_server(args.work) as endpoint:
        for multiple in args.multiples:
            report["fleets"].append(measure_fleet(multiple, args.work, data_dir(args.data_dir), endpoint, log,
                                                  earlier.get(multiple)))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(report, indent=2))
    report["load_average_end"] = os.getloadavg()
    args.out.write_text(json.dumps(report, indent=2))
    print(render(report, args.charts))
    return 0


if __name__ == "__main__":
    sys.exit(child_main(*sys.argv[2:]) if len(sys.argv) == 5 and sys.argv[1] == "--child" else main())
