"""Per-store promo lift with a 95% confidence interval, measured on whole promo and non-promo weeks.

Unit of comparison: a store-week's mean over its Monday-to-Friday regular trading days (no state
holiday), kept when all of them share one promo status and there are at least ``MIN_DAYS_PER_WEEK``.
Each week is divided by the store's local level (mean of the ``LEVEL_WEEKS`` weeks either side,
promo and non-promo alike), which takes out trend and season. The lift is the ratio of the mean
adjusted promo week to the mean adjusted non-promo week; its interval uses the delta method on the
log ratio, with weeks treated as independent.
"""

import numpy as np
import pandas as pd

MIN_DAYS_PER_WEEK = 3
LEVEL_WEEKS = 4
MIN_WEEKS = 4
"""A store needs at least this many promo and non-promo weeks for a lift."""
Z_95 = 1.959964


def weekly_means(days: pd.DataFrame, column: str) -> pd.DataFrame:
    """Store-week means of ``column`` on Mon-Fri regular trading days: columns store, week, value, promo."""
    regular = days[days["trading"] & (days["state_holiday"] == 0) & (days["weekday"] < 5)]
    week = (regular["date"].to_numpy().astype("datetime64[D]").astype(np.int64) + 3) // 7
    weekly = regular.assign(week=week).groupby(["store", "week"]).agg(
        value=(column, "mean"), promo=("promo", "mean"), n=(column, "size")
    )
    weekly = weekly[(weekly["n"] >= MIN_DAYS_PER_WEEK) & weekly["promo"].isin([0.0, 1.0])]
    return weekly.reset_index()


def local_level(weekly: pd.DataFrame) -> np.ndarray:
    """Mean value of the same store's weeks within ``LEVEL_WEEKS`` either side, excluding the week itself."""
    stores, store_pos = np.unique(weekly["store"].to_numpy(), return_inverse=True)
    week = weekly["week"].to_numpy()
    first = week.min()
    n_weeks = week.max() - first + 1
    values = np.zeros((len(stores), n_weeks + 2 * LEVEL_WEEKS + 1))
    counts = np.zeros_like(values)
    column = week - first + LEVEL_WEEKS + 1
    values[store_pos, column] = weekly["value"].to_numpy()
    counts[store_pos, column] = 1.0
    value_sums, count_sums = np.cumsum(values, axis=1), np.cumsum(counts, axis=1)
    upper, lower = column + LEVEL_WEEKS, column - LEVEL_WEEKS - 1
    total = value_sums[store_pos, upper] - value_sums[store_pos, lower] - values[store_pos, column]
    count = count_sums[store_pos, upper] - count_sums[store_pos, lower] - 1.0
    return np.where(count > 0, total / np.maximum(count, 1.0), np.nan)


def store_lifts(days: pd.DataFrame, column: str = "sales") -> pd.DataFrame:
    """Per store (index): lift, low, high (95% CI), se_log, promo_weeks, plain_weeks; lift 1.25 = +25%.

    Stores with fewer than ``MIN_WEEKS`` weeks of either kind are left out.
    """
    weekly = weekly_means(days, column)
    weekly["adjusted"] = weekly["value"] / local_level(weekly)
    weekly = weekly[np.isfinite(weekly["adjusted"])]
    stats = weekly.groupby(["store", "promo"])["adjusted"].agg(["mean", "var", "size"]).unstack("promo")
    stats = stats.dropna()
    stats = stats[(stats[("size", 1.0)] >= MIN_WEEKS) & (stats[("size", 0.0)] >= MIN_WEEKS)]
    promo_mean, plain_mean = stats[("mean", 1.0)], stats[("mean", 0.0)]
    se_log = np.sqrt(
        stats[("var", 1.0)] / (stats[("size", 1.0)] * promo_mean**2)
        + stats[("var", 0.0)] / (stats[("size", 0.0)] * plain_mean**2)
    )
    lift = promo_mean / plain_mean
    return pd.DataFrame(
        {
            "lift": lift,
            "low": lift * np.exp(-Z_95 * se_log),
            "high": lift * np.exp(Z_95 * se_log),
            "se_log": se_log,
            "promo_weeks": stats[("size", 1.0)].astype(int),
            "plain_weeks": stats[("size", 0.0)].astype(int),
        }
    ).rename_axis("store")


def rank_corr(a: pd.Series, b: pd.Series) -> float:
    """Spearman rank correlation of two aligned series, NaN pairs dropped."""
    both = pd.concat([a, b], axis=1).dropna()
    if len(both) < 3:
        return float("nan")
    return float(both.iloc[:, 0].rank().corr(both.iloc[:, 1].rank()))
