"""Train the direct member at a cutoff: every open day up to the calibration window -> fit -> calibration -> ONNX.

The per-origin members learn from (store, day, origin) triples with leads of 1..42 days. The direct model is the
style that placed well on Kaggle: one LightGBM model of plain log sales over every open store-day with sales up to
the end of its training days T = C-42, the store's number among its features, the target day's calendar and known-
future covariates, and the store statistics of the history up to T, the same for every row (a row's statistics
include its own year: its training rows are in sample, ``FeatureBuilder.build(in_sample=True)``). Served from origin
C like the other tree models, on the same feature matrix: it was trained without the lead (:data:`DIRECT_UNUSED`),
which is meaningless in sample, and the per-origin members without the store's number, so each ignores that column.
Calibrated on the shared rows of C-41..C (docs/decisions/030-direct-model.md)."""

import time
from dataclasses import replace
from typing import Any

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import Panel
from rossmann_core.features.tabular import FEATURE_NAMES
from rossmann_core.models.tree_target import LOG_TARGET

from ..calibration import EarlierResiduals
from ..config import DirectSettings
from ..tree_entry import tree_entry
from ..tree_paths import identity_columns
from ..tree_rows import TreeRows, without_features
from .export import direct_to_onnx, float32_thresholds
from .fit import fit_direct

DIRECT_FILE = "direct.onnx"
DIRECT_UNUSED = (
    "lead_days", "hist_mean_log_28", "hist_trend_log_91_365", "hist_last_year_log", "hist_last_year_vs_mean",
    "hist_last_year_shape_log", "hist_last_year_grown_log",
    "days_until_state_holiday", "days_until_school_holiday", "days_until_closed", "days_until_promo",
)
"""Features the direct model is trained without: the lead is 0 or less in sample, never 1..42; the recent level
and last year's days are the per-origin members' (in sample a 2013 row's "last year" is the level at the end of
training); the distances to the next holiday, closure and promotion: in sample they see events of any distance,
served they see none beyond the horizon, a state the training rows never had (decision 030)."""


def in_sample_rows(history: Panel, last_day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(store, day, origin) of every open store-day with sales > 0 up to day ``last_day``, origin ``last_day``."""
    sales = history.sales[:, : last_day + 1]
    store, day = np.nonzero((history.open[:, : last_day + 1] == 1) & np.isfinite(sales) & (sales > 0))
    return store, day, np.full(len(day), last_day)


def train_direct(
    history: Panel, rows: TreeRows, settings: DirectSettings, earlier: EarlierResiduals | None
) -> tuple[dict[str, bytes], dict[str, Any], np.ndarray]:
    """The member's files (ONNX graph and node values), manifest entry and uncorrected calibration log forecast
    (n_calibration,); ``rows``: the per-origin members' rows, whose calibration rows it shares."""
    train_idx = in_sample_rows(history, history.n_days - 1 - HORIZON_DAYS)
    train_x = without_features(rows.builder.build(*train_idx, in_sample=True), DIRECT_UNUSED)
    direct_rows = replace(rows, train_idx=train_idx, train_x=train_x, train_y=history.sales[train_idx[:2]])
    started = time.perf_counter()
    model = float32_thresholds(fit_direct(direct_rows.train_x, direct_rows.train_y, settings))
    fit_seconds = time.perf_counter() - started
    calib_log = LOG_TARGET.decode(rows.calib_x, model.predict(rows.calib_x))
    onnx_model = direct_to_onnx(model, len(FEATURE_NAMES))
    kind = "LightGBM via onnxmltools, direct (every open day, the store's number as a feature)"
    entry, files = tree_entry("direct", DIRECT_FILE, kind, LOG_TARGET, settings, direct_rows, calib_log, earlier,
                              onnx_model, model, fit_seconds, identity_columns(len(FEATURE_NAMES)))
    entry["train_rows"] = len(train_idx[0])
    return files, entry, calib_log
