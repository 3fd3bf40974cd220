"""Forest residuals on the same 42 days a year earlier, pooled with the calibration window's for the intervals.

The calibration window (C-41..C) holds the errors of the weeks just before the cutoff, not of the season
ahead: pooled with the two windows before it, the 90 % interval covered 72 % of a Christmas window and
94 % of calm ones. For cutoff C the year-ago window is days C-363..C-322 (the forecast days 52 weeks
earlier, same weekdays and season), forecast from origin C-364 by a forest of ``settings.interval_trees``
trees trained on the cutoff forest's rows whose target day is at most that origin. Without the history
for it (under MIN_HISTORY_DAYS + 42 days before that origin) the window just before the calibration
window (C-83..C-42 from origin C-84) stands in. Study: ``scripts/studies/interval_pool_study.py``.
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

SEASON_LAG_DAYS = 364
"""52 weeks: the year-ago window's days fall on the same weekdays as the forecast days."""


def has_history(origin: int) -> bool:
    """Whether a window forecast from ``origin`` (a day index) has enough history before it for its forest."""
    return origin - HORIZON_DAYS >= MIN_HISTORY_DAYS


def interval_origins(last_day: int) -> list[int]:
    """Origins (day indices) of the windows pooled with the calibration window, for a cutoff at ``last_day``:
    the year-ago window's if the history allows, else the previous window's, else none."""
    for origin in (last_day - SEASON_LAG_DAYS, last_day - 2 * HORIZON_DAYS):
        if has_history(origin):
            return [origin]
    return []


def totals_origins(last_day: int, weeks_back: tuple[int, ...], taken: list[int]) -> list[int]:
    """Origins (day indices) of the further windows only the totals pool holds, ``weeks_back`` weeks before the
    cutoff at ``last_day``: those with the history for their forest and not already in ``taken``."""
    origins = [last_day - 7 * weeks for weeks in weeks_back]
    return [origin for origin in origins if has_history(origin) and origin not in taken]


def window_residuals(
    history: Panel, builder: FeatureBuilder, settings: ForestSettings,
    train_idx: tuple[np.ndarray, ...], train_x: np.ndarray, origins: list[int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(log actual - log forecast, lead days, store rows, day indices) of shape (n,) over the 42-day windows
    after ``origins``.

    ``train_idx`` / ``train_x`` are the cutoff forest's training rows (:func:`.rows.training_rows`) and their
    features: a window's forest fits those whose target day is at most the window's origin, so it sees
    nothing of the window. Empty arrays if ``origins`` is empty.
    """
    small = replace(settings, n_estimators=settings.interval_trees)
    residuals, leads = [], [np.empty(0, dtype=np.int64)]
    stores, days = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.int64)]
    for origin in origins:
        before = train_idx[1] <= origin
        window_idx = origin_rows(history, origin, HORIZON_DAYS)
        pipeline = fit_forest(train_x[before], history.sales[train_idx[0][before], train_idx[1][before]], small)
        log_pred = predict_log_sales(pipeline, builder.build(*window_idx))
        residuals.append(np.log(history.sales[window_idx[:2]]) - log_pred)
        leads.append(window_idx[1] - window_idx[2])
        stores.append(window_idx[0])
        days.append(window_idx[1])
        log.info("interval window: days %s..%s from %d training rows, %d rows, mean log residual %+.4f",
                 history.dates[origin + 1], history.dates[origin + HORIZON_DAYS], int(before.sum()), len(log_pred),
                 residuals[-1].mean())
    return (np.concatenate([np.empty(0), *residuals]), np.concatenate(leads), np.concatenate(stores),
            np.concatenate(days))
