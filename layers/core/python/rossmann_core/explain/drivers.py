"""The drivers a planner reads a forecast by, and which model features each one holds (every feature exactly once).

The tree models' log forecast is the store x weekday x promo baseline feature plus the trees' output plus the log
correction. The baseline feature is split too (:mod:`.breakdown`): the store's mean log sales of the year to the
origin is the explanation's baseline, its weekday-without-promotion level minus that mean goes to the calendar,
and the promotion's lift over the same weekday without promotion to the promotion.
"""

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from rossmann_core.features.tabular import FEATURE_NAMES

DRIVER_LABELS = MappingProxyType({
    "level": "level and trend",
    "calendar": "weekday and calendar",
    "promotion": "promotion",
    "holidays": "holidays",
    "closures": "closures nearby",
    "store": "competition and store",
    "correction": "correction",
})
"""Every driver, in the order answers list them, with the short words the page and sentences use."""
DRIVER_DESCRIPTIONS = MappingProxyType({
    "level": "the store's recent level, its trend and last year's sales (and the forecast's lead time)",
    "calendar": "weekday, day of month, week and month of the year",
    "promotion": "Promo on the day, days since and until promotions, Promo2",
    "holidays": "state and school holidays, days around them, Easter and Christmas",
    "closures": "days since and until the store's closures",
    "store": "the store itself, its type, assortment, competition distance and age",
    "correction": "the model's RMSPE correction factor (a fixed factor per model)",
})
"""What each driver holds, in a planner's words."""
DRIVERS = tuple(DRIVER_LABELS)

FEATURE_DRIVERS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "level": (
        "lead_days", "hist_mean_log_365", "hist_mean_log_91", "hist_mean_log_28", "hist_std_log_365",
        "hist_open_share_365", "hist_dow_promo_mean_log", "hist_trend_log_91_365", "hist_last_year_log",
        "hist_last_year_vs_mean", "hist_last_year_shape_log", "hist_yoy_growth_log_91", "hist_last_year_grown_log",
    ),
    "calendar": (
        "day_of_week", "weekend", "day_of_month", "month_part", "week_of_year", "month", "year", "day_of_year",
        "hist_dow_mean_log",
    ),
    "promotion": (
        "promo", "days_since_promo_start", "days_until_promo", "promo2", "promo2_weeks", "promo2_active_month",
        "hist_promo_mean_log", "hist_promo_lift_log",
    ),
    "holidays": (
        "state_holiday", "school_holiday", "days_since_state_holiday", "days_until_state_holiday",
        "days_since_school_holiday", "days_until_school_holiday", "days_until_christmas", "days_from_easter",
        "hist_holiday_ratio_log",
    ),
    "closures": ("days_since_closed", "days_until_closed"),
    "store": ("store_type", "assortment", "competition_distance", "competition_open_months", "store_id"),
})
"""The features whose tree contributions make up each driver ("correction" holds none: it is the model's RMSPE
correction factor)."""


def grouping_problems(feature_names: tuple[str, ...] = FEATURE_NAMES) -> list[str]:
    """Why :data:`FEATURE_DRIVERS` does not cover ``feature_names`` exactly once each (empty when it does)."""
    grouped = [name for names in FEATURE_DRIVERS.values() for name in names]
    problems = [f"{name}: in no driver" for name in feature_names if name not in grouped]
    problems += [f"{name}: in {grouped.count(name)} drivers" for name in set(grouped) if grouped.count(name) > 1]
    problems += [f"{name}: not a model feature" for name in grouped if name not in feature_names]
    problems += [f"{driver}: not a driver" for driver in FEATURE_DRIVERS if driver not in DRIVER_LABELS]
    return sorted(problems)


def feature_driver_matrix(feature_names: tuple[str, ...] = FEATURE_NAMES) -> np.ndarray:
    """0/1 float64 (n_features, n_drivers): row i marks the driver of feature i (columns in :data:`DRIVERS`
    order). ValueError listing :func:`grouping_problems` if the grouping does not cover the features."""
    problems = grouping_problems(feature_names)
    if problems:
        raise ValueError(f"the driver grouping does not cover the model's features: {'; '.join(problems)}")
    matrix = np.zeros((len(feature_names), len(DRIVERS)))
    for driver, names in FEATURE_DRIVERS.items():
        for name in names:
            matrix[feature_names.index(name), DRIVERS.index(driver)] = 1.0
    return matrix
