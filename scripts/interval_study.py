"""Which interval calibration holds on unseen weeks? Scores schemes on a rolling backtest's windows.

Reads the model versions a rolling backtest trained (``artifacts/backtests/windows/<cutoff>/models/``,
written by ``python -m training backtest --windows K``), forecasts each window's 42 days again
through onnxruntime (no training), and for every model (rf, lstm, ensemble) prints the 90 % interval's
coverage and mean relative width (upper - lower) / sales on each window under these schemes:

- ``own``: the version's own per-lead-week quantiles, from the 42 days before its cutoff (today's);
- ``past``: per lead week, the 5 % / 95 % quantiles of the log residuals of the *earlier* windows
  (only what a model trained at that cutoff could have known; the earliest window has none);
- ``others``: the same pooled over every other window (leave one window out: seasons mixed);
- ``own x k``: the own quantiles scaled by one factor k, chosen on the other windows to cover 90 %.

It also scores the point forecast's calibration choices on each window: RMSPE with the version's own
correction factor, with none, and with one fitted on the earlier windows; and, for the ensemble, the
blend weight chosen on the version's calibration window against one chosen on the earlier windows.

Usage: ``.venv/bin/python scripts/interval_study.py [--artifacts artifacts] [--data-dir D] [--out F.json]``.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import attach_covariates
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.version import load_version
from training import config
from training.data import Dataset, load_dataset
from training.metrics import rmspe, rmspe_correction

LEVEL = 0.90
WEEKS = HORIZON_DAYS // 7


def window_residuals(dataset: Dataset, version_dir: Path) -> dict[str, dict[str, np.ndarray]]:
    """Per model: log residuals, lead weeks and the version's own log bounds on the scored rows."""
    version = load_version(version_dir)
    cutoff = version.history.dates[-1]
    end = cutoff + np.timedelta64(HORIZON_DAYS, "D")
    panel = attach_covariates(version.history, dataset.panel.window(cutoff + np.timedelta64(1, "D"), end))
    origin = version.history.n_days - 1
    out = {}
    for model in version.models:
        forecast = forecast_panel(version, panel, origin, HORIZON_DAYS, model)
        day = ((forecast.date - dataset.panel.start) / np.timedelta64(1, "D")).astype(np.int64)
        store = version.stores.index_of(forecast.store)
        actual = dataset.panel.sales[store, day]
        scored = np.isfinite(actual) & (actual > 0) & (dataset.panel.open[store, day] == 1)
        sales = forecast.sales[scored]
        out[model] = {
            "actual": actual[scored],
            "log_sales": np.log(sales),
            "correction": np.full(len(sales), version.manifest.models[model].correction),
            "residual": np.log(actual[scored]) - np.log(sales),
            "week": (forecast.lead_days[scored] - 1) // 7,
            "own_lower": np.log(forecast.lower[scored] / sales),
            "own_upper": np.log(forecast.upper[scored] / sales),
        }
    return out


def quantile_bounds(residuals: np.ndarray, weeks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) log quantiles per lead week, shape (WEEKS,)."""
    tail = (1 - LEVEL) / 2
    lower = np.array([np.quantile(residuals[weeks == w], tail) for w in range(WEEKS)])
    upper = np.array([np.quantile(residuals[weeks == w], 1 - tail) for w in range(WEEKS)])
    return lower, upper


def score(residual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> dict[str, float]:
    """Coverage of log bounds per row and the mean relative width exp(upper) - exp(lower) (in sales)."""
    inside = (residual >= lower) & (residual <= upper)
    return {"coverage": float(inside.mean()), "width": float(np.mean(np.exp(upper) - np.exp(lower)))}


def scale_for(rows: list[dict[str, np.ndarray]]) -> float:
    """The factor k by which the own log bounds must grow so that pooled ``rows`` are covered at LEVEL."""
    grid = np.round(np.arange(0.8, 2.01, 0.01), 2)
    residual = np.concatenate([r["residual"] for r in rows])
    lower = np.concatenate([r["own_lower"] for r in rows])
    upper = np.concatenate([r["own_upper"] for r in rows])
    for k in grid:
        if ((residual >= k * lower) & (residual <= k * upper)).mean() >= LEVEL:
            return float(k)
    return float(grid[-1])


def study(windows: dict[str, dict[str, dict[str, np.ndarray]]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per model and window (cutoff), the score of every scheme."""
    cutoffs = sorted(windows)
    result: dict[str, dict[str, dict[str, float]]] = {}
    for model in windows[cutoffs[0]]:
        for i, cutoff in enumerate(cutoffs):
            rows = windows[cutoff][model]
            schemes = {"own": score(rows["residual"], rows["own_lower"], rows["own_upper"])}
            for name, pool in (("past", cutoffs[:i]), ("others", cutoffs[:i] + cutoffs[i + 1 :])):
                if pool:
                    lower, upper = quantile_bounds(
                        np.concatenate([windows[c][model]["residual"] for c in pool]),
                        np.concatenate([windows[c][model]["week"] for c in pool]),
                    )
                    schemes[name] = score(rows["residual"], lower[rows["week"]], upper[rows["week"]])
            k = scale_for([windows[c][model] for c in cutoffs if c != cutoff])
            schemes[f"own x k (k={k:.2f})"] = score(rows["residual"], k * rows["own_lower"], k * rows["own_upper"])
            result.setdefault(model, {})[cutoff] = schemes
    return result


def point_study(windows: dict[str, dict[str, dict[str, np.ndarray]]]) -> dict[str, dict[str, dict[str, float]]]:
    """Per model and window: RMSPE with the own correction, none, and one fitted on the earlier windows;
    for the ensemble also with the RF weight (grid 0.05) and correction chosen on the earlier windows."""
    cutoffs = sorted(windows)
    result: dict[str, dict[str, dict[str, float]]] = {}
    for model in windows[cutoffs[0]]:
        for i, cutoff in enumerate(cutoffs):
            rows = windows[cutoff][model]
            raw = np.exp(rows["log_sales"]) / rows["correction"]
            scores = {"own": rmspe(rows["actual"], np.exp(rows["log_sales"])), "none": rmspe(rows["actual"], raw)}
            past = cutoffs[:i]
            if past:
                pool_actual = np.concatenate([windows[c][model]["actual"] for c in past])
                pool_raw = np.concatenate([np.exp(windows[c][model]["log_sales"]) / windows[c][model]["correction"]
                                           for c in past])
                scores["past"] = rmspe(rows["actual"], raw * rmspe_correction(pool_actual, pool_raw))
                if model == "ensemble":
                    scores["past weight"] = blend_on_past(windows, past, cutoff)
            result.setdefault(model, {})[cutoff] = scores
    return result


def blend_on_past(windows: dict[str, dict[str, dict[str, np.ndarray]]], past: list[str], cutoff: str) -> float:
    """RMSPE on ``cutoff``'s window of the rf/lstm blend whose weight and correction fit the ``past`` windows."""
    def blend(names: list[str], weight: float) -> tuple[np.ndarray, np.ndarray]:
        actual = np.concatenate([windows[c]["rf"]["actual"] for c in names])
        log_sales = np.concatenate([
            weight * windows[c]["rf"]["log_sales"] + (1 - weight) * windows[c]["lstm"]["log_sales"] for c in names
        ])
        return actual, np.exp(log_sales)

    best = None
    for weight in np.round(np.arange(0, 1.001, 0.05), 2):
        actual, sales = blend(past, weight)
        correction = rmspe_correction(actual, sales)
        score = rmspe(actual, sales * correction)
        if best is None or score < best[0]:
            best = (score, weight, correction)
    actual, sales = blend([cutoff], best[1])
    return rmspe(actual, sales * best[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", default=str(config.DEFAULT_ARTIFACTS_DIR))
    parser.add_argument("--data-dir")
    parser.add_argument("--out", help="also write the figures as JSON")
    args = parser.parse_args()
    dataset = load_dataset(config.data_dir(args.data_dir))
    windows = {}
    for folder in sorted((Path(args.artifacts) / "backtests" / "windows").iterdir()):
        versions = sorted(p for p in (folder / "models").iterdir() if p.is_dir() and not p.name.startswith("."))
        windows[folder.name] = window_residuals(dataset, versions[-1])
    result = {"intervals": study(windows), "point": point_study(windows)}
    for model, per_window in result["point"].items():
        print(f"\n{model}: RMSPE by correction / blend choice")
        for cutoff, scores in per_window.items():
            print(f"  window after {cutoff}: " + "; ".join(f"{name} {s:.4f}" for name, s in scores.items()))
    for model, per_window in result["intervals"].items():
        print(f"\n{model}: coverage / mean width of the nominal {LEVEL:.0%} interval")
        for cutoff, schemes in per_window.items():
            print(f"  window after {cutoff}: " + "; ".join(
                f"{name} {s['coverage']:.3f} / {s['width']:.3f}" for name, s in schemes.items()))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
