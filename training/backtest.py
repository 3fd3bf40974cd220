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

from rossmann_core.features import BASELINE_INDEX, FeatureBuilder
from rossmann_core.forecast import forecast_panel, horizon_rows
from rossmann_core.model_version import ModelVersion, load_version
from rossmann_core.panel import Panel, attach_covariates

from .config import DEFAULT_FOREST, ForestSettings
from .data import Dataset
from .metrics import coverage, rmspe
from .train import train_model

log = logging.getLogger(__name__)


def run_backtest(
    dataset: Dataset, cutoff: np.datetime64, horizon: int, model: str, artifacts_dir: Path,
    settings: ForestSettings = DEFAULT_FOREST,
) -> dict[str, Any]:
    """Train on days <= cutoff, forecast cutoff+1..cutoff+horizon, return the scores."""
    cutoff = np.datetime64(cutoff, "D")
    end = cutoff + np.timedelta64(horizon, "D")
    if end > dataset.last_day:
        raise ValueError(f"the data ends on {dataset.last_day}, before cutoff + horizon = {end}")
    started = time.perf_counter()
    version_dir = train_model(dataset, artifacts_dir / "backtests", cutoff, settings)
    train_seconds = time.perf_counter() - started
    version = load_version(version_dir)
    if model not in version.models:
        raise ValueError(f"model {model!r} is not in version {version.version}: {version.models}")
    panel = attach_covariates(version.history, dataset.panel.window(cutoff + np.timedelta64(1, "D"), end))
    predict_started = time.perf_counter()
    forecast = forecast_panel(version, panel, origin=version.history.n_days - 1, horizon=horizon, model=model)
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
        "rmspe": rmspe(actual[scored], forecast.sales[scored]),
        "coverage_90": coverage(actual[scored], forecast.lower[scored], forecast.upper[scored]),
        "baseline_rmspe": rmspe(actual[scored], baseline[scored]),
        "train_seconds": round(train_seconds, 1),
        "predict_seconds": round(predict_seconds, 3),
    }
    log.info("backtest: %s", json.dumps(result))
    return result


def forecast_baseline(version: ModelVersion, panel: Panel, horizon: int) -> np.ndarray:
    """log of the store x weekday x promo geometric mean at the origin, in forecast row order."""
    origin = version.history.n_days - 1
    rows = horizon_rows(panel, origin, horizon, np.arange(len(panel.store_ids)))
    return FeatureBuilder(panel, version.stores).build(*rows)[:, BASELINE_INDEX]
