"""Totals for the handlers: any group of stores over any period of the forecast days, with 90 % bands.

The point forecast of a total is the sum of the served model's store-day forecasts (closed days 0, what-if
covariates applied as for single stores); its band comes from the version's totals pool
(:mod:`rossmann_core.totals.bands`). The actual sales of the same days 52 weeks earlier (same weekdays) come from
the served history. Without covariate overrides the every-store forecast is computed once per served state and
model (:meth:`~rossmann_core.serving.servable.Servable.every_store`), so a chain or state table costs the
aggregation only.
"""

from dataclasses import dataclass

import numpy as np

from rossmann_core.covariates.assume import CovariateOverrides
from rossmann_core.data.dates import DAY, WEEKDAY_YEAR_DAYS
from rossmann_core.data.panel import Panel
from rossmann_core.data.stores import StoreTable
from rossmann_core.errors import ForecastRequestError
from rossmann_core.serving.servable import Servable, StoreForecasts, forecast_days, forecast_stores
from rossmann_core.totals.bands import Totals, group_period_sums, period_sums, totals
from rossmann_core.totals.groups import Group, Period, StoreGroups, groups_of, periods_of
from rossmann_core.totals.pool import TotalsPool


@dataclass(frozen=True)
class TotalsTable:
    """Totals of ``groups`` x ``periods`` (see :class:`~rossmann_core.totals.bands.Totals`); ``stores`` (n_groups,)
    the number of stores in each group, ``dates`` the forecast days, ``last_year`` (n_groups, n_periods) the actual
    sales of the same days 52 weeks earlier (NaN where the history does not reach), ``banded`` False when the
    version has no totals pool for the model (lower and upper are then NaN)."""

    model: str
    groups: list[Group]
    periods: list[Period]
    dates: np.ndarray
    stores: np.ndarray
    totals: Totals
    last_year: np.ndarray
    banded: bool


def store_groups_of(stores: StoreTable, states: np.ndarray, rows: np.ndarray) -> StoreGroups:
    """The grouping attributes of store ``rows`` of ``stores`` (``states``: every store's federal state)."""
    return StoreGroups(stores.store_id[rows], stores.store_type[rows], stores.assortment[rows], states[rows])


def _window(forecast: StoreForecasts, first: np.datetime64, last: np.datetime64, n_stores: int) -> tuple:
    """(sales matrix (n_stores, n_days), dates, lead days) of ``forecast`` cut to ``first``..``last``."""
    dates = forecast.forecast.date.reshape(n_stores, -1)[0]
    keep = (dates >= first) & (dates <= last)
    sales = forecast.forecast.sales.reshape(n_stores, -1)[:, keep]
    return sales, dates[keep], forecast.forecast.lead_days.reshape(n_stores, -1)[0, keep]


def last_year_sums(history: Panel, rows: np.ndarray, dates: np.ndarray, groups: list[Group],
                   periods: list[Period]) -> np.ndarray:
    """Actual sales of each group-period 52 weeks earlier (NaN where a day lies before ``history``)."""
    index = ((dates - WEEKDAY_YEAR_DAYS * DAY) - history.start) // DAY
    inside = (index >= 0) & (index < history.n_days)
    sales = np.zeros((len(rows), len(dates)))
    sales[:, inside] = np.nan_to_num(history.sales[np.ix_(rows, index[inside].astype(np.int64))].astype(np.float64))
    sums = group_period_sums(sales, groups, periods)
    reached = period_sums(inside.astype(np.float64), periods) == np.array([p.last - p.first + 1 for p in periods])
    return np.where(reached[None, :], sums, np.nan)


@dataclass(frozen=True)
class TotalsSource:
    """What totals read besides the forecast: the served ``history`` (its stores are the version's, in order),
    every store's federal ``states``, the version's ``max_lead_days`` and the model's ``pool`` (None: no band)."""

    history: Panel
    states: np.ndarray
    max_lead_days: int
    pool: TotalsPool | None


def aggregate(source: TotalsSource, model: str, sales: np.ndarray, dates: np.ndarray, leads: np.ndarray,
              rows: np.ndarray, groups: list[Group], periods: list[Period]) -> TotalsTable:
    """Totals of the store-day ``sales`` (n_rows, n_days) euros of the stores at ``rows`` (of the history), each
    rounded to the cent first as every answer and file shows them, so that a total is the sum of what is
    published; ``leads`` (n_days,) are the days' leads after the origin."""
    banded = totals(np.round(sales, 2), dates, leads, source.states[rows], rows, len(source.states),
                    source.max_lead_days, groups, periods, source.pool)
    return TotalsTable(model=model, groups=groups, periods=periods, dates=dates,
                       stores=np.array([len(g.rows) for g in groups]), totals=banded,
                       last_year=last_year_sums(source.history, rows, dates, groups, periods),
                       banded=source.pool is not None)


def forecast_totals(
    servable: Servable, group_by: str, period: str, start: np.datetime64 | None = None, horizon_days: int = 42,
    model: str | None = None, overrides: CovariateOverrides | None = None, store_list: list[int] | None = None,
) -> TotalsTable:
    """Totals of ``group_by`` (:data:`~rossmann_core.totals.groups.GROUP_KINDS`; ``store_list`` for ``stores``)
    over ``period`` (:data:`~rossmann_core.totals.groups.PERIOD_KINDS`) of the days ``start`` (default the day
    after the origin) .. + ``horizon_days``. Raises ForecastRequestError (field, reason) or the store errors
    of :func:`~rossmann_core.serving.servable.forecast_stores`."""
    model = model or servable.default_model
    if model not in servable.version.models:
        raise ForecastRequestError(("model",), f"{model!r} is not a model of version {servable.version.name}")
    everyone = np.flatnonzero(servable.has_history)
    groups = groups_of(group_by, store_groups_of(servable.stores, servable.covariates.state_of_store, everyone),
                       store_list)
    first, last = forecast_days(servable, start, horizon_days)
    periods_of(period, np.array([first]))  # an unknown period kind fails before any forecast
    chosen = np.arange(len(everyone))  # positions among the stores with history
    if group_by == "stores":
        chosen = groups[0].rows
        groups = [Group("stores", np.arange(len(chosen)))]
    rows = everyone[chosen]
    if overrides is None:
        sales, dates, leads = _window(servable.every_store(model), first, last, len(everyone))
        sales = sales[chosen]
    else:
        ids = servable.stores.store_id[rows].astype(np.int64)
        result = forecast_stores(servable, ids, first, horizon_days, model, overrides)
        sales, dates, leads = _window(result, first, last, len(ids))
    source = TotalsSource(servable.history, servable.covariates.state_of_store, servable.max_lead_days,
                          servable.version.totals.get(model))
    return aggregate(source, model, sales, dates, leads, rows, groups, periods_of(period, dates))
