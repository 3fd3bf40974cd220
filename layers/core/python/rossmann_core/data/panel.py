"""Dense store x day arrays: the one shape every feature is computed from."""

from dataclasses import dataclass, replace

import numpy as np

from rossmann_core.data.daily_csv import DailyRows
from rossmann_core.data.dates import DAY
from rossmann_core.data.stores import positions_of, require_same_stores
from rossmann_core.errors import DataValidationError

UNKNOWN = -1
"""Covariate value for a store-day with no row (e.g. the 180 stores missing 2014-07..12)."""

PANEL_FIELDS = ("sales", "open", "promo", "state_holiday", "school_holiday")


@dataclass(frozen=True)
class Panel:
    """Daily data of ``n_stores`` stores over ``n_days`` consecutive days from ``start``.

    ``sales`` is float32 (n_stores, n_days) in euros, NaN where unknown (no row, or a future day).
    ``open``, ``promo``, ``state_holiday``, ``school_holiday`` are int8 (n_stores, n_days), -1 where
    unknown; state_holiday codes are 0 none, 1 public, 2 Easter, 3 Christmas.
    """

    store_ids: np.ndarray  # int32 (n_stores,)
    start: np.datetime64  # datetime64[D]
    sales: np.ndarray
    open: np.ndarray
    promo: np.ndarray
    state_holiday: np.ndarray
    school_holiday: np.ndarray

    @property
    def n_days(self) -> int:
        return self.sales.shape[1]

    @property
    def dates(self) -> np.ndarray:
        """datetime64[D] of shape (n_days,)."""
        return self.start + np.arange(self.n_days) * DAY

    def day_index(self, date: np.datetime64) -> int:
        """Column of ``date``; raises if outside the panel."""
        index = int((np.datetime64(date, "D") - self.start) / DAY)
        if not 0 <= index < self.n_days:
            raise IndexError(f"{date} is outside the panel {self.start}..{self.dates[-1]}")
        return index

    def window(self, first: np.datetime64, last: np.datetime64) -> "Panel":
        """The days ``first``..``last`` inclusive; days outside the panel are unknown."""
        n_days = int((np.datetime64(last, "D") - np.datetime64(first, "D")) / DAY) + 1
        offset = int((np.datetime64(first, "D") - self.start) / DAY)
        src = np.arange(n_days) + offset
        inside = (src >= 0) & (src < self.n_days)
        arrays = {}
        for name in PANEL_FIELDS:
            values = getattr(self, name)
            fill = np.nan if name == "sales" else UNKNOWN
            out = np.full((len(self.store_ids), n_days), fill, dtype=values.dtype)
            out[:, inside] = values[:, src[inside]]
            arrays[name] = out
        return replace(self, start=np.datetime64(first, "D"), **arrays)

    def take_stores(self, rows: np.ndarray) -> "Panel":
        """The panel restricted to store ``rows`` (integer positions or a boolean mask)."""
        return replace(
            self, store_ids=self.store_ids[rows], **{name: getattr(self, name)[rows] for name in PANEL_FIELDS}
        )

    def with_sales_hidden_after(self, origin: np.datetime64) -> "Panel":
        """A copy whose sales after ``origin`` are unknown (covariates are kept)."""
        sales = self.sales.copy()
        sales[:, self.day_index(origin) + 1 :] = np.nan
        return replace(self, sales=sales)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays for ``np.savez``."""
        arrays = {f"panel_{name}": getattr(self, name) for name in PANEL_FIELDS}
        return {**arrays, "panel_store_ids": self.store_ids, "panel_start": np.array(self.start)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "Panel":
        return cls(
            store_ids=np.asarray(arrays["panel_store_ids"]),
            start=np.datetime64(arrays["panel_start"][()], "D"),
            **{name: np.asarray(arrays[f"panel_{name}"]) for name in PANEL_FIELDS},
        )


def empty_panel(store_ids: np.ndarray, start: np.datetime64, end: np.datetime64) -> Panel:
    """A panel with every value unknown."""
    n_days = int((np.datetime64(end, "D") - np.datetime64(start, "D")) / DAY) + 1
    shape = (len(store_ids), n_days)
    unknown = {name: np.full(shape, UNKNOWN, dtype=np.int8) for name in PANEL_FIELDS[1:]}
    return Panel(
        store_ids=np.asarray(store_ids, dtype=np.int32),
        start=np.datetime64(start, "D"),
        sales=np.full(shape, np.nan, dtype=np.float32),
        **unknown,
    )


def fill_panel(panel: Panel, rows: DailyRows, with_sales: bool) -> Panel:
    """Write ``rows`` into a copy of ``panel``; rows outside its days are ignored.

    Raises DataValidationError for a store the panel does not know.
    """
    store_pos = positions_of(panel.store_ids, rows.store)
    unknown = np.flatnonzero(store_pos < 0)
    if unknown.size:
        i = int(unknown[0])
        raise DataValidationError(rows.source, int(rows.line[i]), "Store", f"store {rows.store[i]} is not in store.csv")
    day_pos = ((rows.date - panel.start) / DAY).astype(np.int64)
    inside = (day_pos >= 0) & (day_pos < panel.n_days)
    s, d = store_pos[inside], day_pos[inside]
    arrays = {name: getattr(panel, name).copy() for name in PANEL_FIELDS}
    if with_sales:
        arrays["sales"][s, d] = rows.sales[inside]
    for name in PANEL_FIELDS[1:]:
        arrays[name][s, d] = getattr(rows, name)[inside]
    return replace(panel, **arrays)


def panel_from_history(rows: DailyRows, store_ids: np.ndarray) -> Panel:
    """Panel over the history's own date range."""
    return fill_panel(empty_panel(store_ids, rows.date.min(), rows.date.max()), rows, with_sales=True)


def attach_covariates(history: Panel, covariates: Panel) -> Panel:
    """``history`` extended to the end of ``covariates``, whose Open/Promo/holidays fill the new days.

    Both panels hold the same stores in the same order; sales of the new days stay unknown.
    """
    require_same_stores(history.store_ids, covariates.store_ids, "history and covariates")
    end = max(history.dates[-1], covariates.dates[-1])
    extended = history.window(history.start, end)
    future = covariates.window(history.dates[-1] + DAY, end)
    first_new = history.n_days
    arrays = {}
    for name in PANEL_FIELDS[1:]:
        values = getattr(extended, name).copy()
        values[:, first_new:] = getattr(future, name)
        arrays[name] = values
    return replace(extended, **arrays)
