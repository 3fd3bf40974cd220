"""Backtest: train at a cutoff, forecast the next days through the exported ONNX model, score.

The horizon's Open/Promo/holiday columns come from the data file as known-future inputs (as in
Kaggle's test.csv); its sales are used only to score. A rolling-origin backtest repeats this at
several cutoffs, ``step`` days apart (:func:`run_rolling_backtest`).
"""

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import Panel, attach_covariates
from rossmann_core.errors import DataRangeError, SettingsError
from rossmann_core.features.tabular import BASELINE_INDEX, FeatureBuilder
from rossmann_core.models.forecast import Forecast, forecast_panel, horizon_rows
from rossmann_core.models.version import ModelVersion, load_version

from .config import (
    DEFAULT_BOOSTING,
    DEFAULT_DIRECT,
    DEFAULT_FOREST,
    DEFAULT_LSTM,
    ENSEMBLE,
    MIN_HISTORY_DAYS,
    MODELS,
    ForestSettings,
    LstmSettings,
)
from .data import Dataset
from .metrics import coverage, rmspe, rmspe_without_worst_row
from .totals_backtest import LevelScores, pooled_summary, score_levels
from .train import train_model

log = logging.getLogger(__name__)

TRAINED_FOR = {"rf": ("rf",), "hgb": ("hgb",), "direct": ("direct",), "lstm": ("lstm",), ENSEMBLE: MODELS}
"""The models a backtest of each model trains (the ensemble's: every model, so that each is scored as a member)."""


def run_backtest(
    dataset: Dataset, cutoff: np.datetime64, horizon: int, model: str, artifacts_dir: Path,
    settings: ForestSettings = DEFAULT_FOREST, lstm_settings: LstmSettings = DEFAULT_LSTM, without_lstm: bool = False,
) -> dict[str, Any]:
    """Train on days <= cutoff, forecast cutoff+1..cutoff+horizon, return the scores.

    The ensemble's result also holds ``members``: the same scores of every model it trained
    (:func:`trained_models`). The version is written to ``artifacts_dir/backtests/models/``.
    """
    trained = trained_models(model, without_lstm)
    (cutoff,) = window_cutoffs(dataset, cutoff, horizon, model, 1, HORIZON_DAYS, lstm_settings, trained)
    result, _, _ = train_and_score(dataset, cutoff, horizon, model, artifacts_dir / "backtests", settings,
                                   lstm_settings, trained)
    log.info("backtest: %s", json.dumps(result))
    return result


def run_rolling_backtest(
    dataset: Dataset, cutoff: np.datetime64, horizon: int, model: str, artifacts_dir: Path,
    windows: int = 1, step: int = HORIZON_DAYS, lstm_epochs: int | None = None,
    settings: ForestSettings = DEFAULT_FOREST, lstm_settings: LstmSettings = DEFAULT_LSTM, without_lstm: bool = False,
) -> dict[str, Any]:
    """Backtest at ``windows`` cutoffs: cutoff, cutoff - step, cutoff - 2*step, ... (days), latest first.

    Every window is checked (:func:`window_cutoffs`) before any training. ``lstm_epochs`` replaces the
    LSTM's epoch count (and so its learning-rate schedule) for this backtest only; ``without_lstm`` leaves the
    LSTM out of an ensemble backtest (a screening run of the served blend, whose LSTM weight is 0; recorded in
    ``settings``).

    ``windows == 1`` returns :func:`run_backtest`'s result unchanged, plus ``settings`` if
    ``lstm_epochs`` is given. Otherwise each window trains its models once, into
    ``artifacts_dir/backtests/windows/<cutoff>/models/``, and the result holds

    - ``model``, ``horizon``, ``step_days``, and ``settings`` (:func:`backtest_settings`);
    - ``windows``: per window, run_backtest's result plus ``first_day`` and ``last_day`` (the first and
      last forecast day) and ``width_90`` (:func:`interval_width`), also added to each of ``members``;
    - ``summary``: per model scored (``model``, and each of MODELS for the ensemble), over the
      windows, each window weighing the same: ``mean_rmspe``, ``median_rmspe`` (one odd window cannot swing it),
      ``mean_rmspe_without_worst_row`` (the yardstick), ``worst_rmspe`` (the highest) and
      ``worst_cutoff`` (its window's cutoff), ``mean_coverage_90``, ``min_coverage_90``,
      ``max_coverage_90`` (of the 90 % interval) and ``mean_width_90``.
    """
    trained = trained_models(model, without_lstm)
    cutoffs = window_cutoffs(dataset, cutoff, horizon, model, windows, step, lstm_settings, trained)
    if lstm_epochs is not None:
        if "lstm" not in trained or lstm_epochs < 1:
            raise SettingsError(f"lstm_epochs={lstm_epochs}: needs a model that trains the LSTM and at least 1 epoch")
        lstm_settings = replace(lstm_settings, epochs=lstm_epochs)
    used = backtest_settings(trained, settings, lstm_settings, lstm_epochs)
    if without_lstm:
        used["without_lstm"] = True
    if windows == 1:
        result = run_backtest(dataset, cutoffs[0], horizon, model, artifacts_dir, settings, lstm_settings,
                              without_lstm)
        return result if lstm_epochs is None and not without_lstm else {**result, "settings": used}
    results, window_totals = [], []
    for number, window_cutoff in enumerate(cutoffs, 1):
        out_dir = artifacts_dir / "backtests" / "windows" / str(window_cutoff)
        result, widths, levels = train_and_score(dataset, window_cutoff, horizon, model, out_dir, settings,
                                                 lstm_settings, trained)
        window = window_result(result, widths)
        results.append(window)
        window_totals.append(levels)
        log.info(
            "backtest window %d/%d: cutoff %s, days %s..%s, %d rows, trained in %.0f s; %s; baseline RMSPE %.4f",
            number, windows, window["cutoff"], window["first_day"], window["last_day"], window["rows"],
            window["train_seconds"], "; ".join(
                f"{name} RMSPE {s['rmspe']:.4f} coverage {s['coverage_90']:.3f} width {s['width_90']:.3f}"
                for name, s in model_scores(window).items()
            ), window["baseline_rmspe"],
        )
    report = {"model": model, "horizon": horizon, "step_days": step, "settings": used, "windows": results,
              "summary": summarize(results)}
    if all(window_totals):
        ordinary = [not w["christmas"] for w in results]
        report["totals_summary"] = {"ordinary_windows": pooled_summary(window_totals, ordinary),
                                    "christmas_windows": pooled_summary(window_totals, [not o for o in ordinary])}
    return report


def trained_models(model: str, without_lstm: bool = False) -> tuple[str, ...]:
    """The models a backtest of ``model`` trains (:data:`TRAINED_FOR`), the LSTM left out if ``without_lstm``;
    SettingsError for an unknown model or for leaving the LSTM out of its own backtest."""
    if model not in TRAINED_FOR:
        raise SettingsError(f"unknown model {model!r}, expected one of {tuple(TRAINED_FOR)}")
    if without_lstm and model != ENSEMBLE:
        raise SettingsError(f"without_lstm: only an {ENSEMBLE} backtest can leave the LSTM out, not {model!r}")
    return tuple(m for m in TRAINED_FOR[model] if not (without_lstm and m == "lstm"))


def window_cutoffs(
    dataset: Dataset, cutoff: np.datetime64, horizon: int, model: str, windows: int, step: int,
    lstm_settings: LstmSettings, trained: Sequence[str] | None = None,
) -> list[np.datetime64]:
    """The ``windows`` cutoffs cutoff, cutoff - step, ... (days). Raise DataRangeError naming the first
    window whose horizon ends after the data's last day or that leaves too little history to train
    ``model``, SettingsError for an unknown model or a horizon, window count or step below 1."""
    trained = trained or trained_models(model)
    if min(horizon, windows, step) < 1:
        raise SettingsError(f"horizon={horizon}, windows={windows}, step={step}: each must be at least 1")
    earliest = dataset.panel.start + np.timedelta64(min_cutoff_day(trained, lstm_settings), "D")
    cutoffs = [np.datetime64(cutoff, "D") - np.timedelta64(k * step, "D") for k in range(windows)]
    for number, window_cutoff in enumerate(cutoffs, 1):
        window = f"backtest window {number} of {windows} (cutoff {window_cutoff})"
        end = window_cutoff + np.timedelta64(horizon, "D")
        if end > dataset.last_day:
            raise DataRangeError(f"{window}: its {horizon}-day horizon ends on {end}, after the data's last day "
                             f"{dataset.last_day}")
        if window_cutoff < earliest:
            raise DataRangeError(f"{window}: too little history before it; the data start on {dataset.panel.start} "
                             f"and training {' + '.join(trained)} needs a cutoff on or after {earliest}")
    return cutoffs


def min_cutoff_day(models: Sequence[str], lstm_settings: LstmSettings) -> int:
    """Fewest days from the data's first day to a training cutoff for ``models``.

    Before the cutoff lie the calibration window and the training window of the last origin
    (HORIZON_DAYS each); before the first training origin the RF needs MIN_HISTORY_DAYS
    (training/windows.py) and the LSTM a full lookback, the origin included (training/lstm/windows.py).
    """
    before_origin = {"rf": MIN_HISTORY_DAYS, "hgb": MIN_HISTORY_DAYS, "direct": MIN_HISTORY_DAYS,
                     "lstm": 7 * lstm_settings.lookback_weeks - 1}
    return 2 * HORIZON_DAYS + max(before_origin[name] for name in models)


def train_and_score(
    dataset: Dataset, cutoff: np.datetime64, horizon: int, model: str, out_dir: Path,
    settings: ForestSettings, lstm_settings: LstmSettings, trained: Sequence[str],
) -> tuple[dict[str, Any], dict[str, float], dict[str, LevelScores] | None]:
    """Train once into ``out_dir``; return :func:`run_backtest`'s result, the interval width
    (:func:`interval_width`) of every model scored (``model`` and, for the ensemble, its members) and ``model``'s
    totals scores per level (:func:`training.totals_backtest.score_levels`; None without a totals pool). The
    result holds the latter as ``totals``."""
    end = cutoff + np.timedelta64(horizon, "D")
    started = time.perf_counter()
    version_dir = train_model(dataset, out_dir, cutoff, settings, trained, lstm_settings)
    train_seconds = time.perf_counter() - started
    version = load_version(version_dir)
    panel = attach_covariates(version.history, dataset.panel.window(cutoff + np.timedelta64(1, "D"), end))
    origin = version.history.n_days - 1
    predict_started = time.perf_counter()
    forecast = forecast_panel(version, panel, origin=origin, horizon=horizon, model=model)
    predict_seconds = time.perf_counter() - predict_started
    day = ((forecast.date - dataset.panel.start) / np.timedelta64(1, "D")).astype(np.int64)
    store = version.stores.index_of(forecast.store)
    actual = dataset.panel.sales[store, day]
    scored = np.isfinite(actual) & (actual > 0) & (dataset.panel.open[store, day] == 1)
    baseline = np.exp(forecast_baseline(version, panel, horizon))
    result = {
        "model": model,
        "version": version.name,
        "cutoff": str(cutoff),
        "horizon": horizon,
        "rows": int(scored.sum()),
        **scores(actual[scored], forecast, scored),
        "baseline_rmspe": rmspe(actual[scored], baseline[scored]),
        "train_seconds": round(train_seconds, 1),
        "predict_seconds": round(predict_seconds, 3),
    }
    widths = {model: interval_width(actual[scored], forecast, scored)}
    if model == ENSEMBLE:
        members = {name: forecast_panel(version, panel, origin, horizon, model=name) for name in trained}
        result["members"] = {name: scores(actual[scored], member, scored) for name, member in members.items()}
        widths |= {name: interval_width(actual[scored], member, scored) for name, member in members.items()}
    levels = None
    if model in version.totals and len(forecast.sales) == len(version.stores.store_id) * horizon:
        levels = score_levels(version, model, forecast, actual.reshape(len(version.stores.store_id), horizon))
        result["totals"] = {level: s.to_dict() for level, s in levels.items()}
    return result, widths, levels


def scores(actual: np.ndarray, forecast: Forecast, scored: np.ndarray) -> dict[str, float]:
    """RMSPE (also without the worst row, :func:`rmspe_without_worst_row`) and 90 % interval coverage of the
    ``scored`` forecast rows against ``actual`` (scored rows)."""
    return {
        "rmspe": rmspe(actual, forecast.sales[scored]),
        "rmspe_without_worst_row": rmspe_without_worst_row(actual, forecast.sales[scored]),
        "coverage_90": coverage(actual, forecast.lower[scored], forecast.upper[scored]),
    }


def interval_width(actual: np.ndarray, forecast: Forecast, scored: np.ndarray) -> float:
    """Mean relative width of the 90 % interval on the ``scored`` rows: mean of (upper - lower) / actual
    sales (0.4 = the interval spans 40 % of the day's sales); ``actual`` holds the scored rows."""
    return float(np.mean((forecast.upper[scored] - forecast.lower[scored]) / actual))


def holds_christmas(cutoff: np.datetime64, horizon: int) -> bool:
    """Whether the forecast days after ``cutoff`` hold a Christmas Day (such windows are reported apart)."""
    first, last = cutoff + np.timedelta64(1, "D"), cutoff + np.timedelta64(horizon, "D")
    years = range(int(first.astype("datetime64[Y]").astype(int)) + 1970, int(last.astype("datetime64[Y]").astype(int))
                  + 1971)
    return any(first <= np.datetime64(f"{y}-12-25") <= last for y in years)


def window_result(result: dict[str, Any], widths: dict[str, float]) -> dict[str, Any]:
    """A window of the rolling backtest: run_backtest's ``result`` with its forecast days and widths."""
    cutoff = np.datetime64(result["cutoff"], "D")
    days = {"first_day": str(cutoff + np.timedelta64(1, "D")),
            "last_day": str(cutoff + np.timedelta64(result["horizon"], "D"))}
    window = {"cutoff": result["cutoff"], **days, **result, "width_90": widths[result["model"]],
              "christmas": holds_christmas(cutoff, result["horizon"])}
    if "members" in result:
        window["members"] = {name: {**s, "width_90": widths[name]} for name, s in result["members"].items()}
    return window


def model_scores(window: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The scores of each model a window scored, by name: its model's, then its members'."""
    return {window["model"]: window, **window.get("members", {})}


def summarize(windows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model, the mean, worst and range of the windows' scores (see :func:`run_rolling_backtest`)."""
    summary = {}
    for name in model_scores(windows[0]):
        per_window = [model_scores(window)[name] for window in windows]
        rmspes = [s["rmspe"] for s in per_window]
        coverages = [s["coverage_90"] for s in per_window]
        worst = int(np.argmax(rmspes))
        summary[name] = {
            "mean_rmspe": float(np.mean(rmspes)),
            "median_rmspe": float(np.median(rmspes)),
            "mean_rmspe_without_worst_row": float(np.mean([s["rmspe_without_worst_row"] for s in per_window])),
            "worst_rmspe": rmspes[worst],
            "worst_cutoff": windows[worst]["cutoff"],
            "mean_coverage_90": float(np.mean(coverages)),
            "min_coverage_90": min(coverages),
            "max_coverage_90": max(coverages),
            "mean_width_90": float(np.mean([s["width_90"] for s in per_window])),
        }
    return summary


def backtest_settings(
    models: Sequence[str], settings: ForestSettings, lstm_settings: LstmSettings, lstm_epochs: int | None
) -> dict[str, Any]:
    """The settings of the trained ``models`` as recorded in a result: ``forest``, ``boosting``, ``direct``,
    ``lstm`` and ``lstm_epochs_override`` (the epochs given for the backtest; None: the served LSTM's)."""
    used: dict[str, Any] = {}
    if "rf" in models:
        used["forest"] = asdict(settings)
    if "hgb" in models:
        used["boosting"] = asdict(DEFAULT_BOOSTING)
    if "direct" in models:
        used["direct"] = asdict(DEFAULT_DIRECT)
    if "lstm" in models:
        used["lstm"] = asdict(lstm_settings)
        used["lstm_epochs_override"] = lstm_epochs
    return used


def forecast_baseline(version: ModelVersion, panel: Panel, horizon: int) -> np.ndarray:
    """log of the store x weekday x promo geometric mean at the origin, in forecast row order."""
    origin = version.history.n_days - 1
    rows = horizon_rows(panel, origin, horizon, np.arange(len(panel.store_ids)))
    return FeatureBuilder(panel, version.stores).build(*rows)[:, BASELINE_INDEX]
