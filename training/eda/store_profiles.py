"""Questions 5, 9 and 10: sales vs. customers, opening days, store type and assortment."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .frame import WEEKDAYS, EdaFrame

SUNDAY_OPENER_SHARE = 0.5
"""A store "opens on Sundays" when it is open on at least this share of its Sundays (state holidays excluded)."""
MID_WEEK = (1, 2, 3)
"""Tue-Thu: the reference days of the weekday index."""


def _pearson_by(frame: pd.DataFrame, key: str, x: str, y: str) -> pd.Series:
    """Pearson correlation of columns ``x`` and ``y`` within each ``key`` group, from summed moments."""
    work = pd.DataFrame({key: frame[key], "x": frame[x], "y": frame[y]})
    work["xx"], work["yy"], work["xy"] = work["x"] ** 2, work["y"] ** 2, work["x"] * work["y"]
    sums = work.groupby(key).agg(["sum"]).droplevel(1, axis=1)
    n = work.groupby(key).size()
    cov = sums["xy"] - sums["x"] * sums["y"] / n
    var_x, var_y = sums["xx"] - sums["x"] ** 2 / n, sums["yy"] - sums["y"] ** 2 / n
    return (cov / np.sqrt(var_x * var_y)).where(n > 2)


@dataclass(frozen=True)
class SalesCustomers:
    """Question 5 on trading days. ``by_type``: index store type; corr, within_store, spend (€/customer), stores."""

    overall_corr: float
    within_store_median: float  # median over stores of the store's own day-to-day correlation
    store_means_corr: float  # correlation of store-level mean sales and mean customers
    by_type: pd.DataFrame
    spend: float  # € per customer, all trading days
    spend_store_quantiles: tuple[float, float]  # 10th and 90th percentile of stores' € per customer


def sales_customers(frame: EdaFrame) -> SalesCustomers:
    """Question 5: how closely sales follow customers, and sales per customer."""
    trading = frame.days[frame.days["trading"]]
    within = _pearson_by(trading, "store", "sales", "customers")
    store_type = frame.stores["store_type"]
    per_store = trading.groupby("store")[["sales", "customers"]].sum()
    store_spend = per_store["sales"] / per_store["customers"]
    sums = trading.groupby("store_type")[["sales", "customers"]].sum()
    by_type = pd.DataFrame(
        {
            "corr": _pearson_by(trading, "store_type", "sales", "customers"),
            "within_store": within.groupby(store_type.reindex(within.index)).median(),
            "spend": sums["sales"] / sums["customers"],
            "stores": store_type.value_counts(),
        }
    ).rename_axis("store_type")
    means = trading.groupby("store")[["sales", "customers"]].mean()
    return SalesCustomers(
        overall_corr=float(trading["sales"].corr(trading["customers"])),
        within_store_median=float(within.median()),
        store_means_corr=float(means["sales"].corr(means["customers"])),
        by_type=by_type,
        spend=float(trading["sales"].sum() / trading["customers"].sum()),
        spend_store_quantiles=(float(store_spend.quantile(0.1)), float(store_spend.quantile(0.9))),
    )


@dataclass(frozen=True)
class OpeningPattern:
    """Question 9. ``stores``: per store sunday_open_share, weekday_open_share (Mon-Sat), sunday_opener.

    ``weekday_index``: index Mon..Sun; columns "open Sundays" / "closed Sundays": median over stores of
    mean sales on that weekday / mean on Tue-Thu (non-promo regular trading days).
    ``groups``: index group; stores, weekend_share (median share of sales made Sat+Sun), sales (€ per trading day).
    """

    stores: pd.DataFrame
    n_sunday_openers: int
    n_all_weekdays: int
    n_seven_days: int
    sunday_opener_types: pd.Series
    weekday_index: pd.DataFrame
    groups: pd.DataFrame


def opening_pattern(frame: EdaFrame) -> OpeningPattern:
    """Question 9: which stores open every weekday and on Sundays, and their weekend sales."""
    days = frame.days
    normal = days[days["state_holiday"] == 0]
    stores = pd.DataFrame(
        {
            "sunday_open_share": normal[normal["weekday"] == 6].groupby("store")["open"].mean(),
            "weekday_open_share": normal[normal["weekday"] < 6].groupby("store")["open"].mean(),
        }
    ).reindex(frame.stores.index)
    stores["sunday_opener"] = stores["sunday_open_share"] >= SUNDAY_OPENER_SHARE
    all_weekdays = stores["weekday_open_share"] == 1.0
    label = stores["sunday_opener"].map({True: "open Sundays", False: "closed Sundays"})

    plain = days[days["trading"] & (days["promo"] == 0) & (days["state_holiday"] == 0)]
    by_weekday = plain.groupby(["store", "weekday"])["sales"].mean().unstack("weekday").reindex(columns=range(7))
    index = by_weekday.div(by_weekday[list(MID_WEEK)].mean(axis=1), axis=0)
    weekday_index = index.groupby(label.reindex(index.index)).median().T
    weekday_index.index = pd.Index(WEEKDAYS, name="weekday")

    trading = days[days["trading"]]
    weekend = trading[trading["weekday"] >= 5].groupby("store")["sales"].sum()
    weekend_share = (weekend.reindex(stores.index, fill_value=0.0) / trading.groupby("store")["sales"].sum())
    groups = pd.DataFrame(
        {
            "stores": label.value_counts(),
            "weekend_share": weekend_share.groupby(label).median(),
            "sales": trading.groupby(trading["store"].map(label))["sales"].mean(),
        }
    )
    openers = stores.index[stores["sunday_opener"]]
    return OpeningPattern(
        stores=stores,
        n_sunday_openers=len(openers),
        n_all_weekdays=int(all_weekdays.sum()),
        n_seven_days=int((all_weekdays & stores["sunday_opener"]).sum()),
        sunday_opener_types=frame.stores.loc[openers, "store_type"].value_counts().sort_index(),
        weekday_index=weekday_index,
        groups=groups,
    )


@dataclass(frozen=True)
class StoreFormats:
    """Question 10. Tables of stores, sales and customers per trading day, € per customer."""

    by_type: pd.DataFrame  # index store type a..d
    by_assortment: pd.DataFrame  # index assortment a..c
    cross: pd.DataFrame  # index (store_type, assortment)


def _format_table(trading: pd.DataFrame, stores: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    sums = trading.groupby(keys)[["sales", "customers"]].sum()
    table = trading.groupby(keys)[["sales", "customers"]].mean()
    table["spend"] = sums["sales"] / sums["customers"]
    table.insert(0, "stores", stores.groupby(keys).size())
    return table


def store_formats(frame: EdaFrame) -> StoreFormats:
    """Question 10: store type and assortment vs. sales and customers."""
    trading = frame.days[frame.days["trading"]]
    return StoreFormats(
        by_type=_format_table(trading, frame.stores, ["store_type"]),
        by_assortment=_format_table(trading, frame.stores, ["assortment"]),
        cross=_format_table(trading, frame.stores, ["store_type", "assortment"]),
    )
