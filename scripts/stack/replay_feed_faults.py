"""Replay the data-feed faults of issue 25 against the nightly batch on a local S3 server, with real data.

Each fault is played on an emptied forecast bucket (after a committed night on the day before when the fault needs
one) by the batch handler itself, and compared with the clean night on the whole file:

- ``clean``: the whole ``train.csv`` (the reference);
- ``few_stores_late``: the newest day lacks ``--late-stores`` stores (under the fallback threshold): the night uses
  it, the late stores' day is unknown, not closed;
- ``region_late``: the newest day holds only 500 stores: the night falls back to the day before and says so;
- ``day_missing_two_back``: no row at all two days before the newest;
- ``newest_day_only`` / ``last_60_days``: a ``train.csv`` of the newest day / the last 60 days after a committed
  night on the day before (appended to its state), and the newest day alone with no committed night (refused);
- ``daily_file``: the newest day as ``daily/date=YYYY-MM-DD.csv`` after a committed night on the day before;
- ``older_file_again``: the file without its newest day delivered again after the clean night (the pointer stays);
- ``gzip``, ``bom``, ``latin1_byte``: the whole file gzip-compressed, with a UTF-8 BOM, with one non-UTF-8 byte.

Printed per fault: the night's status (or error), origin, data mode, fallback and missing stores, whether the
state pointer moved, and the largest relative change of a store-day forecast against the clean night on the same
days (``worst_change``; the clean night is recomputed from the same origin when the fault's origin differs).

    .venv/bin/python -m scripts.stack.replay_feed_faults --version-dir <a model version trained on real data> \\
        [--data-dir D] [--scratch <folder outside the repo>]
"""

import argparse
import csv
import gzip
import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from scripts.bench.scale_bench import moto_server
from scripts.stack.local import REGION, aws_env, hold_back
from scripts.stack.nights import last_day
from scripts.stack.publish import publish

BUCKETS = {"models": "replay-models", "data": "replay-data", "forecasts": "replay-forecasts"}
REGION_STORES = 500


def rows_of(train: bytes) -> tuple[bytes, list[bytes], int]:
    """(header line, data lines, the Date column) of a Kaggle-format file."""
    header, *lines = [line for line in train.split(b"\n") if line.strip()]
    return header, lines, [n.strip(b'"') for n in header.split(b",")].index(b"Date")


def keep(train: bytes, wanted: Callable[[str, int], bool]) -> bytes:
    """The file with the rows ``wanted(date, store)`` keeps."""
    header, lines, column = rows_of(train)
    kept = [line for line in lines if wanted(line.split(b",")[column].decode(), int(line.split(b",")[0]))]
    return b"\n".join([header, *kept]) + b"\n"


def forecasts_of(client: Any, run_date: str) -> dict[tuple[int, str], float]:
    """(store, date) -> sales of a committed night."""
    from nightly_batch.output import read_committed

    _, body = read_committed(client, BUCKETS["forecasts"], f"forecasts/run_date={run_date}")
    return {(int(r["store"]), r["date"]): float(r["sales"]) for r in csv.DictReader(io.StringIO(body.decode()))}


def worst_change(fault: dict[tuple[int, str], float], clean: dict[tuple[int, str], float]) -> float | None:
    """Largest |fault / clean - 1| over the store-days both forecast open."""
    changes = [abs(fault[key] / clean[key] - 1) for key in fault.keys() & clean.keys() if clean[key] > 0]
    return max(changes) if changes else None


class Replay:
    """The local stack of one replay: the S3 client, the batch handler's settings and the clean file."""

    def __init__(self, client: Any, train: bytes, stores: bytes, cache: Path) -> None:
        self.client, self.train, self.stores = client, train, stores
        self.environ = {"DATA_BUCKET": BUCKETS["data"], "FORECAST_BUCKET": BUCKETS["forecasts"],
                        "MODEL_REGISTRY": f"s3://{BUCKETS['models']}/models", "MODEL_CACHE_DIR": str(cache)}
        self.newest = last_day(train)
        self.clean_by_origin: dict[str, dict[tuple[int, str], float]] = {}

    def empty(self) -> None:
        for bucket in (BUCKETS["data"], BUCKETS["forecasts"]):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                for item in page.get("Contents", []):
                    self.client.delete_object(Bucket=bucket, Key=item["Key"])
        self.client.put_object(Bucket=BUCKETS["data"], Key="store.csv", Body=self.stores)

    def night(self, run_date: np.datetime64, files: dict[str, bytes]) -> dict[str, Any]:
        from nightly_batch.handler import handle

        for key, body in files.items():
            self.client.put_object(Bucket=BUCKETS["data"], Key=key, Body=body)
        return handle({"run_date": str(run_date)}, "replay", self.environ)

    def clean(self, origin: str) -> dict[tuple[int, str], float]:
        """The clean night's forecasts from ``origin`` (the whole file up to it)."""
        if origin not in self.clean_by_origin:
            self.empty()
            days = int((self.newest - np.datetime64(origin)) / np.timedelta64(1, "D"))
            run_date = np.datetime64(origin) + 1
            assert self.night(run_date, {"train.csv": hold_back(self.train, days)})["status"] == "ok"
            self.clean_by_origin[origin] = forecasts_of(self.client, str(run_date))
        return self.clean_by_origin[origin]

    def play(self, name: str, files: dict[str, bytes], day_before: bool = False,
             after_clean: bool = False) -> dict[str, Any]:
        """One fault: its files delivered for the night after the newest day."""
        self.empty()
        if day_before:
            assert self.night(self.newest, {"train.csv": hold_back(self.train, 1)})["status"] == "ok"
            self.client.delete_object(Bucket=BUCKETS["data"], Key="train.csv")
        if after_clean:
            assert self.night(self.newest + 1, {"train.csv": self.train})["status"] == "ok"
        run_date = self.newest + (2 if after_clean else 1)
        result = self.night(run_date, files)
        row = {"fault": name, "status": result["status"]}
        if result["status"] != "ok":
            return {**row, "error": result["error"][:300]}
        feed = result.get("data_feed") or {}
        fault = forecasts_of(self.client, str(run_date))
        return {**row, "origin": result["origin"], "mode": result["data"]["mode"], "fell_back": feed.get("fell_back"),
                "stores_missing_newest_day": feed.get("stores_missing_newest_day"),
                "days_without_rows": feed.get("days_without_rows"),
                "pointer": result.get("state_pointer", {}).get("moved"),
                "worst_change": worst_change(fault, self.clean(result["origin"]))}


def faults(replay: Replay, late_stores: int) -> list[dict[str, Any]]:
    """Every fault's row."""
    train, newest = replay.train, str(replay.newest)
    two_back = str(replay.newest - 2)
    store_ids = sorted({int(line.split(b",")[0]) for line in rows_of(train)[1]})
    late = set(store_ids[-late_stores:])
    region = set(store_ids[:REGION_STORES])
    newest_only = keep(train, lambda date, _: date == newest)
    latin1 = train.replace(b"\n", b"\n\xe9", 1)
    return [
        replay.play("clean", {"train.csv": train}),
        replay.play("few_stores_late", {"train.csv": keep(train, lambda d, s: d != newest or s not in late)}),
        replay.play("region_late", {"train.csv": keep(train, lambda d, s: d != newest or s in region)}),
        replay.play("day_missing_two_back", {"train.csv": keep(train, lambda d, _: d != two_back)}),
        replay.play("newest_day_only", {"train.csv": newest_only}, day_before=True),
        replay.play("newest_day_only_no_state", {"train.csv": newest_only}),
        replay.play("last_60_days", {"train.csv": keep(train, lambda d, _: d > str(replay.newest - 60))},
                    day_before=True),
        replay.play("daily_file", {f"daily/date={newest}.csv": newest_only}, day_before=True),
        replay.play("older_file_again", {"train.csv": hold_back(train, 1)}, after_clean=True),
        replay.play("gzip", {"train.csv": gzip.compress(train)}),
        replay.play("bom", {"train.csv": b"\xef\xbb\xbf" + train}),
        replay.play("latin1_byte", {"train.csv": latin1}),
    ]


def main(argv: list[str] | None = None) -> int:
    import boto3

    from training.config import data_dir

    parser = argparse.ArgumentParser(prog="python -m scripts.stack.replay_feed_faults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version-dir", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--scratch", type=Path)
    parser.add_argument("--late-stores", type=int, default=50)
    args = parser.parse_args(argv)
    source = data_dir(args.data_dir)
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="replay-"))
    scratch.mkdir(parents=True, exist_ok=True)
    with moto_server(scratch) as endpoint:
        os.environ.update(aws_env(endpoint))
        client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION)
        for bucket in BUCKETS.values():
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        publish(client, args.version_dir, BUCKETS["models"], "models")
        replay = Replay(client, (source / "train.csv").read_bytes(), (source / "store.csv").read_bytes(),
                        scratch / "cache")
        for row in faults(replay, args.late_stores):
            print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
