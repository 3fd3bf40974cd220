"""Which past windows should the 90 % interval pool? Scores pooling schemes on a rolling backtest's windows
(it fed docs/decisions/002-interval-pool.md).

For every window version a rolling backtest wrote (``<artifacts>/backtests/windows/<cutoff>/models/``,
the version ``latest.json`` names; ``python -m training backtest --windows K --model ensemble``) and every
model in it (rf, lstm, ensemble), with no retraining of the version's models:

- its calibration residuals: days C-41..C forecast from origin C-42 by the version's own models (they were
  trained on days up to C-42), through ``forecast_panel`` on the real data with sales hidden after C-42;
- the forest's residuals on the 4 windows before (C-83..C-42, ..., C-209..C-168) and on the year-ago window
  (C-363..C-322, what training pools today), each forecast by a forest of the version's ``interval_trees``
  trained on rows up to that window's origin (:func:`training.rf.interval_windows.window_residuals` on the
  history cut at C), corrected by the version's RF correction as training does;
- its residuals on the 42 test days C+1..C+42 from origin C (as the backtest scores them).

Residuals are log(actual) - log(corrected forecast) on open days with sales. The intervals use only days up
to C; the test days only score them. Schemes, each scored by coverage and mean width (upper - lower) / actual
on the test days (the backtest's ``width_90``):

- ``pool k``: quantiles over the own calibration residuals and the forest's on the k-1 windows before
  (k = 1 is the own window alone; k = 3 is what training did until the year-ago window), per lead week;
- ``year ago``: the own calibration residuals and the year-ago window's (what training does today);
  ``pool 3 + year ago`` adds the two windows before;
- ``pool k, one set``: the same with one pair of quantiles for all six lead weeks;
- ``median k``: per lead week, the median over the k windows of each window's own quantiles (one unusual
  window, e.g. Christmas or Easter, moves it little).

A scheme's rank: most windows with coverage inside [0.88, 0.92], then the smallest worst-window distance to
0.90, then the narrowest mean width. Sanity
checks printed per window: the recomputed calibration RMSPE against the manifest's, and the ``pool 3`` and
``year ago`` quantiles against the version's own (the rule the version was trained with agrees to rounding).

Usage (real data: about 1.5 min a window on 2 cores, the time of its 5 small forests)::

    .venv/bin/python scripts/studies/interval_pool_study.py --artifacts ARTIFACTS_OF_THE_BACKTEST \\
        --out reports/interval_pool.json

``--cache DIR`` keeps each window's residual arrays there (row-level data: keep it out of the repo) so that
a second run only rescores.
"""

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import Panel, attach_covariates
from rossmann_core.features.tabular import FeatureBuilder
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.registry import latest_version
from rossmann_core.models.version import ModelVersion, load_version
from training import config
from training.config import ForestSettings
from training.data import Dataset, load_dataset
from training.intervals import lead_week_quantiles
from training.metrics import rmspe
from training.rf.interval_windows import SEASON_LAG_DAYS, has_history, window_residuals
from training.train import history_until
from training.tree_rows import cutoff_training_rows

log = logging.getLogger("interval_pool_study")

MAX_WINDOWS = 5
"""Windows in the largest pool: the calibration window and the 4 before it."""
POOL_BEFORE_YEAR_AGO = 3
"""The pool training used before the year-ago window: the calibration window and the two before it."""
MEDIAN_WINDOWS = (3, 4, 5)
BAND = (0.88, 0.92)
NOMINAL = 0.90
WEEKS = HORIZON_DAYS // 7
DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class Residuals:
    """log(actual) - log(corrected forecast) and lead days 1..42 of scored rows, shape (n,) each."""

    log: np.ndarray
    lead_days: np.ndarray


@dataclass(frozen=True)
class Window:
    """One backtest window: per model the calibration and test residuals; the forest's earlier windows,
    newest first, and its year-ago window (None without the history), corrected by the version's RF correction;
    the version's own interval per model."""

    cutoff: str
    version: str
    calibration: dict[str, Residuals]
    test: dict[str, Residuals]
    earlier: list[Residuals]
    year_ago: Residuals | None
    manifest_interval: dict[str, dict[str, list[float]]]
    manifest_rmspe: dict[str, float]


def scored_residuals(dataset: Dataset, version: ModelVersion, panel: Panel, origin: int) -> dict[str, Residuals]:
    """Per model of ``version``: residuals of the 42 days after ``origin`` of ``panel`` on open days with sales."""
    out = {}
    for model in version.models:
        forecast = forecast_panel(version, panel, origin, HORIZON_DAYS, model)
        day = ((forecast.date - dataset.panel.start) / DAY).astype(np.int64)
        store = version.stores.index_of(forecast.store)
        actual = dataset.panel.sales[store, day]
        scored = np.isfinite(actual) & (actual > 0) & (dataset.panel.open[store, day] == 1)
        out[model] = Residuals(np.log(actual[scored]) - np.log(forecast.sales[scored]), forecast.lead_days[scored])
    return out


def calibration_panel(dataset: Dataset, cutoff: np.datetime64) -> tuple[Panel, int]:
    """The real panel with sales up to C-42 and covariates of C-41..C; the origin's day index."""
    origin_day = cutoff - np.timedelta64(HORIZON_DAYS, "D")
    history = dataset.panel.window(dataset.panel.start, origin_day)
    return attach_covariates(history, dataset.panel.window(origin_day + DAY, cutoff)), history.n_days - 1


def test_panel(dataset: Dataset, version: ModelVersion, cutoff: np.datetime64) -> tuple[Panel, int]:
    """The version's served state with the real covariates of C+1..C+42 (what the backtest scores)."""
    covariates = dataset.panel.window(cutoff + DAY, cutoff + np.timedelta64(HORIZON_DAYS, "D"))
    return attach_covariates(version.history, covariates), version.history.n_days - 1


def forest_windows(dataset: Dataset, cutoff: np.datetime64, settings: ForestSettings,
                   rf_correction: float) -> tuple[list[Residuals], Residuals | None]:
    """The forest's corrected residuals on up to MAX_WINDOWS - 1 windows before C's calibration window (newest
    first) and on the year-ago window (None without the history for it)."""
    history = history_until(dataset, cutoff)
    builder = FeatureBuilder(history, dataset.stores)
    train_idx = cutoff_training_rows(history, settings.max_train_rows, settings.random_state)
    train_x = builder.build(*train_idx)
    last = history.n_days - 1

    def window(origin: int) -> Residuals | None:
        if not has_history(origin):
            return None
        residuals, leads, _, _ = window_residuals(history, builder, settings, train_idx, train_x, [origin])
        return Residuals(residuals - np.log(rf_correction), leads)

    earlier = [window(last - HORIZON_DAYS * (j + 1)) for j in range(1, MAX_WINDOWS)]
    return [r for r in earlier if r is not None], window(last - SEASON_LAG_DAYS)


def load_window(dataset: Dataset, version_dir: Path) -> Window:
    """Every residual of one window version (forecasts through onnxruntime; the small forests are fitted)."""
    version = load_version(version_dir)
    cutoff = version.history.dates[-1]
    raw = json.loads((version_dir / "manifest.json").read_text())["models"]
    log.info("window %s: version %s, models %s", cutoff, version.name, ", ".join(version.models))
    settings = ForestSettings(**{k: v for k, v in raw["rf"]["settings"].items() if k != "interval_windows"})
    earlier, year_ago = forest_windows(dataset, cutoff, settings, raw["rf"]["correction"])
    return Window(
        cutoff=str(cutoff),
        version=version.name,
        calibration=scored_residuals(dataset, version, *calibration_panel(dataset, cutoff)),
        test=scored_residuals(dataset, version, *test_panel(dataset, version, cutoff)),
        earlier=earlier,
        year_ago=year_ago,
        manifest_interval={m: raw[m]["interval"] for m in version.models},
        manifest_rmspe={m: raw[m]["metrics"]["calibration_rmspe"] for m in version.models},
    )


def save_window(window: Window, path: Path) -> None:
    """The window's arrays and figures as one .npz (row-level residuals: never commit it)."""
    arrays: dict[str, Any] = {"meta": np.array(json.dumps({
        "cutoff": window.cutoff, "version": window.version, "manifest_interval": window.manifest_interval,
        "manifest_rmspe": window.manifest_rmspe, "earlier": len(window.earlier)}))}
    if window.year_ago is not None:
        arrays["year_ago__log"], arrays["year_ago__lead"] = window.year_ago.log, window.year_ago.lead_days
    for part in ("calibration", "test"):
        for model, r in getattr(window, part).items():
            arrays[f"{part}__{model}__log"], arrays[f"{part}__{model}__lead"] = r.log, r.lead_days
    for j, r in enumerate(window.earlier):
        arrays[f"earlier__{j}__log"], arrays[f"earlier__{j}__lead"] = r.log, r.lead_days
    np.savez(path, **arrays)


def read_window(path: Path) -> Window:
    """A window saved by :func:`save_window`."""
    with np.load(path) as arrays:
        meta = json.loads(str(arrays["meta"]))
        parts: dict[str, dict[str, Residuals]] = {"calibration": {}, "test": {}}
        for key in arrays.files:
            part, _, rest = key.partition("__")
            if part in parts and rest.endswith("__log"):
                name = rest.removesuffix("__log")
                parts[part][name] = Residuals(arrays[key], arrays[f"{part}__{name}__lead"])
        earlier = [Residuals(arrays[f"earlier__{j}__log"], arrays[f"earlier__{j}__lead"])
                   for j in range(meta["earlier"])]
        year_ago = Residuals(arrays["year_ago__log"], arrays["year_ago__lead"]) if "year_ago__log" in arrays else None
    return Window(meta["cutoff"], meta["version"], parts["calibration"], parts["test"], earlier, year_ago,
                  meta["manifest_interval"], meta["manifest_rmspe"])


def bounds_per_week(residuals: list[Residuals], per_week: bool) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) log bounds, shape (WEEKS,), of the pooled residuals (finite-sample conformal quantiles)."""
    log_residuals = np.concatenate([r.log for r in residuals])
    leads = np.concatenate([r.lead_days for r in residuals]) if per_week else np.ones(len(log_residuals), np.int64)
    interval = lead_week_quantiles(log_residuals, leads)
    return np.asarray(interval["lower_log"]), np.asarray(interval["upper_log"])


def median_bounds(residuals: list[Residuals]) -> tuple[np.ndarray, np.ndarray]:
    """Per lead week, the median over windows of each window's own (lower, upper) quantiles, shape (WEEKS,)."""
    each = [bounds_per_week([r], per_week=True) for r in residuals]
    return np.median([b[0] for b in each], axis=0), np.median([b[1] for b in each], axis=0)


def schemes(own: Residuals, earlier: list[Residuals],
            year_ago: Residuals | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every scheme's (lower, upper) per lead week from the own calibration residuals, the earlier windows and
    the year-ago window; pools needing windows there are not are left out."""
    out = {}
    if year_ago is not None:
        out["year ago"] = bounds_per_week([own, year_ago], per_week=True)
        if len(earlier) >= POOL_BEFORE_YEAR_AGO - 1:
            out["pool 3 + year ago"] = bounds_per_week([own, *earlier[:2], year_ago], per_week=True)
    for k in range(1, MAX_WINDOWS + 1):
        if k - 1 <= len(earlier):
            out[f"pool {k}"] = bounds_per_week([own, *earlier[: k - 1]], per_week=True)
    for k in range(1, MAX_WINDOWS + 1):
        if k - 1 <= len(earlier):
            out[f"pool {k}, one set"] = bounds_per_week([own, *earlier[: k - 1]], per_week=False)
    for k in MEDIAN_WINDOWS:
        if k - 1 <= len(earlier):
            out[f"median {k}"] = median_bounds([own, *earlier[: k - 1]])
    return out


def score(test: Residuals, lower: np.ndarray, upper: np.ndarray) -> dict[str, float]:
    """Coverage and mean (upper - lower) / actual of per-week log bounds (WEEKS,) on the test residuals."""
    week = np.clip((test.lead_days - 1) // 7, 0, WEEKS - 1)
    lo, hi = lower[week], upper[week]
    inside = (test.log >= lo) & (test.log <= hi)
    return {"coverage": float(inside.mean()), "width": float(np.mean((np.exp(hi) - np.exp(lo)) * np.exp(-test.log)))}


def checks(window: Window) -> dict[str, dict[str, float]]:
    """Per model: recomputed vs. manifest calibration RMSPE, and max |bound - manifest bound| of the pool 3 and
    year-ago rules (the one the version was trained with should be ~0)."""
    out = {}
    for model, own in window.calibration.items():
        interval = window.manifest_interval[model]
        rules = {"pool3": [own, *window.earlier[: POOL_BEFORE_YEAR_AGO - 1]]}
        if window.year_ago is not None:
            rules["year_ago"] = [own, window.year_ago]
        out[model] = {
            "calibration_rmspe": rmspe(np.exp(own.log), np.ones(len(own.log))),
            "manifest_calibration_rmspe": window.manifest_rmspe[model],
        }
        for name, pool in rules.items():
            lower, upper = bounds_per_week(pool, per_week=True)
            out[model][f"{name}_vs_manifest_max_abs"] = float(max(np.abs(lower - interval["lower_log"]).max(),
                                                                  np.abs(upper - interval["upper_log"]).max()))
    return out


def study(windows: list[Window]) -> dict[str, Any]:
    """Per model and scheme: the score on every window, windows inside the band, mean width; the ranking."""
    result: dict[str, Any] = {}
    for model in windows[0].test:
        per_scheme: dict[str, dict[str, Any]] = {}
        for window in windows:
            for name, (lower, upper) in schemes(window.calibration[model], window.earlier, window.year_ago).items():
                per_scheme.setdefault(name, {"windows": {}})["windows"][window.cutoff] = score(
                    window.test[model], lower, upper)
        for entry in per_scheme.values():
            scores = entry["windows"].values()
            entry["in_band"] = sum(BAND[0] <= s["coverage"] <= BAND[1] for s in scores)
            entry["mean_width"] = float(np.mean([s["width"] for s in scores]))
            entry["worst_gap"] = float(max(abs(s["coverage"] - NOMINAL) for s in scores))
            entry["complete"] = len(entry["windows"]) == len(windows)
        result[model] = per_scheme
    return {"models": result, "ranking": ranking(result)}


def ranking(result: dict[str, dict[str, dict[str, Any]]]) -> dict[str, list[str]]:
    """Schemes scored on every window, best first by (most windows in band, smallest worst-window gap to the
    nominal 90 %, narrowest mean width), per model and over all models together (windows in band summed, the
    largest gap, widths averaged)."""
    def order(key: dict[str, tuple[int, float, float]]) -> list[str]:
        return sorted(key, key=lambda name: (-key[name][0], key[name][1], key[name][2]))

    names = [n for n in next(iter(result.values())) if all(result[m][n]["complete"] for m in result)]
    out = {model: order({n: (result[model][n]["in_band"], result[model][n]["worst_gap"],
                             result[model][n]["mean_width"]) for n in names}) for model in result}
    out["all models"] = order({n: (sum(result[m][n]["in_band"] for m in result),
                                   max(result[m][n]["worst_gap"] for m in result),
                                   float(np.mean([result[m][n]["mean_width"] for m in result]))) for n in names})
    return out


def print_report(windows: list[Window], result: dict[str, Any], window_checks: dict[str, Any]) -> None:
    for window in windows:
        sizes = ", ".join(f"{len(r.log)} rows mean {r.log.mean():+.3f}" for r in window.earlier)
        print(f"window after {window.cutoff} ({window.version}): earlier forest windows, newest first: {sizes}")
        for model, c in window_checks[window.cutoff].items():
            print(f"  {model}: calibration RMSPE {c['calibration_rmspe']:.4f} (manifest "
                  f"{c['manifest_calibration_rmspe']:.4f}), "
                  f"pool 3 vs manifest bounds {c['pool3_vs_manifest_max_abs']:.1e}, year ago "
                  f"{c.get('year_ago_vs_manifest_max_abs', float('nan')):.1e}")
    cutoffs = [w.cutoff for w in windows]
    for model, per_scheme in result["models"].items():
        print(f"\n{model}: coverage / mean width (upper - lower) / actual of the nominal 90 % interval")
        print(f"  {'scheme':<18}" + "".join(f"{c:>16}" for c in cutoffs) + f"{'in band':>9}{'mean width':>12}")
        for name, entry in per_scheme.items():
            cells = "".join(f"{entry['windows'][c]['coverage']:>9.3f} / {entry['windows'][c]['width']:.3f}"
                            if c in entry["windows"] else f"{'-':>16}" for c in cutoffs)
            print(f"  {name:<18}{cells}{entry['in_band']:>9}{entry['mean_width']:>12.3f}")
    print()
    for model, order in result["ranking"].items():
        rule = f"most windows in {BAND[0]:.2f}-{BAND[1]:.2f}, then smallest worst gap to {NOMINAL:.2f}, then narrowest"
        print(f"best for {model} ({rule}): " + ", ".join(order[:3]))


def window_versions(artifacts: Path) -> list[Path]:
    """The version each backtest window's registry names in latest.json, latest cutoff first."""
    folders = sorted((artifacts / "backtests" / "windows").iterdir(), reverse=True)
    return [f / "models" / latest_version(str(f / "models")) for f in folders if (f / "models").is_dir()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--artifacts", default=str(config.DEFAULT_ARTIFACTS_DIR))
    parser.add_argument("--data-dir")
    parser.add_argument("--out", help="also write the figures as JSON")
    parser.add_argument("--cache", help="folder for each window's residual arrays (outside the repo)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    dataset = load_dataset(config.data_dir(args.data_dir))
    windows = []
    for version_dir in window_versions(Path(args.artifacts)):
        cached = Path(args.cache, f"{version_dir.name}.npz") if args.cache else None
        if cached is not None and cached.is_file():
            windows.append(read_window(cached))
            continue
        windows.append(load_window(dataset, version_dir))
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            save_window(windows[-1], cached)
    window_checks = {w.cutoff: checks(w) for w in windows}
    result = study(windows)
    print_report(windows, result, window_checks)
    if args.out:
        Path(args.out).write_text(json.dumps({"checks": window_checks, **result}, indent=2) + "\n")


if __name__ == "__main__":
    main()
