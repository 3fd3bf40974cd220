"""Accuracy of earlier runs' totals (``totals.csv``): each chain, state and store-type total per day or week
whose days all lie in the monitor's window of actuals is scored against the actual sales of its member stores,
when every member's row of every day has arrived (a closed day counts 0). Figures per level
(``<group_by>_<period_kind>``): ``totals``, ``rmspe`` (sqrt(mean(((f - a) / a)²)) over totals with a > 0),
``coverage_90`` (share with lower ≤ a ≤ upper) and ``bias`` (mean((f - a) / a)).
"""

import csv
import io
from typing import Any

import numpy as np

from rossmann_core.data.daily_csv import DailyRows
from rossmann_core.data.dates import DAY
from rossmann_core.data.stores import positions_of

SCORED_PERIODS = ("day", "week")


def day_grid(rows: DailyRows, first: np.datetime64, last: np.datetime64,
             values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(store ids (n,), ``values`` of ``rows`` (all within ``first..last``) as an (n, days) float64 grid, NaN
    where no row is)."""
    stores = np.unique(rows.store)
    grid = np.full((len(stores), int((last - first) / DAY) + 1), np.nan)
    grid[np.searchsorted(stores, rows.store), ((rows.date - first) / DAY).astype(int)] = values
    return stores, grid


def known_grid(rows: DailyRows, first: np.datetime64, last: np.datetime64) -> tuple[np.ndarray, np.ndarray]:
    """(store ids (n,), sales (n, days) for ``first..last``): a row's sales (0 on a closed day), NaN without a row."""
    rows = rows.take((rows.date >= first) & (rows.date <= last))
    return day_grid(rows, first, last, np.where(rows.open == 1, rows.sales, 0.0))


def actual_total(members: np.ndarray, days: slice, stores: np.ndarray, grid: np.ndarray) -> float:
    """The members' actual sales over ``days`` of ``grid``; NaN unless every member has a row on every day."""
    if not len(stores):
        return float("nan")
    position = positions_of(stores, members)
    if (position < 0).any():
        return float("nan")
    return float(grid[position, days].sum())


def score_run(totals_bytes: bytes, summary: dict[str, Any], forecast_stores: np.ndarray, stores: np.ndarray,
              grid: np.ndarray, first: np.datetime64) -> list[tuple[str, float, float, float, float]]:
    """(level, forecast, lower, upper, actual) of each of one run's totals that can be scored."""
    members = {"chain": {"chain": forecast_stores}}
    members |= {kind: {label: np.asarray(ids) for label, ids in groups.items()}
                for kind, groups in summary["totals"]["members"].items()}
    scored = []
    for row in csv.DictReader(io.StringIO(totals_bytes.decode("ascii"))):
        if row["period_kind"] not in SCORED_PERIODS or not row["lower"]:
            continue
        start = int((np.datetime64(row["first_day"]) - first) / DAY)
        stop = int((np.datetime64(row["last_day"]) - first) / DAY) + 1
        if start < 0 or stop > grid.shape[1] or row["group"] not in members.get(row["group_by"], {}):
            continue
        actual = actual_total(members[row["group_by"]][row["group"]], slice(start, stop), stores, grid)
        if np.isfinite(actual) and actual > 0:
            scored.append((f"{row['group_by']}_{row['period_kind']}", float(row["sales"]), float(row["lower"]),
                           float(row["upper"]), actual))
    return scored


def totals_report(scored: list[tuple[str, float, float, float, float]]) -> dict[str, dict[str, Any]]:
    """Figures per level of the scored totals of every run."""
    report = {}
    for level in sorted({s[0] for s in scored}):
        f, low, high, a = (np.array([s[i] for s in scored if s[0] == level]) for i in range(1, 5))
        error = (f - a) / a
        report[level] = {"totals": len(a), "rmspe": round(float(np.sqrt(np.mean(error**2))), 6),
                         "coverage_90": round(float(np.mean((low <= a) & (a <= high))), 6),
                         "bias": round(float(np.mean(error)), 6)}
    return report
