"""Question 1: data quality — missing values, missing store-days, closed days, zero sales, outliers."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .events import dilate, find_runs
from .frame import EdaFrame

OUTLIER_Z = 4.0
"""A trading day is an outlier when its robust z-score of log sales exceeds this in absolute value."""
NEAR_EVENT_DAYS = 3
"""An outlier is "near an event" within this many days of a state holiday or a weekday closure."""

AVAILABILITY_CODES = ("no row", "closed", "trading", "open, zero sales")
"""Codes 0..3 of :attr:`DataQuality.availability`."""


@dataclass(frozen=True)
class DataQuality:
    """Counts describing the history's completeness and anomalies (store-days unless stated)."""

    n_rows: int
    n_stores: int
    n_days: int
    history_missing: pd.Series  # empty fields per train.csv column (rejected by the loader, so 0)
    store_missing: pd.Series  # empty fields per store.csv column
    promo2_since_missing_not_in_promo2: int  # of the empty Promo2Since fields, those of stores without Promo2
    missing_store_days: int
    stores_with_missing_days: int
    gaps: pd.DataFrame  # one row per distinct run of missing days: first, last, days, stores, example (store id)
    closed_days: int
    closed_sundays: int
    closed_state_holidays: int
    closed_long_runs: int  # closed days inside closures of >= 3 days that hold no state holiday
    open_zero_sales: int
    open_zero_sales_stores: int
    sales_without_customers: int
    trading_days: int
    outliers_high: int
    outliers_low: int
    outliers_near_event: int
    outliers_by_month: pd.Series  # count per calendar month "YYYY-MM"
    availability: np.ndarray  # int8 (n_stores, n_days), codes of AVAILABILITY_CODES

    @property
    def outliers(self) -> int:
        return self.outliers_high + self.outliers_low


def data_quality(frame: EdaFrame) -> DataQuality:
    """Question 1 on ``frame``."""
    days, stores = frame.days, frame.stores
    history_columns = ["store", "date", "sales", "customers", "open", "promo", "state_holiday", "school_holiday"]
    store_missing = stores.drop(columns=["promo2"]).isna().sum()
    since_missing = stores["promo2_since_week"].isna()

    open_grid = frame.grid("open", fill=-1)
    present = open_grid >= 0
    availability = np.zeros(open_grid.shape, dtype=np.int8)
    availability[open_grid == 0] = 1
    availability[frame.grid("trading", fill=0) == 1] = 2
    availability[(open_grid == 1) & (frame.grid("sales") == 0)] = 3

    closed = days["open"] == 0
    holiday_grid = frame.grid("state_holiday", fill=0) > 0
    closed_grid = open_grid == 0
    runs = find_runs(closed_grid)
    long_runs = runs.take(runs.length >= 3)
    long_days = sum(
        int(length) for s, a, b, length in zip(long_runs.store, long_runs.first, long_runs.last, long_runs.length)
        if not holiday_grid[s, a : b + 1].any()
    )

    high, low, near, by_month = _outliers(frame, holiday_grid, closed_grid)
    open_zero = days[(days["open"] == 1) & (days["sales"] == 0)]
    return DataQuality(
        n_rows=len(days),
        n_stores=frame.n_stores,
        n_days=frame.n_days,
        history_missing=days[history_columns].isna().sum(),
        store_missing=store_missing,
        promo2_since_missing_not_in_promo2=int((since_missing & (stores["promo2"] == 0)).sum()),
        missing_store_days=int((~present).sum()),
        stores_with_missing_days=int((~present).any(axis=1).sum()),
        gaps=_gaps(frame, present),
        closed_days=int(closed.sum()),
        closed_sundays=int((closed & (days["weekday"] == 6)).sum()),
        closed_state_holidays=int((closed & (days["state_holiday"] > 0)).sum()),
        closed_long_runs=long_days,
        open_zero_sales=len(open_zero),
        open_zero_sales_stores=int(open_zero["store"].nunique()),
        sales_without_customers=int(((days["sales"] > 0) & (days["customers"] == 0)).sum()),
        trading_days=int(days["trading"].sum()),
        outliers_high=high,
        outliers_low=low,
        outliers_near_event=near,
        outliers_by_month=by_month,
        availability=availability,
    )


def _gaps(frame: EdaFrame, present: np.ndarray) -> pd.DataFrame:
    """Distinct runs of missing store-days, most stores first: first, last (dates), days, stores, example."""
    runs = find_runs(~present)
    ids = frame.stores.index.to_numpy()
    gaps = pd.DataFrame({"first": frame.dates[runs.first], "last": frame.dates[runs.last], "days": runs.length,
                         "store": ids[runs.store]})
    table = gaps.groupby(["first", "last", "days"])["store"].agg(stores="size", example="min").reset_index()
    return table.sort_values(["stores", "days"], ascending=False, ignore_index=True)


def robust_z(frame: EdaFrame) -> pd.Series:
    """Robust z-score of log sales on trading days (index: rows of ``frame.days``).

    The residual removes the store's median for the weekday and promo status, then the day's median
    residual over all stores (season, holidays); it is scaled by the store's 1.4826 * MAD.
    """
    trading = frame.days[frame.days["trading"]]
    log_sales = np.log(trading["sales"])
    usual = log_sales.groupby([trading["store"], trading["weekday"], trading["promo"]]).transform("median")
    residual = log_sales - usual
    residual = residual - residual.groupby(trading["day"]).transform("median")
    centred = residual - residual.groupby(trading["store"]).transform("median")
    mad = centred.abs().groupby(trading["store"]).transform("median") * 1.4826
    return (centred / mad.where(mad > 0)).rename("robust_z")


def _outliers(frame: EdaFrame, holiday_grid: np.ndarray, closed_grid: np.ndarray) -> tuple[int, int, int, pd.Series]:
    """High and low outlier counts, those near a holiday or weekday closure, and counts per month."""
    z = robust_z(frame)
    flagged = frame.days.loc[z.index[z.abs() > OUTLIER_Z]]
    high = int((z > OUTLIER_Z).sum())
    sunday = frame.weekday_of_day() == 6
    event = holiday_grid | (closed_grid & ~sunday[None, :])
    near = dilate(event, NEAR_EVENT_DAYS)
    near_count = int(near[flagged["store_pos"].to_numpy(), flagged["day"].to_numpy()].sum())
    months = pd.Series(frame.dates.astype("datetime64[M]").astype(str))
    by_month = flagged["day"].map(months).value_counts().reindex(months.unique(), fill_value=0)
    return high, len(flagged) - high, near_count, by_month
