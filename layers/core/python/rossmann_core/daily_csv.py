"""Read Kaggle's daily files (``train.csv`` history, ``test.csv``-shaped future days) into numpy.

Parsing is vectorised; when a column fails to convert, a row-by-row scan finds the first bad line
so the error names file, line and column. Nothing is dropped silently.
"""

import csv
import io
import logging
import time
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from .calendar import weekday
from .errors import DataValidationError

log = logging.getLogger(__name__)

HISTORY_COLUMNS = (
    "Store", "DayOfWeek", "Date", "Sales", "Customers", "Open", "Promo", "StateHoliday",
    "SchoolHoliday",
)
FUTURE_COLUMNS = ("Store", "DayOfWeek", "Date", "Open", "Promo", "StateHoliday", "SchoolHoliday")
STATE_HOLIDAY_CODES = {"0": 0, "a": 1, "b": 2, "c": 3}
"""StateHoliday letters to int8 codes: 0 none, 1 public, 2 Easter, 3 Christmas."""


@dataclass(frozen=True)
class DailyRows:
    """One entry per file row, all arrays of shape (n_rows,).

    ``sales`` and ``customers`` are -1 in future files; ``open`` is -1 where a future file leaves it
    empty. ``line`` is the 1-based line of each row in its file, for error messages.
    """

    source: str
    store: np.ndarray  # int32
    date: np.ndarray  # datetime64[D]
    sales: np.ndarray  # int64, euros
    customers: np.ndarray  # int64
    open: np.ndarray  # int8
    promo: np.ndarray  # int8
    state_holiday: np.ndarray  # int8 code, see STATE_HOLIDAY_CODES
    school_holiday: np.ndarray  # int8
    line: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.store)

    def take(self, index: np.ndarray) -> "DailyRows":
        """Rows selected by a boolean mask or integer index."""
        return DailyRows(
            self.source,
            *(getattr(self, name)[index] for name in _ARRAY_FIELDS),
        )


_ARRAY_FIELDS = (
    "store", "date", "sales", "customers", "open", "promo", "state_holiday", "school_holiday",
    "line",
)


def read_history_csv(path: str) -> DailyRows:
    """Read and validate a ``train.csv``-shaped file of daily history."""
    with open(path, newline="", encoding="utf-8") as stream:
        return parse_daily_csv(stream, path, HISTORY_COLUMNS)


def read_future_csv(path: str) -> DailyRows:
    """Read and validate a ``test.csv``-shaped file of known-future days (no Sales/Customers)."""
    with open(path, newline="", encoding="utf-8") as stream:
        return parse_daily_csv(stream, path, FUTURE_COLUMNS)


def parse_daily_text(text: str, source: str, columns: tuple[str, ...]) -> DailyRows:
    """Parse CSV text already in memory (e.g. an S3 object body)."""
    return parse_daily_csv(io.StringIO(text, newline=""), source, columns)


def parse_daily_csv(stream: TextIO, source: str, columns: tuple[str, ...]) -> DailyRows:
    """Parse and validate a daily CSV whose header holds at least ``columns``."""
    started = time.perf_counter()
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        raise DataValidationError(source, 1, None, "file is empty, expected a header row")
    position = {name: i for i, name in enumerate(header)}
    for name in columns:
        if name not in position:
            raise DataValidationError(source, 1, name, f"required column is missing; header is {header}")
    rows = list(reader)
    width = len(header)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataValidationError(source, i + 2, None, f"expected {width} fields, found {len(row)}")
    if not rows:
        raise DataValidationError(source, 2, None, "file has a header but no rows")
    raw = {name: [row[position[name]] for row in rows] for name in columns}
    is_history = "Sales" in columns
    n = len(rows)
    parsed = DailyRows(
        source=source,
        store=_ints(raw["Store"], source, "Store", 1, 1_000_000).astype(np.int32),
        date=_dates(raw["Date"], source),
        sales=_ints(raw["Sales"], source, "Sales", 0, None) if is_history else np.full(n, -1),
        customers=(
            _ints(raw["Customers"], source, "Customers", 0, None) if is_history else np.full(n, -1)
        ),
        open=_flags(raw["Open"], source, "Open", allow_empty=not is_history),
        promo=_flags(raw["Promo"], source, "Promo", allow_empty=False),
        state_holiday=_state_holidays(raw["StateHoliday"], source),
        school_holiday=_flags(raw["SchoolHoliday"], source, "SchoolHoliday", allow_empty=False),
        line=np.arange(2, n + 2, dtype=np.int64),
    )
    _check_weekdays(parsed, _ints(raw["DayOfWeek"], source, "DayOfWeek", 1, 7))
    _check_unique_store_dates(parsed)
    if is_history:
        _check_closed_without_sales(parsed)
    log.info(
        "read %s: %d rows, %d stores, %s..%s in %.2f s", source, n, len(np.unique(parsed.store)),
        parsed.date.min(), parsed.date.max(), time.perf_counter() - started,
    )
    return parsed


def _first_bad(values: list[str], ok) -> int:
    return next(i for i, value in enumerate(values) if not ok(value))


def _is_int(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True


def _ints(values: list[str], source: str, column: str, low: int, high: int | None) -> np.ndarray:
    try:
        out = np.array(values).astype(np.int64)
    except ValueError:
        i = _first_bad(values, _is_int)
        raise DataValidationError(source, i + 2, column, f"{values[i]!r} is not an integer") from None
    too_low = out < low
    too_high = out > high if high is not None else np.zeros_like(too_low)
    bad = np.flatnonzero(too_low | too_high)
    if bad.size:
        i = int(bad[0])
        bound = f">= {low}" if high is None else f"in {low}..{high}"
        raise DataValidationError(source, i + 2, column, f"{out[i]} is out of range, expected {bound}")
    return out


def _flags(values: list[str], source: str, column: str, allow_empty: bool) -> np.ndarray:
    """0/1 flags as int8; an empty field becomes -1 (unknown) where ``allow_empty``."""
    allowed = {"0": 0, "1": 1, "0.0": 0, "1.0": 1}
    if allow_empty:
        allowed[""] = -1
    try:
        return np.array([allowed[v] for v in values], dtype=np.int8)
    except KeyError:
        i = _first_bad(values, lambda v: v in allowed)
        raise DataValidationError(source, i + 2, column, f"{values[i]!r} is not 0 or 1") from None


def _state_holidays(values: list[str], source: str) -> np.ndarray:
    try:
        return np.array([STATE_HOLIDAY_CODES[v] for v in values], dtype=np.int8)
    except KeyError:
        i = _first_bad(values, lambda v: v in STATE_HOLIDAY_CODES)
        raise DataValidationError(
            source, i + 2, "StateHoliday", f"{values[i]!r} is not one of 0, a, b, c"
        ) from None


def _is_date(value: str) -> bool:
    try:
        np.datetime64(value, "D")
    except ValueError:
        return False
    return len(value) == 10


def _dates(values: list[str], source: str) -> np.ndarray:
    unique, inverse = np.unique(np.array(values), return_inverse=True)
    try:
        if any(len(value) != 10 for value in unique):
            raise ValueError
        parsed = unique.astype("datetime64[D]")
    except ValueError:
        i = _first_bad(values, _is_date)
        raise DataValidationError(source, i + 2, "Date", f"{values[i]!r} is not a YYYY-MM-DD date") from None
    return parsed[inverse]


def _check_weekdays(rows: DailyRows, day_of_week: np.ndarray) -> None:
    bad = np.flatnonzero(weekday(rows.date) + 1 != day_of_week)
    if bad.size:
        i = int(bad[0])
        raise DataValidationError(
            rows.source, int(rows.line[i]), "DayOfWeek",
            f"{day_of_week[i]} does not match Date {rows.date[i]} (1 = Monday)",
        )


def _check_unique_store_dates(rows: DailyRows) -> None:
    key = rows.store.astype(np.int64) * 1_000_000 + rows.date.astype(np.int64)
    order = np.argsort(key, kind="stable")
    repeated = np.flatnonzero(key[order][1:] == key[order][:-1])
    if repeated.size:
        first, second = order[repeated[0]], order[repeated[0] + 1]
        raise DataValidationError(
            rows.source, int(rows.line[second]), "Date",
            f"duplicate row for Store {rows.store[second]} on {rows.date[second]} "
            f"(first seen on line {rows.line[first]})",
        )


def _check_closed_without_sales(rows: DailyRows) -> None:
    bad = np.flatnonzero((rows.open == 0) & (rows.sales > 0))
    if bad.size:
        i = int(bad[0])
        raise DataValidationError(
            rows.source, int(rows.line[i]), "Sales", f"store is closed (Open = 0) but Sales = {rows.sales[i]}"
        )
