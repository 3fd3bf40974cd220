"""One store's forecast explained: per day and per week a baseline and one factor per driver, and each week against
the same weeks last year (:mod:`rossmann_core.explain`).

Per day, baseline x factors = forecast (:func:`rossmann_core.explain.breakdown.breakdown`). A period's (a week's,
the window's) factors are the forecast-weighted means of its open days' log factors, and its baseline the
forecast per open day divided by their product, so ``open days x baseline x factors = the period's total``.

Against last year: each forecast day is compared with the day 364 days earlier (same weekday, same week of the
year). The same model explains those days as it would have forecast them from an origin 364 days before this one,
from the history the served state holds (it keeps a year more than the features need, for this); then
``log(total / last year's actual) = log(open days / last year's open days) + the change of each driver's log factor
(the baseline's change counting to the level) + log(last year's model forecast / its actual)``, the last term what
the model did not explain last year. Each part is shown as a percentage; the parts' factors multiply to the change.
"""

from dataclasses import dataclass

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.covariates.assume import CovariateOverrides
from rossmann_core.data.dates import DAY, WEEKDAY_YEAR_DAYS, weekday
from rossmann_core.data.panel import Panel
from rossmann_core.explain.breakdown import Breakdown, breakdown, weekday_level
from rossmann_core.explain.drivers import DRIVER_LABELS, DRIVERS
from rossmann_core.features.history import FEATURE_HISTORY_DAYS, OriginStats, origin_stats
from rossmann_core.features.tabular import FeatureBuilder
from rossmann_core.models.forecast import horizon_rows
from rossmann_core.serving.servable import RequestInputs, Servable, request_inputs

HISTORY_DAYS_FOR_LAST_YEAR = FEATURE_HISTORY_DAYS + WEEKDAY_YEAR_DAYS
"""Days of history an explanation against last year needs: the features' days up to an origin 364 days back."""
OPEN_DAYS = "open_days"
UNEXPLAINED = "last_year_unexplained"
COMPARISON_PARTS = (OPEN_DAYS, *DRIVERS, UNEXPLAINED)
"""The parts of a change against last year, in the order answers list them."""


@dataclass(frozen=True)
class Period:
    """A week or the window: ``days`` asked, ``open_days``, ``forecast`` (total, euros), ``baseline`` (euros per open
    day) and ``log_factors`` (len(DRIVERS),); ``last_year`` the comparison (None with ``last_year_note``)."""

    first: np.datetime64
    days: int
    open_days: int
    forecast: float
    baseline: float | None
    log_factors: np.ndarray | None
    last_year: "Comparison | None"
    last_year_note: str | None


@dataclass(frozen=True)
class Comparison:
    """``actual`` last year's sales of the same days (euros), ``open_days`` its open days, ``model_forecast`` what the
    model forecasts for them, ``log_parts`` (len(COMPARISON_PARTS),) summing to log(forecast / actual)."""

    actual: float
    open_days: int
    model_forecast: float
    log_parts: np.ndarray


@dataclass(frozen=True)
class StoreExplanation:
    """Per day (n_days,): ``date``, ``open``, ``forecast`` and ``baseline`` (euros), ``log_factors`` (n_days,
    len(DRIVERS)); ``weeks`` (Monday-first calendar weeks, cut to the days asked) and ``window`` (every day asked).
    Closed days forecast 0 and have no baseline or factors (NaN)."""

    store: int
    model: str
    start: np.datetime64
    date: np.ndarray
    open: np.ndarray
    forecast: np.ndarray
    baseline: np.ndarray
    log_factors: np.ndarray
    weeks: list[Period]
    window: Period


def explain_store(
    servable: Servable, store_id: int, start: np.datetime64 | None = None, horizon_days: int = HORIZON_DAYS,
    model: str | None = None, overrides: CovariateOverrides | None = None,
) -> StoreExplanation:
    """Explain ``store_id``'s forecast of ``horizon_days`` days from ``start`` (default the day after the origin).

    Raises what :func:`~rossmann_core.serving.servable.forecast_stores` raises, and
    :class:`~rossmann_core.explain.breakdown.NotExplainedError` for a model without an exact explanation.
    """
    inputs = request_inputs(servable, np.array([store_id]), start, horizon_days, model, overrides)
    origin = inputs.origin
    now = rows_at(inputs, inputs.panel, origin, inputs.stats)
    history = inputs.version.history
    then = None
    if history.n_days >= HISTORY_DAYS_FOR_LAST_YEAR:
        then = rows_at(inputs, history, origin - WEEKDAY_YEAR_DAYS, origin_stats(history, origin - WEEKDAY_YEAR_DAYS))
    days, days_then = split_breakdown(inputs, [now] if then is None else [now, then])
    keep = slice(inputs.skip, inputs.leads)
    is_open = inputs.panel.open[0, origin + 1 : origin + 1 + inputs.leads][keep] != 0
    forecast = np.where(is_open, np.exp(days.forecast_log[keep]), 0.0)
    log_factors = np.where(is_open[:, None], days.driver_log[keep], np.nan)
    baseline = np.where(is_open, np.exp(days.baseline_log[keep]), np.nan)
    dates = inputs.start + np.arange(len(forecast)) * DAY
    last_year, note = last_year_days(inputs, days_then, keep)
    periods = [_period(dates, is_open, forecast, log_factors, last_year, note, np.flatnonzero(week))
               for week in _week_masks(dates)]
    window = _period(dates, is_open, forecast, log_factors, last_year, note, np.arange(len(dates)))
    return StoreExplanation(int(store_id), inputs.model, inputs.start, dates, is_open, forecast, baseline,
                            log_factors, periods, window)


def rows_at(inputs: RequestInputs, panel: Panel, origin: int, stats: OriginStats) -> tuple[np.ndarray, np.ndarray]:
    """(features (leads, n_features), :func:`weekday_level` (leads,)) of the request's one store on ``panel``'s days
    origin+1..origin+leads, ``stats`` at ``origin``."""
    store, day, origins = horizon_rows(panel, origin, inputs.leads, np.array([0]))
    features = FeatureBuilder(panel, inputs.version.stores, {origin: stats}).build(store, day, origins)
    return features, weekday_level(features, stats, store)


def split_breakdown(inputs: RequestInputs, parts: list[tuple[np.ndarray, np.ndarray]]
                    ) -> tuple[Breakdown, Breakdown | None]:
    """The breakdowns of one or two sets of :func:`rows_at` rows, computed in one pass (one walk of the trees)."""
    whole = breakdown(inputs.version, inputs.model, np.concatenate([p[0] for p in parts]),
                      np.concatenate([p[1] for p in parts]))
    n = inputs.leads
    first = Breakdown(whole.baseline_log[:n], whole.driver_log[:n])
    return first, (Breakdown(whole.baseline_log[n:], whole.driver_log[n:]) if len(parts) > 1 else None)


@dataclass(frozen=True)
class LastYear:
    """The days 364 days before the ones asked (n_days,): ``open``, ``actual`` sales (NaN unknown), the model's
    ``forecast`` of them and its ``log_factors`` (n_days, len(DRIVERS)), both from an origin 364 days back."""

    open: np.ndarray
    actual: np.ndarray
    forecast: np.ndarray
    log_factors: np.ndarray


def last_year_days(inputs: RequestInputs, days: Breakdown | None, keep: slice) -> tuple[LastYear | None, str | None]:
    """The same days last year as the model explains them (``days``: their breakdown from an origin 364 days back),
    or None and why not (too little history)."""
    history = inputs.version.history
    if days is None:
        return None, (f"the served history holds {history.n_days} days; explaining last year's weeks needs "
                      f"{HISTORY_DAYS_FOR_LAST_YEAR} (the features' {FEATURE_HISTORY_DAYS} days up to an origin "
                      f"{WEEKDAY_YEAR_DAYS} days back)")
    origin = inputs.origin - WEEKDAY_YEAR_DAYS
    span = slice(origin + 1, origin + 1 + inputs.leads)
    is_open = history.open[0, span][keep] == 1
    actual = np.where(history.open[0, span][keep] == 0, 0.0, history.sales[0, span][keep].astype(np.float64))
    forecast = np.where(is_open, np.exp(days.forecast_log[keep]), 0.0)
    return LastYear(is_open, actual, forecast, np.where(is_open[:, None], days.driver_log[keep], np.nan)), None


def _week_masks(dates: np.ndarray) -> list[np.ndarray]:
    """Boolean masks of ``dates`` per Monday-first week, in order."""
    monday = dates - weekday(dates) * DAY
    return [monday == first for first in np.unique(monday)]


def _weighted_logs(forecast: np.ndarray, log_factors: np.ndarray, is_open: np.ndarray) -> tuple[float, np.ndarray]:
    """(log baseline per open day, log factors (len(DRIVERS),)) of a period's open days."""
    total = forecast[is_open].sum()
    logs = (forecast[is_open, None] / total * log_factors[is_open]).sum(axis=0)
    return float(np.log(total / is_open.sum()) - logs.sum()), logs


def _period(dates: np.ndarray, is_open: np.ndarray, forecast: np.ndarray, log_factors: np.ndarray,
            last_year: LastYear | None, note: str | None, rows: np.ndarray) -> Period:
    """The :class:`Period` of the days ``rows``."""
    opened = is_open[rows]
    total = float(forecast[rows].sum())
    if not opened.any():
        return Period(dates[rows[0]], len(rows), 0, 0.0, None, None, None, "closed on every day asked")
    baseline_log, logs = _weighted_logs(forecast[rows], log_factors[rows], opened)
    comparison, note = (None, note) if last_year is None else _compare(last_year, rows, total, opened.sum(),
                                                                      baseline_log, logs)
    return Period(dates[rows[0]], len(rows), int(opened.sum()), total, float(np.exp(baseline_log)), logs,
                  comparison, note)


def _compare(last_year: LastYear, rows: np.ndarray, total: float, open_days: int, baseline_log: float,
             logs: np.ndarray) -> tuple[Comparison | None, str | None]:
    """The comparison of a period with the same days last year, or None and why not."""
    opened = last_year.open[rows]
    actual = last_year.actual[rows]
    if not opened.any():
        return None, "the store was closed on every one of these days last year"
    if np.isnan(actual[opened]).any():
        return None, "last year's sales of some of these days are unknown"
    actual_total = float(actual[opened].sum())
    if actual_total <= 0:
        return None, "no sales on these days last year"
    then_baseline, then_logs = _weighted_logs(last_year.forecast[rows], last_year.log_factors[rows], opened)
    model_total = float(last_year.forecast[rows].sum())
    drivers = logs - then_logs
    drivers[DRIVERS.index("level")] += baseline_log - then_baseline
    parts = np.concatenate([[np.log(open_days / opened.sum())], drivers, [np.log(model_total / actual_total)]])
    return Comparison(actual_total, int(opened.sum()), model_total, parts), None


PART_LABELS = {OPEN_DAYS: "days open", **DRIVER_LABELS, UNEXPLAINED: "last year's unexplained part"}
"""Words for each part of a change against last year (:data:`COMPARISON_PARTS`)."""
SENTENCE_MIN_SHARE = 0.005
"""Parts smaller than this (0.5 %) are left out of the sentence."""


def percent(log_change: float) -> str:
    """A log change as a signed whole percentage with a true minus sign, e.g. ``+9 %``, ``−2 %``."""
    value = round(100 * float(np.expm1(log_change)))
    return f"{'+' if value >= 0 else '−'}{abs(value)} %"


def sentence(comparison: Comparison, what: str) -> str:
    """E.g. "+9 % vs the same week last year: promotion +6 %, holidays −2 %": the change of ``what`` (the same week
    last year, ...) and its parts, largest first."""
    total = float(comparison.log_parts.sum())
    order = np.argsort(-np.abs(comparison.log_parts), kind="stable")
    parts = [f"{PART_LABELS[COMPARISON_PARTS[i]]} {percent(comparison.log_parts[i])}" for i in order
             if abs(np.expm1(comparison.log_parts[i])) >= SENTENCE_MIN_SHARE]
    return f"{percent(total)} vs {what}" + (f": {', '.join(parts)}" if parts else "")
