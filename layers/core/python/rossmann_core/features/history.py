"""Store-level sales statistics computed only from days up to a forecast origin.

Everything here reads ``panel.sales[:, : origin + 1]`` and nothing later, so a forecast made at an
origin cannot see the days it forecasts. Sales enter as natural logs of open days with sales > 0.
"""

from dataclasses import dataclass, fields, replace

import numpy as np

from rossmann_core.data.dates import WEEKDAY_YEAR_DAYS, weekday
from rossmann_core.data.panel import Panel


@dataclass(frozen=True)
class OriginStats:
    """Per-store statistics at one origin; log-sales means, NaN-free (fallbacks applied).

    Shapes: ``mean_365`` etc. (n_stores,), ``dow_mean`` (n_stores, 7), ``promo_mean`` (n_stores, 2),
    ``dow_promo_mean`` (n_stores, 7, 2); ``holiday_ratio`` (n_stores,) is the mean log sales of open
    state-holiday days minus ``mean_365`` (0 for stores never open on one); ``yoy_growth_91`` (n_stores,)
    is the mean log sales of the last 91 days minus that of the same 91 days a year (364 days)
    earlier, NaN where either span holds fewer than YOY_MIN_DAYS valid days. ``cum_log`` and
    ``cum_count`` (n_stores, origin + 2) are cumulative sums of valid log sales and of valid days,
    with a leading zero column.
    """

    origin: int
    mean_365: np.ndarray
    mean_91: np.ndarray
    mean_28: np.ndarray
    std_365: np.ndarray
    open_share_365: np.ndarray
    dow_mean: np.ndarray
    promo_mean: np.ndarray
    dow_promo_mean: np.ndarray
    holiday_ratio: np.ndarray
    yoy_growth_91: np.ndarray
    cum_log: np.ndarray
    cum_count: np.ndarray

    def window_mean(self, store: np.ndarray, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """Mean valid log sales of ``store`` over days ``first..last`` (clipped to 0..origin).

        NaN where the window holds no valid day. All arguments are int arrays of shape (n,).
        """
        return span_mean(self.cum_log, self.cum_count, store, first, last)

    def take(self, rows: np.ndarray) -> "OriginStats":
        """The statistics of store ``rows`` only, in that order (every per-store array indexed by ``rows``).

        Each store's statistics depend on its own days alone, except that a store without a valid day in the
        year to the origin falls back to the mean of all stores it was computed with: taking rows from the
        statistics of all stores gives the figures of a panel of all stores, whatever subset is taken.
        """
        return replace(self, **{f.name: getattr(self, f.name)[rows] for f in fields(self) if f.name != "origin"})


def has_recent_sales(panel: Panel) -> np.ndarray:
    """bool (n_stores,): stores with a known sale in the panel's last FEATURE_HISTORY_DAYS days, the ones forecast
    (a store whose sales all lie before them has no features to forecast from)."""
    return np.isfinite(panel.sales[:, -FEATURE_HISTORY_DAYS:]).any(axis=1)


def valid_log_sales(panel: Panel, origin: int) -> tuple[np.ndarray, np.ndarray]:
    """(log sales, valid mask) of shape (n_stores, origin + 1); invalid entries are 0."""
    sales = panel.sales[:, : origin + 1].astype(np.float64)
    valid = (panel.open[:, : origin + 1] == 1) & np.isfinite(sales) & (sales > 0)
    return np.where(valid, np.log(np.where(valid, sales, 1.0)), 0.0), valid


def _grouped_mean(logs: np.ndarray, valid: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean of ``logs`` per store and group id; (n_stores, n_groups), NaN for empty groups."""
    sums = np.zeros((logs.shape[0], n_groups))
    counts = np.zeros((logs.shape[0], n_groups))
    for g in range(n_groups):
        in_group = valid & (groups == g)
        sums[:, g] = (logs * in_group).sum(axis=1)
        counts[:, g] = in_group.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


YOY_SPAN_DAYS = 91
"""Recent days whose level is compared with the same days a year earlier."""
FEATURE_HISTORY_DAYS = YOY_SPAN_DAYS + WEEKDAY_YEAR_DAYS
"""Days up to an origin that every history feature reads (455): the longest is the year-over-year growth, whose
earlier span is the 91 days ending 364 days before the origin."""
YOY_MIN_DAYS = 28
"""Fewest valid days each span needs for a year-over-year growth."""


def span_mean(
    cum_log: np.ndarray, cum_count: np.ndarray, store: np.ndarray | slice, first: np.ndarray | int,
    last: np.ndarray | int, min_days: int = 1,
) -> np.ndarray:
    """Mean valid log sales of ``store`` rows over days ``first..last``, clipped to the days the cumulative
    sums (n_stores, n_days + 1, leading zero) cover; NaN under ``min_days`` valid days."""
    end = cum_log.shape[1] - 1
    lo, hi = np.clip(first, 0, end), np.clip(last + 1, 0, end)
    total = cum_log[store, hi] - cum_log[store, lo]
    count = cum_count[store, hi] - cum_count[store, lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count >= min_days, total / np.maximum(count, 1), np.nan)


def _fill(values: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(values), fallback, values)


def origin_stats(panel: Panel, origin: int) -> OriginStats:
    """Statistics of every store from days ``..origin`` (an index into the panel's days)."""
    logs, valid = valid_log_sales(panel, origin)
    cum_log = np.concatenate([np.zeros((logs.shape[0], 1)), np.cumsum(logs, axis=1)], axis=1)
    cum_count = np.concatenate([np.zeros((logs.shape[0], 1)), np.cumsum(valid, axis=1)], axis=1)

    def trailing(days: int) -> tuple[np.ndarray, np.ndarray]:
        lo = max(origin + 1 - days, 0)
        return logs[:, lo:], valid[:, lo:]

    year_logs, year_valid = trailing(WEEKDAY_YEAR_DAYS + 1)
    year_mean = _grouped_mean(year_logs, year_valid, np.zeros(year_logs.shape, dtype=int), 1)[:, 0]
    chain_mean = np.nanmean(year_mean) if np.isfinite(year_mean).any() else 0.0
    mean_365 = _fill(year_mean, chain_mean)
    first = max(origin - WEEKDAY_YEAR_DAYS, 0)
    dows = np.broadcast_to(weekday(panel.dates[first : origin + 1]), year_logs.shape)
    promo = np.clip(panel.promo[:, first : origin + 1], 0, 1)
    dow_mean = _fill(_grouped_mean(year_logs, year_valid, dows, 7), mean_365[:, None])
    promo_mean = _fill(_grouped_mean(year_logs, year_valid, promo, 2), mean_365[:, None])
    dow_promo = _grouped_mean(year_logs, year_valid, dows * 2 + promo, 14).reshape(-1, 7, 2)
    dow_promo_mean = _fill(dow_promo, dow_mean[:, :, None])
    with np.errstate(invalid="ignore"):
        squares = np.where(year_valid, (year_logs - mean_365[:, None]) ** 2, 0.0).sum(axis=1)
        std_365 = np.sqrt(squares / np.maximum(year_valid.sum(axis=1) - 1, 1))
    on_holiday = (panel.state_holiday[:, first : origin + 1] > 0).astype(int)
    holiday_mean = _grouped_mean(year_logs, year_valid, on_holiday, 2)[:, 1]
    holiday_ratio = np.nan_to_num(holiday_mean - mean_365, nan=0.0)
    known = panel.open[:, first : origin + 1] >= 0
    open_share = (panel.open[:, first : origin + 1] == 1).sum(axis=1) / np.maximum(known.sum(axis=1), 1)

    def recent(days: int) -> np.ndarray:
        recent_logs, recent_valid = trailing(days)
        mean = _grouped_mean(recent_logs, recent_valid, np.zeros(recent_logs.shape, dtype=int), 1)
        return _fill(mean[:, 0], mean_365)

    return OriginStats(
        origin=origin,
        mean_365=mean_365,
        mean_91=recent(91),
        mean_28=recent(28),
        std_365=std_365,
        open_share_365=open_share,
        dow_mean=dow_mean,
        promo_mean=promo_mean,
        dow_promo_mean=dow_promo_mean,
        holiday_ratio=holiday_ratio,
        yoy_growth_91=span_mean(cum_log, cum_count, slice(None), origin + 1 - YOY_SPAN_DAYS, origin, YOY_MIN_DAYS)
        - span_mean(cum_log, cum_count, slice(None), origin + 1 - YOY_SPAN_DAYS - WEEKDAY_YEAR_DAYS,
                    origin - WEEKDAY_YEAR_DAYS, YOY_MIN_DAYS),
        cum_log=cum_log,
        cum_count=cum_count,
    )
