"""Train the Random Forest at a cutoff, calibrate it on the 42 days before the cutoff, export it.

Timeline for cutoff C: training rows are days ..C-42 (origins every 42 days), calibration rows are
C-41..C forecast from origin C-42 (RMSPE correction, interval quantiles, permutation importance,
ONNX parity), and the exported state lets serving forecast C+1..C+42 from origin C.
"""

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rossmann_core.features import FEATURE_NAMES, FeatureBuilder
from rossmann_core.model_version import STATE_FILE
from rossmann_core.panel import Panel

from . import importance
from .config import DEFAULT_FOREST, HORIZON_DAYS, STATE_HISTORY_DAYS, ForestSettings
from .data import Dataset
from .export import forest_to_onnx, git_commit, new_version_name, state_bytes, write_version
from .forest import fit_forest, predict_log_sales
from .intervals import lead_week_quantiles
from .metrics import rmspe, rmspe_correction
from .windows import origin_rows, training_rows

log = logging.getLogger(__name__)

RF_FILE = "rf.onnx"


def history_until(dataset: Dataset, cutoff: np.datetime64 | None) -> Panel:
    """The dataset's panel cut at ``cutoff`` (default: its last day); nothing later is kept."""
    last = dataset.last_day if cutoff is None else np.datetime64(cutoff, "D")
    dataset.panel.day_index(last)
    return dataset.panel.window(dataset.panel.start, last)


def onnx_parity(onnx_model: bytes, pipeline, features: np.ndarray) -> float:
    """Max |onnxruntime - scikit-learn| of the forest's raw output on ``features``."""
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_model, providers=["CPUExecutionProvider"])
    onnx_out = session.run(None, {"features": features})[0].reshape(-1)
    return float(np.max(np.abs(onnx_out - pipeline.predict(features))))


def train_model(
    dataset: Dataset, out_dir: Path, cutoff: np.datetime64 | None = None,
    settings: ForestSettings = DEFAULT_FOREST,
) -> Path:
    """Train, calibrate and export a model version from data up to ``cutoff``; return its folder."""
    started = time.perf_counter()
    history = history_until(dataset, cutoff)
    last = history.n_days - 1
    builder = FeatureBuilder(history, dataset.stores)
    train_idx = training_rows(history, last - HORIZON_DAYS)
    calib_idx = origin_rows(history, last - HORIZON_DAYS, HORIZON_DAYS)
    train_x, calib_x = builder.build(*train_idx), builder.build(*calib_idx)
    train_y, calib_y = history.sales[train_idx[:2]], history.sales[calib_idx[:2]]
    log.info(
        "features: %d training rows, %d calibration rows, %.1f s",
        len(train_y), len(calib_y), time.perf_counter() - started,
    )

    fit_started = time.perf_counter()
    pipeline = fit_forest(train_x, train_y, settings)
    fit_seconds = time.perf_counter() - fit_started

    calib_pred = np.exp(predict_log_sales(pipeline, calib_x))
    correction = rmspe_correction(calib_y, calib_pred)
    residuals = np.log(calib_y) - np.log(calib_pred * correction)
    lead_days = calib_idx[1] - calib_idx[2]
    interval = lead_week_quantiles(residuals, lead_days)
    onnx_model = forest_to_onnx(pipeline, len(FEATURE_NAMES))
    parity = onnx_parity(onnx_model, pipeline, calib_x)
    log.info("calibration RMSPE %.4f (uncorrected %.4f), correction %.4f, ONNX parity %.2e",
             rmspe(calib_y, calib_pred * correction), rmspe(calib_y, calib_pred), correction, parity)

    dates = history.dates
    state = history.window(dates[-1] - np.timedelta64(STATE_HISTORY_DAYS - 1, "D"), dates[-1])
    manifest: dict[str, Any] = {
        "version": new_version_name(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "data": {"sha256": dataset.file_sha256, "first_day": str(dates[0]), "last_day": str(dates[-1])},
        "origin": str(dates[-1]),
        "horizon_days": HORIZON_DAYS,
        "windows": {
            "train": [str(dates[train_idx[1].min()]), str(dates[last - HORIZON_DAYS])],
            "calibration": [str(dates[last - HORIZON_DAYS + 1]), str(dates[last])],
        },
        "rows": {"train": len(train_y), "calibration": len(calib_y)},
        "feature_names": list(FEATURE_NAMES),
        "feature_dtype": "float32",
        "target": "log(sales) - hist_dow_promo_mean_log",
        "models": {
            "rf": {
                "file": RF_FILE,
                "kind": "sklearn Pipeline(ColumnTransformer, RandomForestRegressor) via skl2onnx",
                "settings": settings.__dict__,
                "correction": correction,
                "interval": interval,
                "metrics": {
                    "calibration_rmspe": rmspe(calib_y, calib_pred * correction),
                    "calibration_rmspe_uncorrected": rmspe(calib_y, calib_pred),
                },
                "onnx_parity_max_abs_diff": parity,
                "train_seconds": round(fit_seconds, 1),
                "importance": importance.report(pipeline, calib_x, calib_y, correction),
            }
        },
    }
    files = {RF_FILE: onnx_model, STATE_FILE: state_bytes(state, dataset.stores)}
    version_dir = write_version(out_dir, files, manifest)
    log.info("training done in %.1f s", time.perf_counter() - started)
    return version_dir
