"""Read Kaggle's daily files (``train.csv`` history, ``test.csv``-shaped future days) into numpy.

Plain files (Kaggle's) are tokenised and converted by numpy over the raw bytes (``csv_fast``);
anything else, or a value that does not convert, goes through the ``csv`` module row by row, which
finds the first bad line so the error names file, line and column. Both paths then run the same
range and consistency checks. Nothing is dropped silently.
"""

import csv
import io
import logging
import time
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from rossmann_core.data import csv_fast
from rossmann_core.data.dates import iso_day, weekday
from rossmann_core.data.encoding import plain_bytes
from rossmann_core.errors import DataValidationError

log = logging.getLogger(__name__)

HISTORY_COLUMNS = (
    "Store", "DayOfWeek", "Date", "Sales", "Customers", "Open", "Promo", "StateHoliday",
    "SchoolHoliday",
)
FUTURE_COLUMNS = ("Store", "DayOfWeek", "Date", "Open", "Promo", "StateHoliday", "SchoolHoliday")
STATE_HOLIDAY_LETTERS = ("0", "a", "b", "c")
"""Kaggle's StateHoliday letters: none, public holiday, Easter, Christmas; a letter's index is its int8 code."""
NO_HOLIDAY, PUBLIC_HOLIDAY, EASTER_HOLIDAY, CHRISTMAS_HOLIDAY = range(len(STATE_HOLIDAY_LETTERS))
STATE_HOLIDAY_CODES = {letter: code for code, letter in enumerate(STATE_HOLIDAY_LETTERS)}
"""StateHoliday letter -> int8 code."""


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


def read_data_file(path: str) -> bytes:
    """The bytes of a data file; DataValidationError naming it if it is missing or unreadable."""
    try:
        with open(path, "rb") as stream:
            return stream.read()
    except FileNotFoundError:
        raise DataValidationError(path, None, None, "file not found") from None
    except OSError as error:
        raise DataValidationError(path, None, None, f"cannot be read ({error.strerror})") from None


def read_history_csv(path: str) -> DailyRows:
    """Read and validate a ``train.csv``-shaped file of daily history."""
    return parse_daily_bytes(read_data_file(path), path, HISTORY_COLUMNS)


def read_future_csv(path: str) -> DailyRows:
    """Read and validate a ``test.csv``-shaped file of known-future days (no Sales/Customers)."""
    return parse_daily_bytes(read_data_file(path), path, FUTURE_COLUMNS)


def parse_daily_bytes(data: bytes, source: str, columns: tuple[str, ...]) -> DailyRows:
    """Parse and validate CSV bytes (e.g. an S3 object body; UTF-8, a BOM or gzip allowed:
    :func:`~rossmann_core.data.encoding.plain_bytes`) whose header holds ``columns``."""
    started = time.perf_counter()
    data = plain_bytes(data, source)
    header_end = data.find(b"\n")
    header_line = data if header_end < 0 else data[:header_end]
    header = next(csv.reader([header_line.decode("utf-8").rstrip("\r")]), None)
    if not header:
        raise DataValidationError(source, 1, None, "file is empty, expected a header row")
    for name in columns:
        if name not in header:
            raise DataValidationError(source, 1, name, f"required column is missing; header is {header}")
    position = {name: header.index(name) for name in columns}
    body = b"" if header_end < 0 else data[header_end + 1 :]
    values = _fast_values(body, len(header), position)
    path = "vectorised"
    if values is None:
        path = "row by row"
        values = _row_values(io.StringIO(data.decode("utf-8"), newline=""), source, position)
    parsed = _validated(values, source, "Sales" in columns)
    log.info(
        "read %s: %d rows, %d stores, %s..%s in %.2f s (%s)", source, len(parsed),
        len(np.unique(parsed.store)), parsed.date.min(), parsed.date.max(), time.perf_counter() - started, path,
    )
    return parsed


_INT_COLUMNS = ("Store", "DayOfWeek", "Sales", "Customers")
_FLAG_COLUMNS = ("Open", "Promo", "SchoolHoliday")


def _fast_values(body: bytes, width: int, position: dict[str, int]) -> dict[str, np.ndarray] | None:
    """Converted columns of a plain body, or None when any field needs the row-by-row reader."""
    fields = csv_fast.split_plain(body, width)
    if fields is None:
        return None
    converters = {
        **{name: lambda c: csv_fast.digits(fields, c) for name in _INT_COLUMNS},
        **{name: lambda c: csv_fast.codes(fields, c, {"0": 0, "1": 1, "": -1}) for name in _FLAG_COLUMNS},
        "StateHoliday": lambda c: csv_fast.codes(fields, c, STATE_HOLIDAY_CODES),
        "Date": lambda c: csv_fast.iso_dates(fields, c),
    }
    values = {}
    for name, column in position.items():
        values[name] = converters[name](column)
        if values[name] is None:
            return None
    return values


def _row_values(stream: TextIO, source: str, position: dict[str, int]) -> dict[str, np.ndarray]:
    """Converted columns read with the ``csv`` module; raises DataValidationError on the first bad field."""
    reader = csv.reader(stream)
    width = len(next(reader))
    rows = list(reader)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataValidationError(source, i + 2, None, f"expected {width} fields, found {len(row)}")
    if not rows:
        raise DataValidationError(source, 2, None, "file has a header but no rows")
    raw = {name: [row[column] for row in rows] for name, column in position.items()}
    values = {name: _ints(raw[name], source, name) for name in _INT_COLUMNS if name in raw}
    for name in _FLAG_COLUMNS:
        values[name] = _flags(raw[name], source, name)
    values["StateHoliday"] = _state_holidays(raw["StateHoliday"], source)
    values["Date"] = _dates(raw["Date"], source)
    return values


def _validated(values: dict[str, np.ndarray], source: str, is_history: bool) -> DailyRows:
    """DailyRows from converted columns after the range and consistency checks."""
    n = len(values["Store"])
    unknown_open = values["Open"] == -1
    if is_history and unknown_open.any():
        i = int(np.flatnonzero(unknown_open)[0])
        raise DataValidationError(source, i + 2, "Open", "'' is not 0 or 1")
    for name in ("Promo", "SchoolHoliday"):
        empty = np.flatnonzero(values[name] == -1)
        if empty.size:
            raise DataValidationError(source, int(empty[0]) + 2, name, "'' is not 0 or 1")
    parsed = DailyRows(
        source=source,
        store=_in_range(values["Store"], source, "Store", 1, 1_000_000).astype(np.int32),
        date=values["Date"],
        sales=_in_range(values["Sales"], source, "Sales", 0, None) if is_history else np.full(n, -1),
        customers=_in_range(values["Customers"], source, "Customers", 0, None) if is_history else np.full(n, -1),
        open=values["Open"],
        promo=values["Promo"],
        state_holiday=values["StateHoliday"],
        school_holiday=values["SchoolHoliday"],
        line=np.arange(2, n + 2, dtype=np.int64),
    )
    _check_weekdays(parsed, _in_range(values["DayOfWeek"], source, "DayOfWeek", 1, 7))
    _check_unique_store_dates(parsed)
    if is_history:
        _check_closed_without_sales(parsed)
    return parsed


def _first_bad(values: list[str], ok) -> int:
    return next(i for i, value in enumerate(values) if not ok(value))


def _is_int(value: str) -> bool:
    try:
        int(value)
    except ValueError:
        return False
    return True


def _ints(values: list[str], source: str, column: str) -> np.ndarray:
    try:
        return np.array(values).astype(np.int64)
    except ValueError:
        i = _first_bad(values, _is_int)
        raise DataValidationError(source, i + 2, column, f"{values[i]!r} is not an integer") from None


def _in_range(values: np.ndarray, source: str, column: str, low: int, high: int | None) -> np.ndarray:
    too_low = values < low
    too_high = values > high if high is not None else np.zeros_like(too_low)
    bad = np.flatnonzero(too_low | too_high)
    if bad.size:
        i = int(bad[0])
        bound = f">= {low}" if high is None else f"in {low}..{high}"
        raise DataValidationError(source, i + 2, column, f"{values[i]} is out of range, expected {bound}")
    return values


def _flags(values: list[str], source: str, column: str) -> np.ndarray:
    """0/1 flags as int8; an empty field becomes -1 (unknown), which only future files allow."""
    allowed = {"0": 0, "1": 1, "0.0": 0, "1.0": 1, "": -1}
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
    return iso_day(value) is not None


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
