"""How complete the night's data feed is, measured before anything is forecast or committed.

A well-formed file can still be incomplete: a late region leaves its stores out of the newest day, a day goes
missing, a delta file holds only recent days. The night measures, against the calendar and the stores open on
the same weekday a week earlier: the stores missing on the newest day, the days of the history window without
any row, and how many of the days the model needs hold rows. When more than ``max_missing_share`` of the expected
stores lack the newest day, that day is not used: the night forecasts from the last day that is complete enough
and says so (``fell_back``); smaller gaps are named.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

from rossmann_core.data.daily_csv import DailyRows
from rossmann_core.data.dates import DAY
from rossmann_core.errors import RossmannError

MAX_FALLBACK_DAYS = 7
"""How many days back the night looks for a complete day before it refuses to forecast."""
NAMED_STORES = 50
"""Stores named in the report at most (the count is always given)."""


class IncompleteFeedError(RossmannError):
    """No day of the last MAX_FALLBACK_DAYS is complete enough to forecast from; nothing was written."""


@dataclass(frozen=True)
class DataFeed:
    """The feed's completeness: ``newest_day`` of the data, ``origin`` used, ``fell_back`` (the newest day was not
    used), ``stores_missing_newest_day`` (expected there, ids ascending), ``days_without_rows`` (in the history
    window up to the origin), ``history_days`` (days of that window holding rows) of ``history_days_needed``."""

    newest_day: np.datetime64
    origin: np.datetime64
    fell_back: bool
    stores_missing_newest_day: np.ndarray
    expected_newest_day: int
    days_without_rows: np.ndarray
    history_days: int
    history_days_needed: int

    def to_dict(self) -> dict[str, Any]:
        """JSON fields for the summary, the log and the state pointer."""
        missing = self.stores_missing_newest_day
        return {"newest_day": str(self.newest_day), "origin": str(self.origin), "fell_back": self.fell_back,
                "stores_missing_newest_day": len(missing), "expected_newest_day": self.expected_newest_day,
                "stores_missing_newest_day_ids": missing[:NAMED_STORES].astype(int).tolist(),
                "days_without_rows": np.datetime_as_string(self.days_without_rows).tolist(),
                "history_days": self.history_days, "history_days_needed": self.history_days_needed}


def missing_on(rows: DailyRows, stores: np.ndarray, day: np.datetime64) -> tuple[np.ndarray, int]:
    """(ids of ``stores`` open on ``day`` a week earlier that have no row on ``day``, how many were expected)."""
    week_before = rows.store[(rows.date == day - 7 * DAY) & (rows.open == 1)]
    expected = np.intersect1d(week_before, stores)
    return np.setdiff1d(expected, rows.store[rows.date == day]), len(expected)


def measure(rows: DailyRows, stores: np.ndarray, n_days: int, max_missing_share: float) -> DataFeed:
    """The completeness of ``rows`` for a model of ``stores`` that needs ``n_days`` days of history; the origin is
    the newest day unless more than ``max_missing_share`` of its expected stores lack it (then the latest day that
    is complete enough, within MAX_FALLBACK_DAYS). Raises IncompleteFeedError when none is."""
    newest = rows.date.max()
    missing_newest, expected_newest = missing_on(rows, stores, newest)
    for back in range(MAX_FALLBACK_DAYS):
        origin = newest - back * DAY
        missing, expected = (missing_newest, expected_newest) if back == 0 else missing_on(rows, stores, origin)
        if len(missing) <= max_missing_share * max(expected, 1):
            break
    else:
        raise IncompleteFeedError(
            f"none of the data's last {MAX_FALLBACK_DAYS} days ({newest - (MAX_FALLBACK_DAYS - 1) * DAY}..{newest}) "
            f"has rows for at least {1 - max_missing_share:.0%} of the stores open a week earlier; nothing forecast")
    window = origin - (n_days - 1) * DAY + np.arange(n_days).astype("timedelta64[D]")
    with_rows = np.isin(window, np.unique(rows.date[np.isin(rows.store, stores)]))
    return DataFeed(newest, origin, bool(origin != newest), missing_newest, expected_newest, window[~with_rows],
                    int(with_rows.sum()), n_days)
