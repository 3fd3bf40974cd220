"""What reading a night's data costs, whole file vs delta, for fleets of 1x and 16x the stores.

For each fleet (:mod:`scripts.bench.scale_fleet`: copies of the real stores with their own levels and noise), the
night before the data's last day is built from the whole file (not timed); then the last night is timed both ways:

- **full**: parse the whole ``train.csv`` and build the history panel (:func:`nightly_batch.run.history_for`);
- **delta**: read the committed history state's bytes, take its rows, parse one day's file
  (``daily/date=YYYY-MM-DD.csv``), append it (:func:`nightly_batch.feed.appended`) and build the same panel.

Both give the same panel (checked). S3 transfer is left out: the whole file is 31 MB at 1x and 516 MB at 16x, the
state 4 MB and 65 MB, a day's file 35 kB and 560 kB. Results feed ``docs/scaling.md``.

    .venv/bin/python -m scripts.bench.bench_feed --multiples 1 16 --work <scratch folder outside the repo>
"""

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nightly_batch.feed import appended, rows_of_state
from nightly_batch.run import history_for
from rossmann_core.data.daily_csv import HISTORY_COLUMNS, parse_daily_bytes
from rossmann_core.data.dates import DAY
from rossmann_core.data.panel import empty_panel
from rossmann_core.data.stores import StoreTable, parse_store_text
from rossmann_core.serving.history_state import read_state, state_bytes
from scripts.bench.scale_fleet import build_fleet
from scripts.stack.replay_feed_faults import keep
from training.config import STATE_HISTORY_DAYS, data_dir

REPEATS = 3


@dataclass(frozen=True)
class StandIn:
    """What :func:`history_for` reads of a model version: its stores, its state's length and origin, its name."""

    stores: StoreTable
    history: object
    name: str = "bench"


def best_seconds(run: object) -> float:
    """The fastest of REPEATS calls of ``run``, seconds."""
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def measure(multiple: int, work: Path, source: Path) -> dict[str, float]:
    """The figures of one fleet."""
    fleet = work / f"fleet{multiple}"
    build_fleet(source, fleet, multiple)
    train, store_bytes = (fleet / "train.csv").read_bytes(), (fleet / "store.csv").read_bytes()
    stores = parse_store_text(store_bytes.decode(), "store.csv")
    rows = parse_daily_bytes(train, "train.csv", HISTORY_COLUMNS)
    last = rows.date.max()
    model = StandIn(stores, empty_panel(stores.store_id, last - STATE_HISTORY_DAYS * DAY, last - DAY))
    before = history_for(model, rows.take(rows.date < last), store_bytes, "bench")
    state = state_bytes(before.panel, before.stores)
    daily = keep(train, lambda date, _: date == str(last))

    def full() -> object:
        return history_for(model, parse_daily_bytes(train, "train.csv", HISTORY_COLUMNS), store_bytes, "bench")

    def delta() -> object:
        panel, _ = read_state(state, "state")
        new = parse_daily_bytes(daily, "daily", HISTORY_COLUMNS)
        return history_for(model, appended(rows_of_state(panel, "state"), new), store_bytes, "bench")

    for name in ("sales", "open", "promo", "state_holiday", "school_holiday"):
        np.testing.assert_array_equal(getattr(full().panel, name), getattr(delta().panel, name), err_msg=name)
    return {"multiple": multiple, "stores": len(stores.store_id), "train_csv_mb": len(train) / 2**20,
            "state_mb": len(state) / 2**20, "day_file_kb": len(daily) / 2**10,
            "full_s": best_seconds(full), "delta_s": best_seconds(delta)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--multiples", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args(argv)
    print("| fleet | stores | train.csv (MB) | state (MB) | day file (kB) | whole file (s) | delta (s) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for multiple in args.multiples:
        f = measure(multiple, args.work, data_dir(args.data_dir))
        print(f"| {f['multiple']}x | {f['stores']:,} | {f['train_csv_mb']:.0f} | {f['state_mb']:.1f} | "
              f"{f['day_file_kb']:.0f} | {f['full_s']:.2f} | {f['delta_s']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
