"""Train the gradient-boosted member at a cutoff: features -> fit -> calibration -> ONNX (checked) -> entry.

It learns from the forest's training rows and features (:class:`training.tree_rows.TreeRows`, built once) and
target, and is calibrated on the same rows of C-41..C; its interval pools the forest's year-ago window
residuals like every model's (:mod:`training.calibration`).
"""

import time
from typing import Any

import numpy as np

from rossmann_core.features.tabular import FEATURE_NAMES
from rossmann_core.models.tree_target import BASELINE_TARGET

from ..calibration import EarlierResiduals
from ..config import BoostingSettings
from ..tree_entry import tree_entry
from ..tree_paths import identity_columns
from ..tree_rows import TreeRows
from .export import boosting_to_onnx
from .fit import fit_boosting

HGB_FILE = "hgb.onnx"


def train_boosting(
    rows: TreeRows, settings: BoostingSettings, earlier: EarlierResiduals | None
) -> tuple[dict[str, bytes], dict[str, Any], np.ndarray]:
    """The member's files (ONNX graph and node values), manifest entry and uncorrected calibration log forecast
    (n_calibration,)."""
    started = time.perf_counter()
    model = fit_boosting(rows.train_x, rows.train_y, settings)
    fit_seconds = time.perf_counter() - started
    calib_log = BASELINE_TARGET.decode(rows.calib_x, model.predict(rows.calib_x))
    onnx_model = boosting_to_onnx(model, len(FEATURE_NAMES))
    kind = "sklearn HistGradientBoostingRegressor via skl2onnx"
    entry, files = tree_entry("hgb", HGB_FILE, kind, BASELINE_TARGET, settings, rows, calib_log, earlier, onnx_model,
                              model, fit_seconds, identity_columns(len(FEATURE_NAMES)))
    return files, entry, calib_log
