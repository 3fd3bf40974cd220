"""Backtest: train at a cutoff, forecast the next days through the exported ONNX model, score.

The horizon's Open/Promo/holiday columns come from the data file as known-future inputs (as in
Kaggle's test.csv); its sales are used only to score.
"""

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from rossmann_core.data.panel import Panel, attach_covariates
from rossmann_core.features.tabular import BASELINE_INDEX, FeatureBuilder
from rossmann_core.models.forecast import Forecast, forecast_panel, horizon_rows
from rossmann_core.models.version import ModelVersion, load_version

from .config import DEFAULT_FOREST, DEFAULT_LSTM, ForestSettings, LstmSettings
from .data import Dataset
from .metrics import coverage, rmspe
from .train import train_model

log = logging.getLogger(__name__)

TRAINED_FOR = {"rf": ("rf",), "lstm": ("lstm",), "ensemble": ("rf", "lstm")}
"""The models a backtest of each model trains."""


def run_backtest(
    dataset: Dataset, cutoff: np.datetime64, horizon: int, model: str, artifacts_dir: Path,
    settings: ForestSettings = DEFAULT_FOREST, lstm_settings: LstmSettings = DEFAULT_LSTM,
) -> dict[str, Any]:
    """Train on days <= cutoff, forecast cutoff+1..cutoff+horizon, return the scores.

    The ensemble's result also holds ``members``: the same scores of the RF and the LSTM it blends.
    """
    if model not in TRAINED_FOR:
        raise ValueError(f"unknown model {model!r}, expected one of {tuple(TRAINED_FOR)}")
    cutoff = np.datetime64(cutoff, "D")
    end = cutoff + np.timedelta64(horizon, "D")
    if end > dataset.last_day:
        raise ValueError(f"the data ends on {dataset.last_day}, before cutoff + horizon = {end}")
    started = time.perf_counter()
    version_dir = train_model(dataset, artifacts_dir / "backtests", cutoff, settings, TRAINED_FOR[model], lstm_settings)
    train_seconds = time.perf_counter() - started
    version = load_version(version_dir)
    if model not in version.models:
        raise ValueError(f"model {model!r} is not in version {version.version}: {version.models}")
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
        "version": version.version,
        "cutoff": str(cutoff),
        "horizon": horizon,
        "rows": int(scored.sum()),
        **scores(actual[scored], forecast, scored),
        "baseline_rmspe": rmspe(actual[scored], baseline[scored]),
        "train_seconds": round(train_seconds, 1),
        "predict_seconds": round(predict_seconds, 3),
    }
    if model == "ensemble":
        result["members"] = {
            name: scores(actual[scored], forecast_panel(version, panel, origin, horizon, model=name), scored)
            for name in TRAINED_FOR[model]
        }
    log.info("backtest: %s", json.dumps(result))
    return result


def scores(actual: np.ndarray, forecast: Forecast, scored: np.ndarray) -> dict[str, float]:
    """RMSPE and 90 % interval coverage of the ``scored`` forecast rows against ``actual`` (scored rows)."""
    return {
        "rmspe": rmspe(actual, forecast.sales[scored]),
        "coverage_90": coverage(actual, forecast.lower[scored], forecast.upper[scored]),
    }


def forecast_baseline(version: ModelVersion, panel: Panel, horizon: int) -> np.ndarray:
    """log of the store x weekday x promo geometric mean at the origin, in forecast row order."""
    origin = version.history.n_days - 1
    rows = horizon_rows(panel, origin, horizon, np.arange(len(panel.store_ids)))
    return FeatureBuilder(panel, version.stores).build(*rows)[:, BASELINE_INDEX]
