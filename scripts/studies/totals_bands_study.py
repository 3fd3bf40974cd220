"""How should a total's band be drawn? Scores variants of the totals pool on a rolling backtest's windows, no
retraining (it fed docs/decisions/027-totals-bands.md).

For every window version a rolling ensemble backtest wrote (``<artifacts>/backtests/windows/<cutoff>/models/``,
``python -m training backtest --windows 8 --step 42 --model ensemble --without-lstm``), the served model forecasts
the 42 days after the cutoff (real Open/Promo/holiday columns) and the totals of each level
(:data:`training.totals_backtest.LEVELS`) are scored with the pool rebuilt from the version's stored windows
(``windows/<model>/...`` and ``windows/forest/...`` of ``totals_pool.npz``: the calibration window first, then the
forest's year-ago window and the further ones) in each variant:

- ``served``: the pool as the version serves it (day shocks by whole pool weeks from every window; state offsets,
  store offsets and cell noise from the calibration and year-ago windows);
- ``all_windows``: everything from every window (the further windows' state and store patterns too);
- ``two_windows``: everything from the calibration and the year-ago window alone (the pool of issue 24's first
  turn);
- ``days_only``: whole days resampled (day shocks and cell noise), no offsets that persist over the weeks;
- ``no_state``: without the state offsets (store offsets alone);
- ``independent``: every store-day independent (the cell noise of the whole residual, no shared part);
- ``calibration_only``: the served pool from the calibration window alone (the model's own errors, no year-ago
  window);
- ``own_store_errors``: the served pool, but store offsets and cell noise from the calibration window alone (the
  served model's own store-level errors), chain and state levels from both windows.

Printed and written (``--out``): per variant and level, pooled coverage of the ordinary windows (Christmas apart),
the lowest and highest window, the mean width against the summed store-day bands and the hindsight width.

Usage (about 2 min for eight windows)::

    .venv/bin/python scripts/studies/totals_bands_study.py --artifacts ARTIFACTS_OF_THE_BACKTEST \\
        --out reports/totals_bands.json
"""

import argparse
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import attach_covariates
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.registry import latest_version
from rossmann_core.models.version import ModelVersion, load_version, read_verified
from rossmann_core.totals.pool import TotalsPool, WindowResiduals, decompose
from training.backtest import holds_christmas
from training.data import Dataset, load_dataset
from training.totals_backtest import LevelScores, pooled_summary, score_levels
from training.totals_pool import read_windows

DAY = np.timedelta64(1, "D")


def variants(windows: list[WindowResiduals]) -> dict[str, TotalsPool]:
    """The pools compared, each from the same ``windows``."""
    served = decompose(windows)
    zero_states, zero_stores = np.zeros_like(served.state_offset), np.zeros_like(served.store_offset)
    independent = [WindowResiduals(w.log_residual - np.nanmean(w.log_residual), w.forecast, w.dates, w.states)
                   for w in windows]
    flat = decompose(independent)
    cells = np.quantile(np.concatenate([w.log_residual[np.isfinite(w.log_residual)] for w in windows]),
                        np.linspace(0, 1, len(served.cell_quantiles))).astype(np.float32)
    return {
        "served": served,
        "two_windows": decompose(windows[:2]),
        "all_windows": decompose(windows, seasonal_windows=len(windows)),
        "calibration_only": decompose(windows[:1]),
        "own_store_errors": replace(served, store_offset=decompose(windows[:1]).store_offset,
                                    cell_quantiles=decompose(windows[:1]).cell_quantiles),
        "days_only": replace(served, state_offset=zero_states, store_offset=zero_stores),
        "no_state": replace(served, state_offset=zero_states),
        "independent": replace(flat, day_shock=np.zeros_like(flat.day_shock),
                               state_offset=np.zeros_like(flat.state_offset), store_offset=np.zeros(1, np.float32),
                               cell_quantiles=cells),
    }


def window_scores(dataset: Dataset, version_dir: Path) -> tuple[str, bool, dict[str, dict[str, LevelScores]]]:
    """(cutoff, whether the window holds Christmas, variant -> level -> scores) of one window version."""
    version = load_version(version_dir, with_totals=False)
    model = version.best_model
    with np.load(io.BytesIO(read_verified(version_dir, version.manifest.files, version.manifest.totals.file))) as npz:
        windows = read_windows({key: npz[key] for key in npz.files}, model)
    cutoff = version.history.dates[-1]
    last = cutoff + HORIZON_DAYS * DAY
    panel = attach_covariates(version.history, dataset.panel.window(cutoff + DAY, last))
    forecast = forecast_panel(version, panel, version.history.n_days - 1, HORIZON_DAYS, model)
    day = ((forecast.date - dataset.panel.start) / DAY).astype(np.int64)
    actual = dataset.panel.sales[version.stores.index_of(forecast.store), day].reshape(len(version.stores.store_id),
                                                                                        HORIZON_DAYS)
    scores = {}
    for name, pool in variants(windows).items():
        served: ModelVersion = replace(version, totals={model: pool})
        scores[name] = score_levels(served, model, forecast, actual)
    return str(cutoff), holds_christmas(cutoff, HORIZON_DAYS), scores


def study(dataset: Dataset, artifacts: Path) -> dict[str, Any]:
    """Every variant's pooled figures over the windows under ``artifacts``."""
    registries = sorted((artifacts / "backtests" / "windows").glob("*/models"))
    results = [window_scores(dataset, registry / latest_version(str(registry))) for registry in registries]
    ordinary = [not christmas for _, christmas, _ in results]
    names = list(results[0][2])
    report = {"windows": [cutoff for cutoff, _, _ in results], "christmas": [not o for o in ordinary]}
    for name in names:
        per_window = [scores[name] for _, _, scores in results]
        report[name] = {"ordinary_windows": pooled_summary(per_window, ordinary),
                        "christmas_windows": pooled_summary(per_window, [not o for o in ordinary]),
                        "window_coverage": {level: [round(w[level].coverage, 3) for w in per_window]
                                            for level in per_window[0]}}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", type=Path, required=True)
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    from training.config import data_dir

    report = study(load_dataset(data_dir(args.data_dir)), args.artifacts)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
