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
from .rows import training_rows, within_budget

log = logging.getLogger(__name__)


def earlier_window_residuals(
    history: Panel, builder: FeatureBuilder, settings: ForestSettings
) -> tuple[np.ndarray, np.ndarray]:
    """(log actual - log forecast, lead days) of shape (n,) over the ``interval_windows - 1`` earlier windows.

    Windows without enough history before their origin are skipped; empty arrays if none is left.
    """
    small = replace(settings, n_estimators=settings.interval_trees)
    last = history.n_days - 1
    residuals, leads = [], []
    for j in range(1, settings.interval_windows):
        origin = last - HORIZON_DAYS * (j + 1)
        if origin - HORIZON_DAYS < MIN_HISTORY_DAYS:
            break
        train_idx = within_budget(training_rows(history, origin), settings.max_train_rows, settings.random_state)
        window_idx = origin_rows(history, origin, HORIZON_DAYS)
        pipeline = fit_forest(builder.build(*train_idx), history.sales[train_idx[:2]], small)
        log_pred = predict_log_sales(pipeline, builder.build(*window_idx))
        residuals.append(np.log(history.sales[window_idx[:2]]) - log_pred)
        leads.append(window_idx[1] - window_idx[2])
        log.info("interval window %d: days %s..%s, %d rows, mean log residual %+.4f", j,
                 history.dates[origin + 1], history.dates[origin + HORIZON_DAYS], len(log_pred), residuals[-1].mean())
    if not residuals:
        return np.empty(0), np.empty(0, dtype=np.int64)
    return np.concatenate(residuals), np.concatenate(leads)
