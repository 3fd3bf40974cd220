"""Play N nights on the local stack: ``python -m scripts.stack.nights --nights N [--data-dir D]``.

Needs the stack of ``scripts/local_up.sh`` (its S3 server, buckets and published model, read from
``<state-dir>/stack.json``). Night 0 uploads ``train.csv`` without its last N days and runs the batch
for the day after the data's last day; each following night appends the next held-back day's actuals
(the whole file uploaded, as a data feed would) and runs the batch for the next day, whose monitor
scores the earlier nights' forecasts on the days that have arrived (``nightly_batch.monitor``). Prints
one JSON line per night: run date, data's last day, rows forecast, and the accuracy figures.
"""

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .local import aws_env, hold_back, invoke_batch
from .template import REPO_ROOT

NIGHT_FIELDS = ("rows", "rmspe", "coverage_90", "bias")


def last_day(train_csv: bytes) -> np.datetime64:
    """The latest Date of a Kaggle ``train.csv`` (ISO dates sort as text)."""
    lines = train_csv.splitlines()
    column = [name.strip().strip('"') for name in lines[0].decode().split(",")].index("Date")
    latest = max(line.split(b",")[column].strip().strip(b'"') for line in lines[1:] if line.strip())
    return np.datetime64(latest.decode(), "D")


def play_nights(client: Any, data_bucket: str, train_csv: bytes, nights: int,
                run_batch: Callable[[dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    """Nights 0..``nights``: upload the data without its last ``nights - k`` days, run the batch for the next
    day (``run_batch({"run_date": ...})``); return each night's summary (run date, data end, accuracy)."""
    end = last_day(train_csv)
    played = []
    for night in range(nights + 1):
        held_back = nights - night
        client.put_object(Bucket=data_bucket, Key="train.csv", Body=hold_back(train_csv, held_back))
        run_date = end - held_back + 1
        result = run_batch({"run_date": str(run_date)})
        accuracy = result.get("accuracy") or {}
        played.append({"night": night, "run_date": str(run_date), "data_last_day": str(end - held_back),
                       "status": result["status"], "forecast_rows": result.get("rows"),
                       **{key: accuracy.get(key) for key in NIGHT_FIELDS}, "accuracy_uri": accuracy.get("uri"),
                       "chain_totals_coverage_90": accuracy.get("totals", {}).get("chain_day", {}).get("coverage_90")})
    return played


def main(argv: list[str] | None = None) -> int:
    import boto3

    from training.config import data_dir

    parser = argparse.ArgumentParser(prog="python -m scripts.stack.nights", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nights", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, default=None, help="folder with the full train.csv")
    parser.add_argument("--state-dir", type=Path, default=REPO_ROOT / ".local")
    args = parser.parse_args(argv)
    if args.nights < 1:
        parser.error("--nights must be at least 1")
    stack_file = args.state_dir / "stack.json"
    if not stack_file.is_file():
        parser.error(f"{stack_file} not found: bring the local stack up first (scripts/local_up.sh)")
    stack = json.loads(stack_file.read_text())
    buckets = stack["buckets"]
    env = {**aws_env(stack["s3_endpoint"]), "MODEL_REGISTRY": f"s3://{buckets['ModelBucket']}/models",
           "DATA_BUCKET": buckets["DataBucket"], "FORECAST_BUCKET": buckets["ForecastBucket"],
           "MODEL_CACHE_DIR": str(args.state_dir / "cache" / "batch")}
    client = boto3.client("s3", endpoint_url=stack["s3_endpoint"], region_name=env["AWS_DEFAULT_REGION"],
                          aws_access_key_id="local", aws_secret_access_key="local")
    train = (data_dir(args.data_dir) / "train.csv").read_bytes()
    for night in play_nights(client, buckets["DataBucket"], train, args.nights, lambda e: invoke_batch(e, env)):
        print(json.dumps(night), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
