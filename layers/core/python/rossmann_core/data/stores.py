"""Parse ``store.csv`` into numeric per-store arrays (no pandas)."""

import csv
import io
import logging
from dataclasses import dataclass
from itertools import pairwise
from typing import TextIO

import numpy as np

from rossmann_core.data.daily_csv import read_data_file
from rossmann_core.data.encoding import text_of
from rossmann_core.errors import DataValidationError

log = logging.getLogger(__name__)

STORE_COLUMNS = (
    "Store", "StoreType", "Assortment", "CompetitionDistance", "CompetitionOpenSinceMonth",
    "CompetitionOpenSinceYear", "Promo2", "Promo2SinceWeek", "Promo2SinceYear", "PromoInterval",
)
STORE_TYPES = ("a", "b", "c", "d")
ASSORTMENTS = ("a", "b", "c")
MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec")


def positions_of(sorted_ids: np.ndarray, store_ids: np.ndarray) -> np.ndarray:
    """Index of each of ``store_ids`` in ``sorted_ids`` (ascending, unique), -1 where absent.

    int64 array shaped like ``store_ids``: the one sorted-id lookup of the code base.
    """
    store_ids = np.asarray(store_ids)
    position = np.clip(np.searchsorted(sorted_ids, store_ids), 0, len(sorted_ids) - 1)
    return np.where(sorted_ids[position] == store_ids, position, -1)


def require_same_stores(first: np.ndarray, second: np.ndarray, what: str) -> None:
    """Raise ValueError unless two store id arrays are equal (same stores, same order); ``what`` names them."""
    if not np.array_equal(first, second):
        raise ValueError(f"{what} must hold the same stores in the same order")


@dataclass(frozen=True)
class StoreTable:
    """Per-store metadata, arrays of shape (n_stores,) sorted by ``store_id``.

    Missing numbers are NaN. ``promo2_months`` is bool of shape (n_stores, 12): the months (Jan = 0)
    in which the store's Promo2 restarts.
    """

    store_id: np.ndarray  # int32
    store_type: np.ndarray  # int8, index into STORE_TYPES
    assortment: np.ndarray  # int8, index into ASSORTMENTS
    competition_distance: np.ndarray  # float64, metres
    competition_open_month: np.ndarray  # float64, 1..12
    competition_open_year: np.ndarray  # float64
    promo2: np.ndarray  # int8
    promo2_since_week: np.ndarray  # float64, ISO week
    promo2_since_year: np.ndarray  # float64
    promo2_months: np.ndarray  # bool (n_stores, 12)

    def index_of(self, store_ids: np.ndarray) -> np.ndarray:
        """Positions of ``store_ids`` in this table; -1 for unknown stores."""
        return positions_of(self.store_id, store_ids)

    def take(self, rows: np.ndarray) -> "StoreTable":
        """The table restricted to store ``rows`` (integer positions or a boolean mask)."""
        return StoreTable(**{name: getattr(self, name)[rows] for name in self.__dataclass_fields__})

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays keyed by field name, for ``np.savez``."""
        return {f"store_{name}": getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "StoreTable":
        return cls(**{name: np.asarray(arrays[f"store_{name}"]) for name in cls.__dataclass_fields__})


def read_store_csv(path: str) -> StoreTable:
    return parse_store_text(text_of(read_data_file(path), path), path)


def parse_store_text(text: str, source: str) -> StoreTable:
    return parse_store_csv(io.StringIO(text, newline=""), source)


def parse_store_csv(stream: TextIO, source: str) -> StoreTable:
    """Parse and validate ``store.csv``; errors name the file, line and column."""
    reader = csv.DictReader(stream)
    missing = [name for name in STORE_COLUMNS if name not in (reader.fieldnames or [])]
    if missing:
        raise DataValidationError(source, 1, missing[0], f"required column is missing; header is {reader.fieldnames}")
    records = [_parse_store_row(row, source, i + 2) for i, row in enumerate(reader)]
    if not records:
        raise DataValidationError(source, 2, None, "file has a header but no rows")
    records.sort(key=lambda record: record[0])
    ids = [record[0] for record in records]
    repeated = [store for store, nxt in pairwise(ids) if store == nxt]
    if repeated:
        raise DataValidationError(source, None, "Store", f"store {repeated[0]} appears more than once")
    columns = list(zip(*records))
    log.info("read %s: %d stores", source, len(records))
    return StoreTable(
        store_id=np.array(columns[0], dtype=np.int32),
        store_type=np.array(columns[1], dtype=np.int8),
        assortment=np.array(columns[2], dtype=np.int8),
        competition_distance=np.array(columns[3], dtype=np.float64),
        competition_open_month=np.array(columns[4], dtype=np.float64),
        competition_open_year=np.array(columns[5], dtype=np.float64),
        promo2=np.array(columns[6], dtype=np.int8),
        promo2_since_week=np.array(columns[7], dtype=np.float64),
        promo2_since_year=np.array(columns[8], dtype=np.float64),
        promo2_months=np.array(columns[9], dtype=bool).reshape(len(records), 12),
    )


def _parse_store_row(row: dict[str, str], source: str, line: int) -> tuple:
    def number(column: str, low: float, high: float) -> float:
        text = row[column].strip()
        if text == "":
            return float("nan")
        try:
            value = float(text)
        except ValueError:
            raise DataValidationError(source, line, column, f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise DataValidationError(source, line, column, f"{value:g} is out of range {low:g}..{high:g}")
        return value

    def choice(column: str, options: tuple[str, ...]) -> int:
        if row[column] not in options:
            raise DataValidationError(source, line, column, f"{row[column]!r} is not one of {options}")
        return options.index(row[column])

    store = number("Store", 1, 1_000_000)
    if store != store:
        raise DataValidationError(source, line, "Store", "store id is empty")
    promo2 = number("Promo2", 0, 1)
    if promo2 != promo2:
        raise DataValidationError(source, line, "Promo2", "empty, expected 0 or 1")
    interval = [part for part in row["PromoInterval"].split(",") if part]
    unknown = [part for part in interval if part not in MONTH_ABBREVIATIONS]
    if unknown:
        raise DataValidationError(source, line, "PromoInterval", f"unknown month {unknown[0]!r}")
    if promo2 == 1 and not interval:
        raise DataValidationError(source, line, "PromoInterval", "Promo2 = 1 but no months are given")
    return (
        int(store),
        choice("StoreType", STORE_TYPES),
        choice("Assortment", ASSORTMENTS),
        number("CompetitionDistance", 0, 1e6),
        number("CompetitionOpenSinceMonth", 1, 12),
        number("CompetitionOpenSinceYear", 1900, 2100),
        int(promo2),
        number("Promo2SinceWeek", 1, 53),
        number("Promo2SinceYear", 1900, 2100),
        tuple(name in interval for name in MONTH_ABBREVIATIONS),
    )
