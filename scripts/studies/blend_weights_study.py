"""Which blend weights? Scores every weighting of the members on a rolling backtest's windows, no retraining
(it fed docs/decisions/001-blend-weights.md and 004-lstm-outside-blend.md).

For every window version a rolling ensemble backtest wrote (``<artifacts>/backtests/windows/<cutoff>/models/``,
the version ``latest.json`` names; ``python -m training backtest --windows K --model ensemble``), each member
(every model of the version with its own graph) forecasts the 42 days after the cutoff through onnxruntime
with the real Open/Promo/holiday columns, corrected by its own calibration-window factor, exactly as the
backtest scores it. A blend is the weighted mean of those corrected log forecasts (as the ensemble serves;
its own correction, about 1.00, is left out). Printed:

- per window, every weighting on a grid (``--step``, weights summing to 1): Kaggle's RMSPE and the RMSPE
  without the window's worst store-day, ranked by the mean of the latter over the windows (the yardstick of
  issue 26), with the median of the former; the number of windows where the blend beats every member; the
  weighting of ``training.config.BLEND_WEIGHTS``;
- leave one window out: the best weighting on the other windows, scored on the one left out.

``--refit-corrections`` refits each member's correction on its calibration rows by training's current rule
(:func:`training.calibration.correction_factor`) instead of the version's: for backtests trained before that rule
changed (the refit gives the manifest's factor exactly under the rule a version was trained with).

``--extra-artifacts`` adds the members of further rolling backtests with the same cutoffs (e.g. an LSTM-only
backtest, ``--model lstm``): each window's members are those of every backtest, scored on the same rows.

Usage (about 1 min on 2 cores for four windows)::

    .venv/bin/python scripts/studies/blend_weights_study.py --artifacts <artifacts of the backtest> \\
        --out reports/blend.json
"""

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import Panel
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.manifest import BlendEntry
from rossmann_core.models.registry import latest_version
from rossmann_core.models.version import ModelVersion, load_version
from scripts.studies.interval_pool_study import calibration_panel, test_panel
from training import config
from training.calibration import correction_factor
from training.data import Dataset, load_dataset
from training.metrics import rmspe_without_worst_row

DAY = np.timedelta64(1, "D")


Window = tuple[str, np.ndarray, dict[str, np.ndarray], np.ndarray]
"""(cutoff, actual sales (n,), corrected log forecast (n,) per member, lead days (n,)) on a window's scored rows."""


def scored_members(
    dataset: Dataset, version: ModelVersion, panel: Panel, origin: int
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """(actual sales (n,), each member's corrected log forecast (n,), lead days (n,)) of the 42 days after
    ``origin`` of ``panel`` on open days with sales, every member (each model with its own graph) through
    onnxruntime; every member forecasts the same rows in the same order."""
    members = [name for name, entry in version.manifest.models.items() if not isinstance(entry, BlendEntry)]
    logs, actual, lead_days = {}, np.empty(0), np.empty(0, dtype=np.int64)
    for name in members:
        forecast = forecast_panel(version, panel, origin, HORIZON_DAYS, name)
        day = ((forecast.date - dataset.panel.start) / DAY).astype(np.int64)
        store = version.stores.index_of(forecast.store)
        sales = dataset.panel.sales[store, day]
        scored = np.isfinite(sales) & (sales > 0) & (dataset.panel.open[store, day] == 1)
        actual = sales[scored].astype(np.float64)
        logs[name] = np.log(forecast.sales[scored])
        lead_days = forecast.lead_days[scored]
    return actual, logs, lead_days


def refitted_corrections(dataset: Dataset, version: ModelVersion) -> dict[str, float]:
    """Each member's correction refitted on its calibration rows (C-41..C from origin C-42) by training's rule."""
    actual, logs, _ = scored_members(dataset, version, *calibration_panel(dataset, version.history.dates[-1]))
    return {name: correction_factor(actual, np.exp(log) / version.manifest.models[name].correction)
            for name, log in logs.items()}


def member_log_forecasts(dataset: Dataset, version_dir: Path, refit: bool = False) -> Window:
    """The :data:`Window` of a window version: :func:`scored_members` of the 42 days after its cutoff;
    ``refit``: corrected by :func:`refitted_corrections` instead of the version's factors."""
    version = load_version(version_dir)
    cutoff = version.history.dates[-1]
    actual, logs, lead_days = scored_members(dataset, version, *test_panel(dataset, version, cutoff))
    if refit:
        for name, factor in refitted_corrections(dataset, version).items():
            logs[name] += np.log(factor / version.manifest.models[name].correction)
    return str(cutoff), actual, logs, lead_days


def weight_grid(members: list[str], step: float) -> list[tuple[float, ...]]:
    """Every weighting of ``members`` on multiples of ``step`` that sums to 1."""
    units = round(1 / step)
    return [tuple(c * step for c in combo) for combo in itertools.product(range(units + 1), repeat=len(members))
            if sum(combo) == units]


def blend_rmspe(
    actual: np.ndarray, logs: dict[str, np.ndarray], members: list[str], weights: tuple[float, ...]
) -> float:
    """RMSPE of the weighted mean of the members' corrected log forecasts (n,) against ``actual`` (n,)."""
    blend = np.exp(sum(w * logs[name] for name, w in zip(members, weights)))
    return float(np.sqrt(np.mean(((actual - blend) / actual) ** 2)))


def blend_robust(
    actual: np.ndarray, logs: dict[str, np.ndarray], members: list[str], weights: tuple[float, ...]
) -> float:
    """The same blend's RMSPE without its worst row."""
    return rmspe_without_worst_row(actual, np.exp(sum(w * logs[name] for name, w in zip(members, weights))))


def study(windows: list[tuple[str, np.ndarray, dict[str, np.ndarray]]], step: float) -> dict[str, Any]:
    """The ranked grid, the served weighting and the leave-one-window-out choices (see the module's docstring)."""
    members = list(windows[0][2])
    grid = weight_grid(members, step)
    table = {w: [blend_rmspe(actual, logs, members, w) for _, actual, logs in windows] for w in grid}
    robust = {w: [blend_robust(actual, logs, members, w) for _, actual, logs in windows] for w in grid}
    alone = {name: [blend_robust(a, logs, [name], (1.0,)) for _, a, logs in windows] for name in members}

    def row(weights: tuple[float, ...]) -> dict[str, Any]:
        scores = robust[weights]
        beats = sum(scores[i] < min(alone[m][i] for m in members) for i in range(len(windows)))
        return {"weights": dict(zip(members, (round(w, 4) for w in weights))),
                "rmspe": [round(s, 4) for s in table[weights]],
                "rmspe_without_worst_row": [round(s, 4) for s in scores],
                "mean_rmspe_without_worst_row": round(float(np.mean(scores)), 4),
                "median_rmspe": round(float(np.median(table[weights])), 4), "windows_better_than_every_member": beats}

    ranked = sorted(grid, key=lambda w: np.mean(robust[w]))
    served = tuple(config.BLEND_WEIGHTS.get(name, 0.0) for name in members)
    served_row = min(grid, key=lambda w: sum(abs(a - b) for a, b in zip(w, served)))
    held_out = []
    for k, (cutoff, _, _) in enumerate(windows):
        best = min(grid, key=lambda w: np.mean([s for i, s in enumerate(robust[w]) if i != k]))
        held_out.append({"held_out_cutoff": cutoff, **row(best), "held_out_rmspe_without_worst_row":
                         round(robust[best][k], 4)})
    return {"cutoffs": [w[0] for w in windows],
            "members_rmspe_without_worst_row": {m: [round(s, 4) for s in alone[m]] for m in members},
            "best": [row(w) for w in ranked[:10]], "served": row(served_row), "leave_one_window_out": held_out}


def merged(window: Window, extra: Window) -> Window:
    """One window's members from two backtests; ValueError unless both scored the same cutoff and rows."""
    (cutoff, actual, logs, leads), (other_cutoff, other_actual, other_logs, other_leads) = window, extra
    if cutoff != other_cutoff or not (np.array_equal(actual, other_actual) and np.array_equal(leads, other_leads)):
        raise ValueError(f"window {cutoff}: the other backtest scored {other_cutoff} or other rows")
    return cutoff, actual, {**logs, **other_logs}, leads


def backtest_windows(
    dataset: Dataset, artifacts: Path, extra: list[Path] | None = None, refit: bool = False
) -> list[Window]:
    """:func:`member_log_forecasts` of every window version of a rolling backtest, latest cutoff first, with the
    members of the ``extra`` backtests of the same cutoffs (:func:`merged`)."""
    folders = sorted((artifacts / "backtests" / "windows").iterdir(), reverse=True)
    windows = [member_log_forecasts(dataset, f / "models" / latest_version(str(f / "models")), refit)
               for f in folders]
    for other in extra or []:
        windows = [merged(w, e) for w, e in zip(windows, backtest_windows(dataset, other, refit=refit), strict=True)]
    return windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", default=str(config.DEFAULT_ARTIFACTS_DIR))
    parser.add_argument("--extra-artifacts", nargs="*", default=[],
                        help="further rolling backtests (same cutoffs) whose members join the study")
    parser.add_argument("--refit-corrections", action="store_true",
                        help="refit every member's correction by training's current rule")
    parser.add_argument("--data-dir")
    parser.add_argument("--step", type=float, default=0.05, help="grid step of the weights")
    parser.add_argument("--out", help="also write the figures as JSON")
    args = parser.parse_args()
    dataset = load_dataset(config.data_dir(args.data_dir))
    windows = backtest_windows(dataset, Path(args.artifacts), [Path(p) for p in args.extra_artifacts],
                               args.refit_corrections)
    result = study([w[:3] for w in windows], args.step)
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
