"""How should the RMSPE correction be fitted? Refits each model's calibration-window factor by other rules and
scores the windows after, on a rolling backtest's window versions, no retraining (issue 26; decision 018).

The correction minimises RMSPE on the calibration window, ``c = sum(p/a) / sum((p/a)^2)``: it weighs a row by
(forecast / actual)^2, so one store-day that sold a fraction of its forecast can set it for 1,115 stores and six
weeks (the 46 EUR day of 2014-11-22, forecast ~4,800 EUR, made the January 2015 version's forest factor 0.71).
Rules compared, each fitted on the version's own calibration rows (C-41..C from origin C-42, forecast by its
models through onnxruntime, as training does):

- ``untrimmed``: today's factor (the check: it must give the backtest's figures);
- ``trim t``: the same factor without the share ``t`` of rows with the largest squared percentage errors;
- ``none``: c = 1.

For every model the correction is refitted by the rule; the blend is its members' re-corrected log forecasts
with the served weights and its own correction refitted by the same rule. Each window is scored by Kaggle's
RMSPE and the yardstick (RMSPE without the window's worst store-day); printed as JSON: per rule and model, per
window, the mean of the yardstick and the number of windows better than ``untrimmed``.

    .venv/bin/python scripts/studies/correction_fit_study.py --artifacts <backtest artifacts> [--out report.json]
"""

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rossmann_core.data.panel import Panel
from rossmann_core.models.manifest import BlendEntry
from rossmann_core.models.version import ModelVersion, load_version
from scripts.studies.blend_weights_study import scored_members
from scripts.studies.interval_pool_study import calibration_panel, test_panel, window_versions
from training import config
from training.calibration import blend_log
from training.data import Dataset, load_dataset
from training.metrics import rmspe, rmspe_correction, rmspe_without_worst_row

TRIMS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01)


@dataclass(frozen=True)
class Rows:
    """Actual sales (n,) and each member's uncorrected log forecast (n,) on a window's scored rows."""

    actual: np.ndarray
    logs: dict[str, np.ndarray]


@dataclass(frozen=True)
class WindowRows:
    """A window version's calibration and test rows and its blend weights."""

    cutoff: str
    calibration: Rows
    test: Rows
    weights: dict[str, float]


def uncorrected_rows(dataset: Dataset, version: ModelVersion, panel: Panel, origin: int) -> Rows:
    """Every member's uncorrected log forecast of the 42 days after ``origin`` of ``panel``, on open days with
    sales (:func:`scripts.studies.blend_weights_study.scored_members` less each member's correction)."""
    actual, logs, _ = scored_members(dataset, version, panel, origin)
    return Rows(actual, {name: log - np.log(version.manifest.models[name].correction) for name, log in logs.items()})


def load_window(dataset: Dataset, version_dir: Path) -> WindowRows:
    """The calibration and test rows of one window version."""
    version = load_version(version_dir)
    cutoff = version.history.dates[-1]
    blends = [e for e in version.manifest.models.values() if isinstance(e, BlendEntry)]
    weights = dict(blends[0].weights) if blends else {}
    return WindowRows(str(cutoff), uncorrected_rows(dataset, version, *calibration_panel(dataset, cutoff)),
                      uncorrected_rows(dataset, version, *test_panel(dataset, version, cutoff)), weights)


def correction(actual: np.ndarray, log_pred: np.ndarray, rule: str) -> float:
    """The factor of ``rule`` fitted on rows (n,)."""
    if rule == "none":
        return 1.0
    trim = float(rule.split()[1]) if rule.startswith("trim") else 0.0
    return rmspe_correction(actual, np.exp(log_pred), trim)


def corrected_logs(window: WindowRows, rule: str) -> dict[str, tuple[np.ndarray, float]]:
    """Per model: the corrected test log forecast (n,) and its factor(s) under ``rule``."""
    cal, test = window.calibration, window.test
    factors = {name: correction(cal.actual, log, rule) for name, log in cal.logs.items()}
    out = {name: (log + np.log(factors[name]), factors[name]) for name, log in test.logs.items()}
    if window.weights:
        blend_cal = blend_log(cal.logs, factors, window.weights)
        own = correction(cal.actual, blend_cal, rule)
        out["ensemble"] = (blend_log(test.logs, factors, window.weights) + np.log(own), own)
    return out


def study(windows: list[WindowRows], rules: list[str]) -> dict[str, Any]:
    """Per rule and model: each window's factor, RMSPE and yardstick; the yardstick's mean and wins."""
    result: dict[str, Any] = {"cutoffs": [w.cutoff for w in windows], "rules": {}}
    for rule in rules:
        per_model: dict[str, dict[str, list[float]]] = {}
        for window in windows:
            for name, (log, factor) in corrected_logs(window, rule).items():
                forecast = np.exp(log)
                scores = per_model.setdefault(name, {"factor": [], "rmspe": [], "rmspe_without_worst_row": []})
                actual = window.test.actual
                scores["factor"].append(round(factor, 4))
                scores["rmspe"].append(round(rmspe(actual, forecast), 4))
                scores["rmspe_without_worst_row"].append(round(rmspe_without_worst_row(actual, forecast), 4))
        result["rules"][rule] = per_model
    for per_model in result["rules"].values():
        for name, scores in per_model.items():
            base = result["rules"]["untrimmed"][name]["rmspe_without_worst_row"]
            robust = scores["rmspe_without_worst_row"]
            scores["mean_rmspe_without_worst_row"] = round(float(np.mean(robust)), 4)
            scores["median_rmspe"] = round(float(np.median(scores["rmspe"])), 4)
            scores["windows_better_than_untrimmed"] = int(sum(r < b for r, b in zip(robust, base)))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", default=str(config.DEFAULT_ARTIFACTS_DIR))
    parser.add_argument("--trims", type=float, nargs="+", default=list(TRIMS))
    parser.add_argument("--data-dir")
    parser.add_argument("--out")
    args = parser.parse_args()
    dataset = load_dataset(config.data_dir(args.data_dir))
    windows = [load_window(dataset, v) for v in window_versions(Path(args.artifacts))]
    rules = ["untrimmed", *(f"trim {t}" for t in args.trims), "none"]
    result = study(windows, rules)
    print(json.dumps(result, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
