"""Synthetic fleets for the scale benchmark: ``multiple`` times the stores of a Kaggle-format data folder.

Copy ``j`` (1..multiple-1) of every store ``s`` is store ``s + j * max_id``: the same days, DayOfWeek,
Open, Promo, StateHoliday and SchoolHoliday as ``s`` (the real calendar and covariate structure) and the
same ``store.csv`` metadata, with its own sales level (one lognormal factor per store, sigma
LEVEL_SIGMA) and its own daily noise (one lognormal factor per row, sigma NOISE_SIGMA): Sales and
Customers are the original's times both, rounded; closed days and zero-sales days stay 0. Copy 0 is
the data itself. Rows are written sorted like Kaggle's file (date descending, then store).

    .venv/bin/python -m scripts.bench.scale_fleet --multiple 4 --out /tmp/fleet4 [--data-dir D] [--seed 0]
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

LEVEL_SIGMA = 0.25
"""A copy's sales level: the original's times exp(N(0, 0.25)), so most copies sell 0.6-1.6 times as much."""
NOISE_SIGMA = 0.08
"""A copy's daily noise: times exp(N(0, 0.08)) per row, about the day-to-day scatter left after weekday and promo."""
STAMP = "fleet.json"


def fleet_frames(train: pd.DataFrame, stores: pd.DataFrame, multiple: int,
                 seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, stores) of the fleet: ``multiple`` copies of every store of ``train`` / ``stores`` (Kaggle columns)."""
    if multiple < 1:
        raise ValueError(f"multiple must be 1 or more, got {multiple}")
    rng = np.random.default_rng(seed)
    max_id = int(stores["Store"].max())
    ids = stores["Store"].to_numpy()
    position = np.searchsorted(ids, train["Store"].to_numpy())
    trains, tables = [train], [stores]
    for copy in range(1, multiple):
        level = np.exp(rng.normal(0.0, LEVEL_SIGMA, size=len(ids)))[position]
        factor = level * np.exp(rng.normal(0.0, NOISE_SIGMA, size=len(train)))
        trains.append(train.assign(Store=train["Store"] + copy * max_id,
                                   Sales=np.rint(train["Sales"].to_numpy() * factor).astype(np.int64),
                                   Customers=np.rint(train["Customers"].to_numpy() * factor).astype(np.int64)))
        tables.append(stores.assign(Store=stores["Store"] + copy * max_id))
    fleet = pd.concat(trains, ignore_index=True)
    order = np.lexsort((fleet["Store"].to_numpy(), -pd.to_datetime(fleet["Date"]).to_numpy().astype(np.int64)))
    return fleet.iloc[order].reset_index(drop=True), pd.concat(tables, ignore_index=True)


def build_fleet(data_dir: Path, out_dir: Path, multiple: int, seed: int = 0) -> dict[str, object]:
    """Write the fleet's ``train.csv`` and ``store.csv`` into ``out_dir`` (reused if its stamp matches);
    return the stamp: multiple, seed, stores, rows, bytes, seconds."""
    wanted = {"multiple": multiple, "seed": seed, "source": str(data_dir.resolve())}
    stamp = out_dir / STAMP
    if stamp.is_file() and {k: v for k, v in json.loads(stamp.read_text()).items() if k in wanted} == wanted:
        return json.loads(stamp.read_text())
    started = time.perf_counter()
    train = pd.read_csv(data_dir / "train.csv", dtype={"StateHoliday": str}, keep_default_na=False)
    stores = pd.read_csv(data_dir / "store.csv", dtype=str, keep_default_na=False)
    stores["Store"] = stores["Store"].astype(np.int64)
    fleet, table = fleet_frames(train, stores.sort_values("Store", ignore_index=True), multiple, seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    fleet.to_csv(out_dir / "train.csv", index=False)
    table.to_csv(out_dir / "store.csv", index=False)
    info = {**wanted, "stores": len(table), "rows": len(fleet),
            "train_csv_bytes": (out_dir / "train.csv").stat().st_size,
            "seconds": round(time.perf_counter() - started, 1)}
    stamp.write_text(json.dumps(info, indent=2))
    return info


def main(argv: list[str] | None = None) -> int:
    from training.config import data_dir

    parser = argparse.ArgumentParser(prog="python -m scripts.bench.scale_fleet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--multiple", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--data-dir", help="train.csv + store.csv (default: the training data folder)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps(build_fleet(data_dir(args.data_dir), args.out, args.multiple, args.seed), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
