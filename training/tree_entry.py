"""What both tree members end with: calibration on the shared rows, ONNX parity, one log line, the manifest entry."""

import logging
from typing import Any

import numpy as np

from .calibration import EarlierResiduals, calibrate
from .parity import Regressor, onnx_parity
from .tree_rows import TreeRows

log = logging.getLogger(__name__)


def tree_entry(
    label: str, file: str, kind: str, settings: object, rows: TreeRows, calib_log: np.ndarray,
    earlier: EarlierResiduals | None, onnx_model: bytes, fitted: Regressor, fit_seconds: float,
) -> dict[str, Any]:
    """Manifest entry of a tree member: :func:`calibrate` of its uncorrected calibration log forecast
    (n_calibration,), the max |onnxruntime - scikit-learn| raw output on the calibration rows, its settings
    (a dataclass) and fit time in seconds."""
    calibration = calibrate(rows.calib_y, calib_log, rows.calib_lead_days, earlier)
    parity = onnx_parity(onnx_model, fitted, rows.calib_x)
    log.info("%s calibration RMSPE %.4f (uncorrected %.4f), correction %.4f, ONNX parity %.2e", label,
             calibration["metrics"]["calibration_rmspe"], calibration["metrics"]["calibration_rmspe_uncorrected"],
             calibration["correction"], parity)
    return {
        "file": file,
        "kind": kind,
        "settings": settings.__dict__,
        **calibration,
        "onnx_parity_max_abs_diff": parity,
        "train_seconds": round(fit_seconds, 1),
    }
