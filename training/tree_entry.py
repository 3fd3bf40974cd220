"""What every tree member ends with: calibration on the shared rows, ONNX parity, the node values explanations
read (:mod:`training.tree_paths`), one log line, the manifest entry and the member's files."""

import logging
from typing import Any

import numpy as np

from rossmann_core.models.tree_target import TreeTarget

from .calibration import EarlierResiduals, calibrate
from .parity import Regressor, onnx_output, onnx_parity
from .tree_paths import paths_file_name, tree_paths
from .tree_rows import TreeRows

log = logging.getLogger(__name__)


def tree_entry(
    name: str, file: str, kind: str, target: TreeTarget, settings: object, rows: TreeRows, calib_log: np.ndarray,
    earlier: EarlierResiduals | None, onnx_model: bytes, fitted: Regressor, fit_seconds: float,
    columns: tuple[np.ndarray, np.ndarray],
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Manifest entry of tree member ``name`` and its files (the graph ``file``, whose output is ``target``, and the
    node values).

    The entry holds :func:`calibrate` of its uncorrected calibration log forecast (n_calibration,), the max
    |onnxruntime - scikit-learn| raw output on the calibration rows, the max |explained - onnxruntime| output
    there (float32 rounding of the graph), its settings (a dataclass) and fit time in seconds. ``columns``: what
    the trees split on (:func:`training.tree_paths.one_hot_columns`).
    """
    calibration = calibrate(rows.calib_y, calib_log, rows.calib_lead_days, earlier)
    graph_out = onnx_output(onnx_model, rows.calib_x)
    parity = onnx_parity(graph_out, fitted, rows.calib_x)
    paths, paths_parity = tree_paths(onnx_model, columns, rows.train_x, rows.calib_x, graph_out)
    log.info("%s calibration RMSPE %.4f (uncorrected %.4f), correction %.4f, ONNX parity %.2e, paths %.2e",
             name.upper(), calibration["metrics"]["calibration_rmspe"],
             calibration["metrics"]["calibration_rmspe_uncorrected"], calibration["correction"], parity, paths_parity)
    entry = {
        "file": file,
        "paths_file": paths_file_name(name),
        "kind": kind,
        "target": target.description,
        "settings": settings.__dict__,
        **calibration,
        "onnx_parity_max_abs_diff": parity,
        "paths_parity_max_abs_diff": paths_parity,
        "train_seconds": round(fit_seconds, 1),
    }
    return entry, {file: onnx_model, paths_file_name(name): paths.to_bytes()}
