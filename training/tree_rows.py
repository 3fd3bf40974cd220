"""Training rows of the tree models (forest and boosting): (store, day, origin) triples that mimic forecasting.

Origins every HORIZON_DAYS days back from the end of training, each origin owning the next
HORIZON_DAYS days, so every training row has a lead of 1..42 days and sees only the history a real
forecast made at its origin would see. Calibration rows, shared by every model, are
:func:`training.windows.origin_rows` of the last origin.
"""

import logging
import time
from dataclasses import dataclass

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import Panel
from rossmann_core.data.stores import StoreTable
from rossmann_core.errors import DataRangeError
from rossmann_core.features.tabular import FEATURE_NAMES, MISSING, FeatureBuilder

from .config import MIN_HISTORY_DAYS
from .windows import origin_rows

log = logging.getLogger(__name__)

PER_ORIGIN_UNUSED = ("store_id",)
"""Features the per-origin members (forest, boosting) are trained without: they learn a store from its history
features, and the store's number is the direct model's (:mod:`training.direct`)."""


def without_features(features: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """``features`` (n, n_features) with the columns ``names`` set to MISSING, in place. A tree trained on a
    constant column never splits on it, so one feature matrix serves every tree model: each ignores the values of
    the columns it was trained without."""
    features[:, [FEATURE_NAMES.index(name) for name in names]] = MISSING
    return features


def training_rows(panel: Panel, last_day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scorable rows of days ..last_day with origins last_day - 42k (k >= 1)."""
    parts = []
    origin = last_day - HORIZON_DAYS
    while origin >= MIN_HISTORY_DAYS:
        parts.append(origin_rows(panel, origin, HORIZON_DAYS))
        origin -= HORIZON_DAYS
    if not parts:
        raise DataRangeError(f"need more than {MIN_HISTORY_DAYS + HORIZON_DAYS} days of history to train")
    rows = tuple(np.concatenate(columns) for columns in zip(*parts))
    log_dropped(panel, origin + HORIZON_DAYS + 1, last_day, len(rows[0]))
    return rows


def cutoff_training_rows(panel: Panel, max_rows: int | None, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tree models' training rows for a panel ending at the cutoff: :func:`training_rows` of days up to
    the calibration window (cutoff - HORIZON_DAYS), within the row budget (:func:`within_budget`)."""
    return within_budget(training_rows(panel, panel.n_days - 1 - HORIZON_DAYS), max_rows, seed)


@dataclass(frozen=True)
class TreeRows:
    """The tree models' rows at a cutoff and their features, built once for the forest and the boosting.

    ``train_idx``: (store, day, origin) index arrays, (n_train,) each; ``train_x`` (n_train, n_features) and
    ``calib_x`` (n_calibration, n_features) float32 features; ``train_y`` / ``calib_y`` sales in €;
    ``calib_lead_days`` (n_calibration,) days after the calibration origin.
    """

    builder: FeatureBuilder
    train_idx: tuple[np.ndarray, np.ndarray, np.ndarray]
    train_x: np.ndarray
    train_y: np.ndarray
    calib_x: np.ndarray
    calib_y: np.ndarray
    calib_lead_days: np.ndarray


def tree_rows(
    history: Panel, stores: StoreTable, calib_idx: tuple[np.ndarray, ...], max_rows: int | None, seed: int
) -> TreeRows:
    """:func:`cutoff_training_rows` of ``history`` (within ``max_rows``) and the calibration rows, with features."""
    started = time.perf_counter()
    builder = FeatureBuilder(history, stores)
    train_idx = cutoff_training_rows(history, max_rows, seed)
    train_x = without_features(builder.build(*train_idx), PER_ORIGIN_UNUSED)
    rows = TreeRows(builder, train_idx, train_x, history.sales[train_idx[:2]],
                    builder.build(*calib_idx), history.sales[calib_idx[:2]], calib_idx[1] - calib_idx[2])
    log.info("features: %d training rows, %d calibration rows, %.1f s",
             len(rows.train_y), len(rows.calib_y), time.perf_counter() - started)
    return rows


def log_dropped(panel: Panel, first_day: int, last_day: int, kept: int) -> None:
    """Log how many store-days of days first_day..last_day were left out of training, and why."""
    sales = panel.sales[:, first_day : last_day + 1]
    is_open = panel.open[:, first_day : last_day + 1]
    log.info(
        "training rows: %d kept of %d store-days; dropped %d closed, %d open with zero sales, %d without a row; "
        "%d days before the first origin (%s) are history only",
        kept, sales.size, int((is_open == 0).sum()), int(((is_open == 1) & (sales == 0)).sum()),
        int((is_open == -1).sum()), first_day, panel.dates[first_day - 1],
    )


def within_budget(rows: tuple[np.ndarray, ...], max_rows: int | None, seed: int) -> tuple[np.ndarray, ...]:
    """``rows`` (parallel index arrays) as they are if at most ``max_rows`` (or no budget), else a seeded
    uniform sample of ``max_rows`` of them in their original order."""
    if max_rows is None or len(rows[0]) <= max_rows:
        return rows
    keep = np.sort(np.random.default_rng(seed).choice(len(rows[0]), size=max_rows, replace=False))
    log.info("training rows: a budget of %d of %d rows (seed %d)", max_rows, len(rows[0]), seed)
    return tuple(column[keep] for column in rows)
