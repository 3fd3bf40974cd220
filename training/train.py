"""Train the models at a cutoff, calibrate them on the 42 days before the cutoff, export one version.

Timeline for cutoff C: training rows are days ..C-42 (RF origins every 42 days, LSTM windows every
few days), calibration rows are C-41..C forecast from origin C-42 (RMSPE correction, interval
quantiles, ONNX parity, the ensemble's correction; for the RF also permutation importance), and the
exported state lets serving forecast C+1..C+42 from origin C. The interval quantiles pool the
calibration residuals with the forest's residuals on the same 42 days a year earlier (C-363..C-322;
:mod:`training.rf.interval_windows`): the weeks before the cutoff do not hold the season ahead.
"""

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import Panel
from rossmann_core.features.tabular import FEATURE_NAMES
from rossmann_core.models.version import STORE_STATE_FILE
from rossmann_core.serving.history_state import state_bytes

from .calibration import calibrate, fit_blend
from .config import (
    BLEND_WEIGHTS,
    DEFAULT_BOOSTING,
    DEFAULT_DIRECT,
    DEFAULT_FOREST,
    DEFAULT_LSTM,
    ENSEMBLE,
    MODELS,
    STATE_HISTORY_DAYS,
    BoostingSettings,
    DirectSettings,
    ForestSettings,
    LstmSettings,
)
from .data import Dataset
from .default_choice import default_model_choice
from .direct.train import train_direct
from .export import git_commit, new_version_name, write_version
from .hgb.train import train_boosting
from .rf.train import train_forest
from .totals_pool import TOTALS_POOL_FILE, corrected_calibration_logs, totals_file
from .tree_rows import tree_rows
from .windows import origin_rows

log = logging.getLogger(__name__)


def history_until(dataset: Dataset, cutoff: np.datetime64 | None) -> Panel:
    """The dataset's panel cut at ``cutoff`` (default: its last day); nothing later is kept."""
    last = dataset.last_day if cutoff is None else np.datetime64(cutoff, "D")
    dataset.panel.day_index(last)
    return dataset.panel.window(dataset.panel.start, last)


def train_model(
    dataset: Dataset, out_dir: Path, cutoff: np.datetime64 | None = None,
    settings: ForestSettings = DEFAULT_FOREST, models: Sequence[str] = ("rf",),
    lstm_settings: LstmSettings = DEFAULT_LSTM, boosting: BoostingSettings = DEFAULT_BOOSTING,
    direct: DirectSettings = DEFAULT_DIRECT,
) -> Path:
    """Train, calibrate and export a model version from data up to ``cutoff``; return its folder.

    ``models`` is a subset of MODELS; "lstm" imports TensorFlow.
    """
    unknown = set(models) - set(MODELS)
    if unknown or not models:
        raise ValueError(f"models must be a non-empty subset of {MODELS}, got {tuple(models)}")
    started = time.perf_counter()
    history = history_until(dataset, cutoff)
    last = history.n_days - 1
    dates = history.dates
    calib_idx = origin_rows(history, last - HORIZON_DAYS, HORIZON_DAYS)
    calib_y = history.sales[calib_idx[:2]]
    lead_days = calib_idx[1] - calib_idx[2]
    state = history.window(dates[-1] - np.timedelta64(STATE_HISTORY_DAYS - 1, "D"), dates[-1])
    files = {STORE_STATE_FILE: state_bytes(state, dataset.stores)}
    entries: dict[str, dict[str, Any]] = {}
    calib_logs: dict[str, np.ndarray] = {}
    first_train_day = dates[0]
    rows: dict[str, int] = {"calibration": len(calib_y)}
    earlier, forest_windows = None, []
    if {"rf", "hgb", "direct"} & set(models):
        trees = tree_rows(history, dataset.stores, calib_idx, settings.max_train_rows, settings.random_state)
        first_train_day, rows["train"] = dates[trees.train_idx[1].min()], len(trees.train_y)
    if "rf" in models:
        forest_files, entries["rf"], calib_logs["rf"], earlier, forest_windows = train_forest(history, trees, settings)
        files.update(forest_files)
    if "hgb" in models:
        boosting_files, entries["hgb"], calib_logs["hgb"] = train_boosting(trees, boosting, earlier)
        files.update(boosting_files)
    if "direct" in models:
        direct_files, entries["direct"], calib_logs["direct"] = train_direct(history, trees, direct, earlier)
        files.update(direct_files)
    if "lstm" in models:
        from .lstm.train import train_lstm

        lstm = train_lstm(history, dataset.stores, lstm_settings)
        calib_logs["lstm"] = lstm.calibration_log[calib_idx[0], lead_days - 1]
        files[lstm.entry["file"]] = lstm.onnx_model
        entries["lstm"] = {**lstm.entry, **calibrate(calib_y, calib_logs["lstm"], lead_days, earlier)}
        log.info("LSTM calibration RMSPE %.4f", entries["lstm"]["metrics"]["calibration_rmspe"])
    blend = {name: weight for name, weight in BLEND_WEIGHTS.items() if weight > 0}
    if len(blend) > 1 and set(blend) <= set(entries):
        corrections = {name: entries[name]["correction"] for name in blend}
        entries[ENSEMBLE] = fit_blend(calib_y, calib_logs, corrections, lead_days, blend, earlier)
        log.info("%s weights %s, calibration RMSPE %.4f", ENSEMBLE, entries[ENSEMBLE]["weights"],
                 entries[ENSEMBLE]["metrics"]["calibration_rmspe"])
    corrected = corrected_calibration_logs(calib_logs, entries, blend, ENSEMBLE)
    files[TOTALS_POOL_FILE], totals = totals_file(history, state, calib_idx, corrected, forest_windows)

    manifest: dict[str, Any] = {
        "version": new_version_name(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "data": {"sha256": dataset.file_sha256, "first_day": str(dates[0]), "last_day": str(dates[-1])},
        "origin": str(dates[-1]),
        "horizon_days": HORIZON_DAYS,
        "windows": {
            "train": [str(first_train_day), str(dates[last - HORIZON_DAYS])],
            "calibration": [str(dates[last - HORIZON_DAYS + 1]), str(dates[last])],
        },
        "rows": rows,
        "feature_names": list(FEATURE_NAMES),
        "feature_dtype": "float32",
        "models": entries,
        "totals": totals,
    }
    if ENSEMBLE in entries:
        manifest["default_model"] = ENSEMBLE
        choice = default_model_choice(entries[ENSEMBLE]["weights"])
        if choice is not None:
            manifest["default_model_choice"] = choice
    version_dir = write_version(out_dir, files, manifest)
    log.info("training done in %.1f s", time.perf_counter() - started)
    return version_dir
