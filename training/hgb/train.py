"""Train the gradient-boosted member at a cutoff: features -> fit -> calibration -> ONNX (checked) -> entry.

It learns from the forest's training rows and features (:class:`training.rf.rows.TreeRows`, built once) and
target, and is calibrated on the same rows of C-41..C; its interval pools the forest's year-ago window
residuals like every model's (:mod:`training.calibration`).
"""

import logging
import time
from typing import Any

import numpy as np

from rossmann_core.features.tabular import FEATURE_NAMES
from rossmann_core.models.forest_target import FOREST_TARGET

from ..calibration import EarlierResiduals, calibrate
from ..config import BoostingSettings
from ..parity import onnx_parity
from ..rf.rows import TreeRows
from .export import boosting_to_onnx
from .fit import fit_boosting

log = logging.getLogger(__name__)

HGB_FILE = "hgb.onnx"


def train_boosting(
    rows: TreeRows, settings: BoostingSettings, earlier: EarlierResiduals | None
) -> tuple[bytes, dict[str, Any], np.ndarray]:
    """The member's ONNX bytes, manifest entry and uncorrected calibration log forecast (n_calibration,)."""
    train_x, train_y, calib_x, calib_y = rows.train_x, rows.train_y, rows.calib_x, rows.calib_y
    started = time.perf_counter()
    model = fit_boosting(train_x, train_y, settings)
    fit_seconds = time.perf_counter() - started
    calib_log = FOREST_TARGET.decode(calib_x, model.predict(calib_x))
    calibration = calibrate(calib_y, calib_log, rows.calib_lead_days, earlier)
    onnx_model = boosting_to_onnx(model, len(FEATURE_NAMES))
    parity = onnx_parity(onnx_model, model, calib_x)
    log.info("HGB calibration RMSPE %.4f (uncorrected %.4f), correction %.4f, ONNX parity %.2e",
             calibration["metrics"]["calibration_rmspe"], calibration["metrics"]["calibration_rmspe_uncorrected"],
             calibration["correction"], parity)
    entry = {
        "file": HGB_FILE,
        "kind": "sklearn HistGradientBoostingRegressor via skl2onnx",
        "settings": settings.__dict__,
        **calibration,
        "onnx_parity_max_abs_diff": parity,
        "train_seconds": round(fit_seconds, 1),
    }
    return onnx_model, entry, calib_log
