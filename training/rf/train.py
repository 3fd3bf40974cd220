"""Train the Random Forest at a cutoff: rows -> features -> fit -> calibration -> ONNX (checked) -> entry.

The caller (:func:`training.train.train_model`) gives the history up to the cutoff T and the shared
calibration rows (days T-41..T from origin T-42); training rows end at T-42 (:mod:`training.tree_rows`).
"""

import time
from typing import Any

import numpy as np

from rossmann_core.data.panel import Panel
from rossmann_core.features.tabular import FEATURE_NAMES
from rossmann_core.models.tree_target import BASELINE_TARGET

from ..calibration import EarlierResiduals, correction_factor
from ..config import ForestSettings
from ..tree_entry import tree_entry
from ..tree_paths import one_hot_columns
from ..tree_rows import TreeRows
from . import importance
from .export import forest_to_onnx
from .fit import fit_forest, predict_log_sales
from .interval_windows import interval_origins, totals_origins, window_residuals

RF_FILE = "rf.onnx"


def train_forest(
    history: Panel, rows: TreeRows, settings: ForestSettings
) -> tuple[dict[str, bytes], dict[str, Any], np.ndarray, EarlierResiduals, list[EarlierResiduals]]:
    """The RF's files (ONNX graph and node values), manifest entry, uncorrected calibration log forecast
    (n_calibration,), its corrected residuals on the interval window (the same days a year earlier; every model's
    interval pools them), and its corrected residuals on each window of the totals pool (the interval window
    first)."""
    fit_started = time.perf_counter()
    pipeline = fit_forest(rows.train_x, rows.train_y, settings)
    fit_seconds = time.perf_counter() - fit_started
    calib_log = predict_log_sales(pipeline, rows.calib_x)
    correction = correction_factor(rows.calib_y, np.exp(calib_log))
    interval = interval_origins(history.n_days - 1)
    origins = interval + totals_origins(history.n_days - 1, settings.totals_window_weeks, interval)
    windows = []
    for origin in origins:
        residuals, leads, stores, days = window_residuals(
            history, rows.builder, settings, rows.train_idx, rows.train_x, [origin])
        windows.append(EarlierResiduals(residuals - np.log(correction), leads, stores, days))
    earlier = windows[0] if interval else EarlierResiduals(np.empty(0), *[np.empty(0, dtype=np.int64)] * 3)
    onnx_model = forest_to_onnx(pipeline, len(FEATURE_NAMES))
    kind = "sklearn Pipeline(ColumnTransformer, RandomForestRegressor) via skl2onnx"
    entry, files = tree_entry("rf", RF_FILE, kind, BASELINE_TARGET, settings, rows, calib_log, earlier, onnx_model,
                              pipeline, fit_seconds, one_hot_columns(pipeline[0]))
    entry["importance"] = importance.report(pipeline, rows.calib_x, rows.calib_y, entry["correction"])
    return files, entry, calib_log, earlier, windows
