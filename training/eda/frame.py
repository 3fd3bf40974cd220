"""pandas views of a :class:`training.data.Dataset`: one row per history row, one row per store.

Sales are euros per store-day. A *trading day* is a row with Open = 1 and Sales > 0; the report's
sales statistics use trading days only. ``rel_sales`` / ``rel_customers`` divide a trading day's
value by its store's mean on regular trading days (no state holiday) of the same weekday and promo
status, so 1.0 means "a normal day for this store".
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rossmann_core.data.stores import ASSORTMENTS, STORE_TYPES

from ..data import Dataset

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
STATE_HOLIDAYS = {1: "public holiday", 2: "Easter", 3: "Christmas"}
"""StateHoliday int8 codes to names (0 = none)."""


@dataclass(frozen=True)
class EdaFrame:
    """The data every finding is computed from.

    ``days``: one row per history row (n_rows,), columns listed in :func:`daily_frame`.
    ``stores``: one row per store of store.csv, indexed by store id.
    ``dates``: datetime64[D] of shape (n_days,), the consecutive days ``days.day`` indexes.
    """

    days: pd.DataFrame
    stores: pd.DataFrame
    dates: np.ndarray

    @property
    def n_stores(self) -> int:
        return len(self.stores)

    @property
    def n_days(self) -> int:
        return len(self.dates)

    def grid(self, column: str, fill: float = np.nan) -> np.ndarray:
        """``days[column]`` as a dense float64 array (n_stores, n_days); ``fill`` where no row."""
        out = np.full((self.n_stores, self.n_days), fill, dtype=np.float64)
        out[self.days["store_pos"].to_numpy(), self.days["day"].to_numpy()] = self.days[column].to_numpy(np.float64)
        return out

    def weekday_of_day(self) -> np.ndarray:
        """Weekday (Mon = 0) of each panel day, int64 (n_days,)."""
        return (self.dates.astype(np.int64) + 3) % 7


def store_frame(dataset: Dataset) -> pd.DataFrame:
    """store.csv as a DataFrame indexed by store id; types and assortments as letters."""
    table = dataset.stores
    return pd.DataFrame(
        {
            "store_type": np.array(STORE_TYPES)[table.store_type],
            "assortment": np.array(ASSORTMENTS)[table.assortment],
            "competition_distance": table.competition_distance,
            "competition_open_month": table.competition_open_month,
            "competition_open_year": table.competition_open_year,
            "promo2": table.promo2.astype(np.int8),
            "promo2_since_week": table.promo2_since_week,
            "promo2_since_year": table.promo2_since_year,
        },
        index=pd.Index(table.store_id, name="store"),
    )


def daily_frame(dataset: Dataset, stores: pd.DataFrame) -> pd.DataFrame:
    """One row per history row, sorted by store then date.

    Columns: store, store_pos (row in ``stores``), day (index into the panel's dates), date, weekday
    (Mon = 0), month, year, sales (€), customers, open, promo, state_holiday (code), school_holiday,
    trading (bool), store_type, assortment, rel_sales, rel_customers (NaN unless trading).
    """
    rows = dataset.history
    order = np.lexsort((rows.date, rows.store))
    date = rows.date[order]
    store = rows.store[order]
    store_pos = dataset.stores.index_of(store)
    frame = pd.DataFrame(
        {
            "store": store,
            "store_pos": store_pos.astype(np.int32),
            "day": ((date - dataset.panel.start) // np.timedelta64(1, "D")).astype(np.int32),
            "date": date,
            "weekday": ((date.astype(np.int64) + 3) % 7).astype(np.int8),
            "month": (date.astype("datetime64[M]").astype(np.int64) % 12 + 1).astype(np.int8),
            "year": (date.astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.int16),
            "sales": rows.sales[order].astype(np.float64),
            "customers": rows.customers[order].astype(np.float64),
            "open": rows.open[order],
            "promo": rows.promo[order],
            "state_holiday": rows.state_holiday[order],
            "school_holiday": rows.school_holiday[order],
        }
    )
    frame["trading"] = (frame["open"] == 1) & (frame["sales"] > 0)
    frame["store_type"] = stores["store_type"].to_numpy()[store_pos]
    frame["assortment"] = stores["assortment"].to_numpy()[store_pos]
    for column in ("sales", "customers"):
        frame[f"rel_{column}"] = frame[column] / _regular_mean(frame, column)
    return frame


def _regular_mean(frame: pd.DataFrame, column: str) -> pd.Series:
    """Per row: mean of ``column`` over its store's regular trading days with the same weekday and promo.

    NaN for rows that are not trading days or have no regular day to compare with.
    """
    keys = ["store", "weekday", "promo"]
    regular = frame[frame["trading"] & (frame["state_holiday"] == 0)]
    means = regular.groupby(keys)[column].mean().rename("regular_mean")
    aligned = frame[keys].join(means, on=keys)["regular_mean"]
    return aligned.where(frame["trading"])


def build_frame(dataset: Dataset) -> EdaFrame:
    """The :class:`EdaFrame` of a loaded dataset."""
    stores = store_frame(dataset)
    return EdaFrame(days=daily_frame(dataset, stores), stores=stores, dates=dataset.panel.dates)
