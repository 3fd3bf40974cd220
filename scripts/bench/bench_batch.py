"""Benchmark the nightly batch: every store x 42 days, S3 reads and writes against a local S3-API server.

The moto server runs in its own process on 127.0.0.1; the batch runs in a fresh Python process, as a
Lambda cold start would: import the handler, then ``--runs`` invocations of it with the genuine
scheduled event (the first fetches and loads the model, later ones reuse it, as a warm container).
Prints one JSON document (also written to ``--out``) with per-stage wall timings, CPU seconds per run
(all threads) and peak RSS.

    .venv/bin/python scripts/bench/bench_batch.py [--data-dir D] [--model-dir M] [--runs 3] [--out F]
"""

import argparse
import importlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
EVENT = REPO_ROOT / "events" / "batch_scheduled.json"


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads: less sensitive to other jobs than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(runs: int) -> dict:
    """Runs in the fresh process: import the handler, invoke it ``runs`` times."""
    started = time.perf_counter()
    module = importlib.import_module("batch_lambda")
    import_seconds = time.perf_counter() - started

    class Context:
        aws_request_id = "bench"
        function_name = "rossmann-forecast-batch"
        memory_limit_in_mb = 3538
        invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:rossmann-forecast-batch"

    results = []
    for _ in range(runs):
        cpu_before = cpu_seconds()
        result = module.handler(json.loads(EVENT.read_text()), Context())
        if result["status"] != "ok":
            raise SystemExit(f"batch failed: {result['error']}")
        results.append({k: result[k] for k in ("seconds", "rows", "stores", "timings_seconds", "forecasts_bytes")})
        results[-1]["cpu_seconds"] = round(cpu_seconds() - cpu_before, 3)
    return {"import_seconds": round(import_seconds, 3), "runs": results,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def parent(args: argparse.Namespace) -> dict:
    import boto3

    from scripts.stack.local import REGION, aws_env, wait_for_http
    from scripts.stack.publish import publish, resolve_version_dir
    from scripts.stack.template import bucket_names, load_template
    from training.config import data_dir

    data = data_dir(args.data_dir)
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as scratch:
        endpoint = f"http://127.0.0.1:{args.moto_port}"
        env = aws_env(endpoint)
        log = Path(scratch) / "moto.log"
        with open(log, "wb") as stream:
            moto = subprocess.Popen([str(REPO_ROOT / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p",
                                     str(args.moto_port)], env=env, stdout=stream, stderr=subprocess.STDOUT)
        try:
            wait_for_http(f"{endpoint}/moto-api/", moto, log)
            client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="local",
                                  aws_secret_access_key="local")
            buckets = bucket_names(load_template())
            for bucket in buckets.values():
                client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
            for name in ("train.csv", "store.csv"):
                client.upload_file(str(data / name), buckets["DataBucket"], name)
            version_dir = resolve_version_dir(args.model_dir, data, Path(scratch) / "artifacts")
            publish(client, version_dir, buckets["ModelBucket"], "models")
            child_env = {**env, "MODEL_REGISTRY": f"s3://{buckets['ModelBucket']}/models",
                         "DATA_BUCKET": buckets["DataBucket"], "FORECAST_BUCKET": buckets["ForecastBucket"],
                         "MODEL_CACHE_DIR": str(Path(scratch) / "cache")}
            started = time.perf_counter()
            run = subprocess.run([sys.executable, __file__, "--child", "--runs", str(args.runs)], env=child_env,
                                 cwd=REPO_ROOT, capture_output=True, text=True, check=False)
            process_seconds = time.perf_counter() - started
        finally:
            moto.terminate()
            moto.wait(10)
    if run.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{run.stderr[-3000:]}")
    measured = json.loads(run.stdout.strip().splitlines()[-1])
    cold = measured["import_seconds"] + measured["runs"][0]["seconds"]
    warm = [r["seconds"] for r in measured["runs"][1:]]
    return {
        "model_version": version_dir.name,
        "model_bytes": sum(p.stat().st_size for p in version_dir.iterdir()),
        "data_bytes": (data / "train.csv").stat().st_size,
        "cold_seconds": round(cold, 3),
        "warm_seconds": sorted(warm),
        "fresh_process_seconds": round(process_seconds, 3),
        **measured,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir")
    parser.add_argument("--model-dir", type=Path, help="model version or models/ folder (default artifacts/models)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--moto-port", type=int, default=5390)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    result = child(args.runs) if args.child else parent(args)
    text = json.dumps(result, indent=None if args.child else 2)
    print(text)
    if args.out and not args.child:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
