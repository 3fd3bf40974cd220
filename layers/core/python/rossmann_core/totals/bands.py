"""Totals of a store x day forecast over groups and periods, with 90 % bands drawn from the model's pool.

Each of DRAWS scenarios gives every forecast cell a log residual built from the pool's parts (:mod:`.pool`):
a chain-wide day shock made of a pool week's level for each week of the forecast (so a level the chain runs at for
a week stays together in a week's total) plus, for each day, a pool day's deviation from its own week's level
(drawn among the pool's days of the same weekday), one window's
state offsets for all states (their joint pattern kept), a store offset per store, and cell noise for the
total as a whole, scaled by how concentrated the total is on few cells. A total's band is the 5 % and 95 %
quantiles of its scenario totals. The scenarios are fixed by SEED, so every process (the batch, the API)
draws the same and gives the same bands for the same forecast (docs/decisions/027-totals-bands.md).
"""

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rossmann_core.data.dates import weekday
from rossmann_core.data.stores import positions_of
from rossmann_core.totals.groups import Group, Period
from rossmann_core.totals.pool import TotalsPool

DRAWS = 500
SEED = 20_150_619
CELL_SLOTS = 4096
"""Independent cell-noise draws per scenario; totals beyond this many reuse them in turn."""
LOWER_QUANTILE, UPPER_QUANTILE = 0.05, 0.95


@dataclass(frozen=True)
class Draws:
    """Uniform [0, 1) numbers that pick each scenario's parts: ``week`` (DRAWS, lead weeks) and ``day`` (DRAWS,
    max lead days) the day shocks, ``window`` (DRAWS,) the state offsets, ``store`` (DRAWS, n_stores of the
    version, by store row) the store offsets and ``cell`` (DRAWS, CELL_SLOTS) the cell noise."""

    week: np.ndarray
    day: np.ndarray
    window: np.ndarray
    store: np.ndarray
    cell: np.ndarray


@lru_cache(maxsize=4)
def draws(n_stores: int, max_lead_days: int) -> Draws:
    """The fixed scenario numbers for a version of ``n_stores`` stores forecasting up to ``max_lead_days``."""
    rng = np.random.default_rng(SEED)
    return Draws(week=rng.random((DRAWS, -(-max_lead_days // 7))), day=rng.random((DRAWS, max_lead_days)),
                 window=rng.random(DRAWS),
                 store=rng.random((DRAWS, n_stores)), cell=rng.random((DRAWS, CELL_SLOTS)))


@dataclass(frozen=True)
class Totals:
    """Totals of groups x periods in euros: ``sales`` (the sum of the store-day forecasts), ``lower`` and
    ``upper`` (the 90 % band), ``open_store_days`` (cells forecast open), each of shape (n_groups, n_periods)."""

    sales: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    open_store_days: np.ndarray


def drawn(uniform: np.ndarray, count: int) -> np.ndarray:
    """``floor(uniform * count)``: an index in 0..count-1 for each uniform [0, 1) number."""
    return np.minimum((uniform * count).astype(np.int64), count - 1)


def pick(values: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """A draw of ``values`` for each uniform number."""
    return values[drawn(uniform, len(values))]


def week_table(pool: TotalsPool) -> np.ndarray:
    """(n_pool_weeks, 7) the pool's day shocks by week (every window's whole weeks) and weekday, Monday first."""
    n_windows, n_days = pool.day_shock.shape
    weeks = n_days // 7
    table = np.zeros((n_windows * weeks, 7))
    for w in range(n_windows):
        for k in range(weeks):
            days = slice(7 * k, 7 * k + 7)
            table[w * weeks + k, pool.day_weekday[w, days]] = pool.day_shock[w, days]
    return table


def day_shocks(pool: TotalsPool, dates: np.ndarray, lead_days: np.ndarray, numbers: Draws) -> np.ndarray:
    """(DRAWS, n_days) day shocks: for each week of leads (1-7, 8-14, ...) one pool week's level per scenario, plus
    for each day the deviation of a pool day of its weekday from that day's own week's level."""
    table = week_table(pool)
    level = table.mean(axis=1)
    deviation = table - level[:, None]
    chosen_day = drawn(numbers.day[:, lead_days - 1], len(table))
    return pick(level, numbers.week[:, (lead_days - 1) // 7]) + deviation[chosen_day, weekday(dates)[None, :]]


def store_factors(pool: TotalsPool, states: np.ndarray, store_rows: np.ndarray, numbers: Draws) -> np.ndarray:
    """(DRAWS, n_stores) exp(state offset + store offset) of each scenario; a state the pool lacks gets 0."""
    column = positions_of(pool.state_names, states)
    state_part = np.where(column >= 0, pick(pool.state_offset, numbers.window)[:, column], 0.0)
    store_part = pick(pool.store_offset.astype(np.float64), numbers.store[:, store_rows])
    return np.exp(state_part + store_part)


def period_sums(matrix: np.ndarray, periods: list[Period]) -> np.ndarray:
    """Sums of ``matrix`` (..., n_days) over each period's days: (..., n_periods)."""
    ends = np.cumsum(matrix, axis=-1)
    last = np.array([p.last for p in periods])
    first = np.array([p.first for p in periods])
    before = np.where(first > 0, ends[..., np.maximum(first - 1, 0)], 0.0)
    return ends[..., last] - before


def group_period_sums(matrix: np.ndarray, groups: list[Group], periods: list[Period]) -> np.ndarray:
    """Sums of ``matrix`` (n_stores, n_days) over each group's rows and each period's days: (n_groups, n_periods)."""
    return np.array([period_sums(matrix[g.rows].sum(axis=0), periods) for g in groups]).reshape(len(groups), -1)


def totals(
    forecast: np.ndarray, dates: np.ndarray, lead_days: np.ndarray, states: np.ndarray, store_rows: np.ndarray,
    n_version_stores: int, max_lead_days: int, groups: list[Group], periods: list[Period], pool: TotalsPool | None,
) -> Totals:
    """Totals with bands of ``forecast`` (n_stores, n_days) euros, 0 on closed days, for ``groups`` (rows of
    ``forecast``) x ``periods`` (its columns). ``dates`` and ``lead_days`` (n_days,) are the forecast days and
    their leads after the origin; ``states`` (n_stores,) the stores' federal states; ``store_rows`` their rows in
    the version (n_version_stores stores), which pick their scenario draws. Without a ``pool`` (a version written
    before totals) the bands are NaN."""
    point = group_period_sums(forecast, groups, periods)
    open_days = group_period_sums((forecast > 0).astype(np.float64), groups, periods).astype(np.int64)
    if pool is None:
        return Totals(point, np.full(point.shape, np.nan), np.full(point.shape, np.nan), open_days)
    numbers = draws(n_version_stores, max_lead_days)
    shock = np.exp(day_shocks(pool, dates, lead_days, numbers))
    factors = store_factors(pool, states, store_rows, numbers)
    squares = group_period_sums(forecast**2, groups, periods)
    low, high = np.zeros(point.shape), np.zeros(point.shape)
    for g, group in enumerate(groups):
        scenario = period_sums((factors[:, group.rows] @ forecast[group.rows]) * shock, periods)
        slots = (g * len(periods) + np.arange(len(periods))) % CELL_SLOTS
        noise = pick(pool.cell_quantiles.astype(np.float64), numbers.cell[:, slots])
        with np.errstate(invalid="ignore", divide="ignore"):
            log_ratio = np.log(scenario / point[g]) + noise * np.sqrt(squares[g]) / point[g]
            low[g], high[g] = np.quantile(log_ratio, [LOWER_QUANTILE, UPPER_QUANTILE], axis=0)
    return Totals(sales=point, lower=np.where(point > 0, point * np.exp(low), 0.0),
                  upper=np.where(point > 0, point * np.exp(high), 0.0), open_store_days=open_days)
