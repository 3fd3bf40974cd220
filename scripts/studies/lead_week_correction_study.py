"""Does a correction per lead week, fitted on other windows, help a blend? (issue 26, "a correction or shrink per
lead week fitted on several windows"), on a rolling backtest's window versions, no retraining.

For every window, the blend of ``--weights`` (default ``training.config.BLEND_WEIGHTS``) is formed from its members'
corrected log forecasts (:func:`scripts.studies.blend_weights_study.member_log_forecasts`). Leaving each window out in
turn, a factor per lead week (1..6) is fitted on the other windows' rows: the one that minimises their RMSPE,
``c = sum(f/y) / sum((f/y)^2)`` (``--trim``: less the share of rows with the largest errors); and a shrunk
version of it (``--shrink``: ``1 + s (c - 1)``). Each is scored on the
window left out with the yardstick (RMSPE without the window's worst store-day) and Kaggle's RMSPE. Printed as JSON:
per window and variant, and the mean, median and number of windows won against no correction.

    .venv/bin/python scripts/studies/lead_week_correction_study.py --artifacts <backtest artifacts> \\
        [--extra-artifacts <LSTM backtest artifacts>] [--weights '{"rf": 0.4, "hgb": 0.6}'] [--out report.json]
"""

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from scripts.studies.blend_weights_study import Window, backtest_windows
from training import config
from training.data import load_dataset
from training.metrics import rmspe, rmspe_without_worst_row

LEAD_WEEKS = 6


def blend_forecast(window: Window, weights: dict[str, float]) -> np.ndarray:
    """The blend's forecast in euros (n,)."""
    _, _, logs, _ = window
    return np.exp(sum(weight * logs[name] for name, weight in weights.items() if weight > 0))


def lead_week(window: Window) -> np.ndarray:
    """Lead week 0..5 of each row."""
    return np.minimum((window[3] - 1) // 7, LEAD_WEEKS - 1)


def fitted_factors(windows: list[Window], weights: dict[str, float], trim: float = 0.0) -> np.ndarray:
    """The RMSPE-optimal factor per lead week (LEAD_WEEKS,) on the rows of ``windows``, less the ``trim`` share of
    rows with the largest percentage errors (a handful of store-days selling a fraction of their forecast would
    otherwise set the factor: the optimum weighs rows by (forecast / actual)^2)."""
    ratio = np.concatenate([blend_forecast(w, weights) / w[1] for w in windows])
    week = np.concatenate([lead_week(w) for w in windows])
    kept = (ratio - 1) ** 2 <= np.quantile((ratio - 1) ** 2, 1 - trim)
    ratio, week = ratio[kept], week[kept]
    return np.array([ratio[week == k].sum() / (ratio[week == k] ** 2).sum() for k in range(LEAD_WEEKS)])


def study(windows: list[Window], weights: dict[str, float], shrinks: list[float], trim: float = 0.0) -> dict[str, Any]:
    """Leave-one-window-out scores of no correction and of each shrink of the per-lead-week factors."""
    variants: dict[str, list[dict[str, float]]] = {"none": []}
    variants.update({f"lead_week_shrink_{s}": [] for s in shrinks})
    factors_used = []
    for k, window in enumerate(windows):
        factors = fitted_factors([w for i, w in enumerate(windows) if i != k], weights, trim)
        factors_used.append([round(float(f), 4) for f in factors])
        forecast, actual = blend_forecast(window, weights), window[1]
        variants["none"].append({"rmspe": rmspe(actual, forecast),
                                 "rmspe_without_worst_row": rmspe_without_worst_row(actual, forecast)})
        for s in shrinks:
            corrected = forecast * (1 + s * (factors[lead_week(window)] - 1))
            variants[f"lead_week_shrink_{s}"].append({"rmspe": rmspe(actual, corrected),
                                                      "rmspe_without_worst_row": rmspe_without_worst_row(actual,
                                                                                                         corrected)})
    base = [v["rmspe_without_worst_row"] for v in variants["none"]]
    summary = {}
    for name, scores in variants.items():
        robust = [v["rmspe_without_worst_row"] for v in scores]
        summary[name] = {"mean_rmspe_without_worst_row": round(float(np.mean(robust)), 4),
                         "median_rmspe": round(float(np.median([v["rmspe"] for v in scores])), 4),
                         "windows_better_than_none": int(sum(r < b for r, b in zip(robust, base))),
                         "rmspe_without_worst_row": [round(r, 4) for r in robust]}
    return {"cutoffs": [w[0] for w in windows], "weights": weights, "trim": trim,
            "factors_fitted_without_each_window": factors_used,
            "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", default=str(config.DEFAULT_ARTIFACTS_DIR))
    parser.add_argument("--extra-artifacts", nargs="*", default=[])
    parser.add_argument("--weights", type=json.loads, default=dict(config.BLEND_WEIGHTS))
    parser.add_argument("--shrink", type=float, nargs="+", default=[0.5, 1.0])
    parser.add_argument("--trim", type=float, default=0.001, help="share of the worst rows left out of the fit")
    parser.add_argument("--data-dir")
    parser.add_argument("--out")
    args = parser.parse_args()
    dataset = load_dataset(config.data_dir(args.data_dir))
    windows = backtest_windows(dataset, Path(args.artifacts), [Path(p) for p in args.extra_artifacts])
    result = study(windows, args.weights, args.shrink, args.trim)
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
