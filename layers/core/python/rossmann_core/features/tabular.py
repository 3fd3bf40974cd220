"""Model inputs for (store, target day, origin) triples: the one feature implementation.

Training and both Lambda handlers call :class:`FeatureBuilder`. Target-day inputs come from the
calendar and the known-future covariates (Open, Promo, StateHoliday, SchoolHoliday) in the panel;
sales statistics come from :mod:`.history` and use only days up to the origin.
"""

from collections.abc import Mapping

import numpy as np

from rossmann_core.data.dates import (
    WEEKDAY_YEAR_DAYS,
    day_of_month,
    day_of_year,
    days_from_nearest_easter,
    days_until_christmas,
    iso_week,
    month,
    same_day_last_year,
    weekday,
    year,
)
from rossmann_core.data.panel import Panel
from rossmann_core.data.stores import StoreTable, require_same_stores
from rossmann_core.data.unknown_days import likely_open
from rossmann_core.features.history import OriginStats, origin_stats

EVENT_DISTANCE_CAP_DAYS = 30
"""Distances to events are clipped to this many days."""
EASTER_SPAN_DAYS = 60
"""Days from Easter are kept up to Whit Monday (Easter + 50) so Ascension and Pentecost are learned."""
SHAPE_WINDOW_DAYS = 29
"""Days around last year's comparable day that set its local level."""
MISSING = -1.0
"""Value of a feature that is unknown (e.g. no competitor opening date)."""

CALENDAR_FEATURES = (
    "day_of_week", "weekend", "day_of_month", "month_part", "week_of_year", "month", "year",
    "day_of_year", "days_until_christmas", "days_from_easter",
)
COVARIATE_FEATURES = ("promo", "state_holiday", "school_holiday")
EVENT_FEATURES = (
    "days_since_state_holiday", "days_until_state_holiday",
    "days_since_school_holiday", "days_until_school_holiday",
    "days_since_closed", "days_until_closed",
    "days_since_promo_start", "days_until_promo",
)
STORE_FEATURES = (
    "store_type", "assortment", "competition_distance", "competition_open_months",
    "promo2", "promo2_weeks", "promo2_active_month", "store_id",
)
HISTORY_FEATURES = (
    "lead_days", "hist_mean_log_365", "hist_mean_log_91", "hist_mean_log_28", "hist_std_log_365",
    "hist_open_share_365", "hist_dow_mean_log", "hist_promo_mean_log", "hist_dow_promo_mean_log",
    "hist_promo_lift_log", "hist_holiday_ratio_log", "hist_trend_log_91_365", "hist_last_year_log",
    "hist_last_year_vs_mean", "hist_last_year_shape_log", "hist_yoy_growth_log_91", "hist_last_year_grown_log",
)
FEATURE_NAMES = (
    CALENDAR_FEATURES + COVARIATE_FEATURES + EVENT_FEATURES + STORE_FEATURES + HISTORY_FEATURES
)
BASELINE_FEATURE = "hist_dow_promo_mean_log"
"""The model predicts log(sales) minus this feature (a store x weekday x promo level)."""


def _days_since(mask: np.ndarray) -> np.ndarray:
    """Days since the last True at or before each day along axis 1, clipped to EVENT_DISTANCE_CAP_DAYS."""
    n_days = mask.shape[1]
    positions = np.where(mask, np.arange(n_days), -(10**6))
    last = np.maximum.accumulate(positions, axis=1)
    return np.minimum(np.arange(n_days) - last, EVENT_DISTANCE_CAP_DAYS).astype(np.float32)


def _days_until(mask: np.ndarray) -> np.ndarray:
    """Days until the next True at or after each day along axis 1, clipped to EVENT_DISTANCE_CAP_DAYS."""
    return _days_since(mask[:, ::-1])[:, ::-1]


def event_distances(panel: Panel) -> dict[str, np.ndarray]:
    """Distances to holidays, closures and promo runs; float32 (n_stores, n_days) each.

    Unknown days (no row) count as closed: such gaps are refurbishments in the Kaggle data.
    """
    state = panel.state_holiday > 0
    school = panel.school_holiday == 1
    closed = ~likely_open(panel.open, panel.state_holiday)
    promo = panel.promo == 1
    promo_start = promo & ~np.concatenate([np.zeros_like(promo[:, :1]), promo[:, :-1]], axis=1)
    return {
        "days_since_state_holiday": _days_since(state),
        "days_until_state_holiday": _days_until(state),
        "days_since_school_holiday": _days_since(school),
        "days_until_school_holiday": _days_until(school),
        "days_since_closed": _days_since(closed),
        "days_until_closed": _days_until(closed),
        "days_since_promo_start": np.where(promo, _days_since(promo_start), MISSING).astype(np.float32),
        "days_until_promo": _days_until(promo),
    }


def calendar_features(dates: np.ndarray) -> dict[str, np.ndarray]:
    """Calendar inputs of target days, each of shape ``dates.shape``."""
    day = day_of_month(dates)
    dow = weekday(dates)
    return {
        "day_of_week": dow,
        "weekend": (dow >= 5).astype(np.int64),
        "day_of_month": day,
        "month_part": np.select([day <= 10, day <= 20], [0, 1], 2),
        "week_of_year": iso_week(dates),
        "month": month(dates),
        "year": year(dates),
        "day_of_year": day_of_year(dates),
        "days_until_christmas": np.minimum(days_until_christmas(dates), 2 * EVENT_DISTANCE_CAP_DAYS),
        "days_from_easter": np.clip(days_from_nearest_easter(dates), -EASTER_SPAN_DAYS, EASTER_SPAN_DAYS),
    }


def store_features(stores: StoreTable, store: np.ndarray, dates: np.ndarray) -> dict[str, np.ndarray]:
    """Store metadata as of each target day; ``store`` indexes ``stores``, shape (n,)."""
    years, months = year(dates), month(dates)
    competition_months = (years - stores.competition_open_year[store]) * 12 + (
        months - stores.competition_open_month[store]
    )
    since_week = stores.promo2_since_week[store]
    since_year = stores.promo2_since_year[store]
    promo2_weeks = (years - since_year) * 52 + (iso_week(dates) - since_week)
    started = (stores.promo2[store] == 1) & (promo2_weeks >= 0)
    return {
        "store_type": stores.store_type[store],
        "assortment": stores.assortment[store],
        "competition_distance": stores.competition_distance[store],
        "competition_open_months": competition_months,
        "promo2": stores.promo2[store],
        "promo2_weeks": np.where(stores.promo2[store] == 1, promo2_weeks, np.nan),
        "promo2_active_month": (started & stores.promo2_months[store, months - 1]).astype(np.int64),
        "store_id": stores.store_id[store],
    }


def history_features(
    stats: OriginStats, store: np.ndarray, day: np.ndarray, dow: np.ndarray, promo: np.ndarray,
    comparable_day: np.ndarray,
) -> dict[str, np.ndarray]:
    """Sales statistics at ``stats.origin`` for target days ``day`` (panel indices > origin).

    ``comparable_day`` holds the panel index of each target day's comparable day last year
    (:func:`rossmann_core.data.dates.same_day_last_year`); the shape feature is its log sales minus the mean of
    the SHAPE_WINDOW_DAYS around it, i.e. how that day stood out last year.
    """
    shape = stats.window_mean(store, comparable_day, comparable_day) - stats.window_mean(
        store, comparable_day - SHAPE_WINDOW_DAYS // 2, comparable_day + SHAPE_WINDOW_DAYS // 2
    )
    year_ago = day - WEEKDAY_YEAR_DAYS
    last_year = stats.window_mean(store, year_ago - 3, year_ago + 3)
    mean_365 = stats.mean_365[store]
    last_year = np.where(np.isnan(last_year), mean_365, last_year)
    promo = np.clip(promo, 0, 1)
    return {
        "lead_days": day - stats.origin,
        "hist_mean_log_365": mean_365,
        "hist_mean_log_91": stats.mean_91[store],
        "hist_mean_log_28": stats.mean_28[store],
        "hist_std_log_365": stats.std_365[store],
        "hist_open_share_365": stats.open_share_365[store],
        "hist_dow_mean_log": stats.dow_mean[store, dow],
        "hist_promo_mean_log": stats.promo_mean[store, promo],
        "hist_dow_promo_mean_log": stats.dow_promo_mean[store, dow, promo],
        "hist_promo_lift_log": stats.promo_mean[store, 1] - stats.promo_mean[store, 0],
        "hist_holiday_ratio_log": stats.holiday_ratio[store],
        "hist_trend_log_91_365": stats.mean_91[store] - mean_365,
        "hist_last_year_log": last_year,
        "hist_last_year_vs_mean": last_year - mean_365,
        "hist_last_year_shape_log": np.nan_to_num(shape, nan=0.0),
        "hist_yoy_growth_log_91": stats.yoy_growth_91[store],
        "hist_last_year_grown_log": last_year + np.nan_to_num(stats.yoy_growth_91[store], nan=0.0),
    }


class FeatureBuilder:
    """Builds the feature matrix for any (store, day, origin) triples of one panel.

    ``panel.store_ids`` must equal ``stores.store_id`` (same stores, same order). ``stats`` may hold the
    panel's :func:`~rossmann_core.features.history.origin_stats` of some origins, computed once elsewhere.
    """

    def __init__(self, panel: Panel, stores: StoreTable, stats: Mapping[int, OriginStats] | None = None) -> None:
        require_same_stores(panel.store_ids, stores.store_id, "panel and store table")
        self.panel = panel
        self.stores = stores
        self._events = event_distances(panel)
        self._stats: dict[int, OriginStats] = dict(stats or {})

    def stats_at(self, origin: int) -> OriginStats:
        """History statistics at a panel day index, computed once per origin."""
        if origin not in self._stats:
            self._stats[origin] = origin_stats(self.panel, origin)
        return self._stats[origin]

    def build(self, store: np.ndarray, day: np.ndarray, origin: np.ndarray, in_sample: bool = False) -> np.ndarray:
        """Features of shape (n, len(FEATURE_NAMES)), float32; NaN becomes MISSING.

        ``store``, ``day``, ``origin`` are int arrays of shape (n,): panel store rows, target day
        indices and origin day indices with ``origin < day``; ``in_sample`` also allows days up to their origin
        (the direct model's training rows, :mod:`training.direct`: the statistics at the end of its training days).
        """
        store, day, origin = (np.asarray(a, dtype=np.int64) for a in (store, day, origin))
        if not in_sample and np.any(origin >= day):
            raise ValueError("every target day must come after its origin")
        dates = self.panel.start + day.astype("timedelta64[D]")
        promo = self.panel.promo[store, day].astype(np.int64)
        columns: dict[str, np.ndarray] = {
            **calendar_features(dates),
            "promo": promo,
            "state_holiday": self.panel.state_holiday[store, day],
            "school_holiday": self.panel.school_holiday[store, day],
            **{name: values[store, day] for name, values in self._events.items()},
            **store_features(self.stores, store, dates),
        }
        history = {name: np.empty(len(day)) for name in HISTORY_FEATURES}
        dow = columns["day_of_week"]
        comparable = day + (same_day_last_year(dates, EASTER_SPAN_DAYS) - dates).astype(np.int64)
        for o in np.unique(origin):
            rows = np.flatnonzero(origin == o)
            part = history_features(
                self.stats_at(int(o)), store[rows], day[rows], dow[rows], promo[rows], comparable[rows]
            )
            for name in HISTORY_FEATURES:
                history[name][rows] = part[name]
        columns.update(history)
        matrix = np.column_stack([np.asarray(columns[name], dtype=np.float64) for name in FEATURE_NAMES])
        return np.nan_to_num(matrix, nan=MISSING).astype(np.float32)


BASELINE_INDEX = FEATURE_NAMES.index(BASELINE_FEATURE)
