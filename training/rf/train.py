"""Train the Random Forest at a cutoff: rows -> features -> fit -> calibration -> ONNX (checked) -> entry.

The caller (:func:`training.train.train_model`) gives the history up to the cutoff T and the shared
calibration rows (days T-41..T from origin T-42); training rows end at T-42 (:mod:`.rows`).
"""

import logging
import time
from typing import Any

import numpy as np

from rossmann_core.data.panel import Panel
from rossmann_core.features.tabular import FEATURE_NAMES

from ..calibration import EarlierResiduals, calibrate
from ..config import ForestSettings
from ..metrics import rmspe_correction
from ..parity import onnx_parity
from . import importance
from .export import forest_to_onnx
from .fit import fit_forest, predict_log_sales
from .interval_windows import interval_origins, window_residuals
from .rows import TreeRows

log = logging.getLogger(__name__)

RF_FILE = "rf.onnx"


def train_forest(
    history: Panel, rows: TreeRows, settings: ForestSettings
) -> tuple[bytes, dict[str, Any], np.ndarray, EarlierResiduals]:
    """The RF's ONNX bytes, manifest entry, uncorrected calibration log forecast (n_calibration,) and its
    corrected residuals on the interval window (the same days a year earlier; every model's interval pools them)."""
    train_x, train_y, calib_x, calib_y = rows.train_x, rows.train_y, rows.calib_x, rows.calib_y
    fit_started = time.perf_counter()
    pipeline = fit_forest(train_x, train_y, settings)
    fit_seconds = time.perf_counter() - fit_started
    calib_log = predict_log_sales(pipeline, calib_x)
    residuals, leads = window_residuals(
        history, rows.builder, settings, rows.train_idx, train_x, interval_origins(history.n_days - 1)
    )
    earlier = EarlierResiduals(residuals - np.log(rmspe_correction(calib_y, np.exp(calib_log))), leads)
    calibration = calibrate(calib_y, calib_log, rows.calib_lead_days, earlier)
    onnx_model = forest_to_onnx(pipeline, len(FEATURE_NAMES))
    parity = onnx_parity(onnx_model, pipeline, calib_x)
    log.info("RF calibration RMSPE %.4f (uncorrected %.4f), correction %.4f, ONNX parity %.2e",
             calibration["metrics"]["calibration_rmspe"], calibration["metrics"]["calibration_rmspe_uncorrected"],
             calibration["correction"], parity)
    entry = {
        "file": RF_FILE,
        "kind": "sklearn Pipeline(ColumnTransformer, RandomForestRegressor) via skl2onnx",
        "settings": settings.__dict__,
        **calibration,
        "onnx_parity_max_abs_diff": parity,
        "train_seconds": round(fit_seconds, 1),
        "importance": importance.report(pipeline, calib_x, calib_y, calibration["correction"]),
    }
    return onnx_model, entry, calib_log, earlier
