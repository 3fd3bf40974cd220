"""Forest residuals on the 42-day windows before the calibration window, for intervals that hold.

One calibration window holds one season's level error; intervals fitted on it alone covered 66-92 %
of later windows. For cutoff C, window j (j = 1..n-1) is days C-42j-41..C-42j forecast from origin
C-42(j+1) by a forest of ``settings.interval_trees`` trees trained on rows up to that origin, exactly
as the served forest is trained before its calibration window.
"""

import logging
from dataclasses import replace

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import Panel
from rossmann_core.features.tabular import FeatureBuilder

from ..config import MIN_HISTORY_DAYS, ForestSettings
from ..windows import origin_rows
from .fit import fit_forest, predict_log_sales

log = logging.getLogger(__name__)


def earlier_window_residuals(
    history: Panel, builder: FeatureBuilder, settings: ForestSettings,
    train_idx: tuple[np.ndarray, ...], train_x: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(log actual - log forecast, lead days) of shape (n,) over the ``interval_windows - 1`` earlier windows.

    ``train_idx`` / ``train_x`` are the cutoff forest's training rows (:func:`.rows.training_rows`, origins
    every 42 days) and their features: a window's forest fits those whose origin lies before the window's,
    i.e. exactly the rows training_rows gives up to that origin. Windows without enough history before their
    origin are skipped; empty arrays if none is left.
    """
    small = replace(settings, n_estimators=settings.interval_trees)
    last = history.n_days - 1
    residuals, leads = [], []
    for j in range(1, settings.interval_windows):
        origin = last - HORIZON_DAYS * (j + 1)
        if origin - HORIZON_DAYS < MIN_HISTORY_DAYS:
            break
        before = train_idx[2] < origin
        window_idx = origin_rows(history, origin, HORIZON_DAYS)
        pipeline = fit_forest(train_x[before], history.sales[train_idx[0][before], train_idx[1][before]], small)
        log_pred = predict_log_sales(pipeline, builder.build(*window_idx))
        residuals.append(np.log(history.sales[window_idx[:2]]) - log_pred)
        leads.append(window_idx[1] - window_idx[2])
        log.info("interval window %d: days %s..%s, %d rows, mean log residual %+.4f", j,
                 history.dates[origin + 1], history.dates[origin + HORIZON_DAYS], len(log_pred), residuals[-1].mean())
    if not residuals:
        return np.empty(0), np.empty(0, dtype=np.int64)
    return np.concatenate(residuals), np.concatenate(leads)
