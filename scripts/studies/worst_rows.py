"""Which store-days make a backtest window's RMSPE? Lists the largest squared percentage errors (it fed
docs/decisions/008-rmspe-without-worst-row.md).

Reads the model versions a rolling backtest trained (``artifacts/backtests/windows/<cutoff>/models/``),
forecasts each window's 42 days again through onnxruntime with the data's Open/Promo/holiday columns,
and prints per window: RMSPE, the ``--top`` rows with the largest squared percentage error (store,
date, actual, forecast), and the RMSPE left without the worst 10, 30 and 100 rows.

Usage: ``.venv/bin/python scripts/studies/worst_rows.py [--artifacts artifacts] [--model rf] [--top 12] [CUTOFF ...]``.
"""

import argparse
from pathlib import Path

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import attach_covariates
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.version import load_version
from training import config
from training.data import Dataset, load_dataset

DAY = np.timedelta64(1, "D")


def window_errors(dataset: Dataset, version_dir: Path, model: str) -> dict[str, np.ndarray]:
    """Scored rows of a window version's forecast: store, date, actual, forecast, relative error."""
    version = load_version(version_dir)
    cutoff = version.history.dates[-1]
    panel = attach_covariates(version.history, dataset.panel.window(cutoff + DAY, cutoff + HORIZON_DAYS * DAY))
    forecast = forecast_panel(version, panel, version.history.n_days - 1, HORIZON_DAYS, model)
    day = ((forecast.date - dataset.panel.start) / DAY).astype(np.int64)
    store = version.stores.index_of(forecast.store)
    actual = dataset.panel.sales[store, day]
    scored = np.isfinite(actual) & (actual > 0) & (dataset.panel.open[store, day] == 1)
    return {
        "store": forecast.store[scored], "date": forecast.date[scored], "actual": actual[scored],
        "forecast": forecast.sales[scored], "error": (actual[scored] - forecast.sales[scored]) / actual[scored],
    }


def report(cutoff: str, rows: dict[str, np.ndarray], top: int) -> None:
    squared = rows["error"] ** 2
    order = np.argsort(-squared)
    print(f"window after {cutoff}: {len(squared)} rows, RMSPE {np.sqrt(squared.mean()):.4f}")
    for i in order[:top]:
        print(f"  store {rows['store'][i]:>4} {rows['date'][i]}  actual {rows['actual'][i]:>8.0f}  "
              f"forecast {rows['forecast'][i]:>8.0f}  squared error {squared[i]:.1f}")
    for k in (10, 30, 100):
        print(f"  without the worst {k}: RMSPE {np.sqrt(squared[order[k:]].mean()):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cutoffs", nargs="*", help="window cutoffs (default: every window found)")
    parser.add_argument("--artifacts", default=str(config.DEFAULT_ARTIFACTS_DIR))
    parser.add_argument("--data-dir")
    parser.add_argument("--model", default="rf")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    dataset = load_dataset(config.data_dir(args.data_dir))
    windows = Path(args.artifacts) / "backtests" / "windows"
    for cutoff in args.cutoffs or sorted(p.name for p in windows.iterdir()):
        models = windows / cutoff / "models"
        version_dir = sorted(p for p in models.iterdir() if p.is_dir() and not p.name.startswith("."))[-1]
        report(cutoff, window_errors(dataset, version_dir, args.model), args.top)


if __name__ == "__main__":
    main()
