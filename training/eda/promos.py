"""Questions 2, 6 and 7: the promo calendar, the promo effect, and which stores gain most from it."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.daily_csv import DailyRows

from .frame import WEEKDAYS, EdaFrame
from .lifts import Z_95, rank_corr, store_lifts

PROMO_SHARE = "promo (of open store-days)"
TIMELINE_DAYS = 112
"""History days shown before the horizon in the promo timeline."""


@dataclass(frozen=True)
class PromoCalendar:
    """Question 2: promo and holiday shares in the history vs. the forecast horizon (fractions 0..1)."""

    horizon_source: str  # "future file <path>" or "last 42 days of history"
    history_span: tuple[np.datetime64, np.datetime64]
    horizon_span: tuple[np.datetime64, np.datetime64]
    shares: pd.DataFrame  # index: measure; columns history, horizon
    weekday_promo: pd.DataFrame  # index Mon..Sun; columns history, horizon: promo share of open store-days
    timeline: pd.Series  # per date: share of open store-days on promo, last TIMELINE_DAYS days + horizon
    unknown_open_rows: int  # horizon rows with an empty Open field (counted as open)

    @property
    def max_weekday_gap(self) -> float:
        """Largest absolute weekday difference in promo share, in fractions."""
        return float((self.weekday_promo["horizon"] - self.weekday_promo["history"]).abs().max())

    @property
    def chain_wide_days(self) -> float:
        """Share of timeline days on which under 5% or over 95% of open stores run a promo."""
        return float(((self.timeline < 0.05) | (self.timeline > 0.95)).mean())


def _calendar_rows(rows: pd.DataFrame) -> pd.DataFrame:
    weekday = (rows["date"].to_numpy().astype("datetime64[D]").astype(np.int64) + 3) % 7
    return rows.assign(weekday=weekday, open=rows["open"].where(rows["open"] >= 0, 1))


def _shares(rows: pd.DataFrame) -> pd.Series:
    opened = rows[rows["open"] == 1]
    return pd.Series(
        {
            PROMO_SHARE: opened["promo"].mean(),
            "open (of store-days)": (rows["open"] == 1).mean(),
            "state holiday (of store-days)": (rows["state_holiday"] > 0).mean(),
            "school holiday (of store-days)": (rows["school_holiday"] == 1).mean(),
        }
    )


def promo_calendar(frame: EdaFrame, future: DailyRows | None, future_name: str = "") -> PromoCalendar:
    """Question 2; ``future`` is a test.csv-shaped file's rows, else the last 42 history days are the horizon."""
    columns = ["store", "date", "open", "promo", "state_holiday", "school_holiday"]
    history = frame.days[columns]
    if future is None:
        cut = frame.dates[-1] - np.timedelta64(HORIZON_DAYS, "D")
        is_horizon = history["date"] > cut
        horizon, history = history[is_horizon], history[~is_horizon]
        source, unknown = f"last {HORIZON_DAYS} days of history", 0
    else:
        horizon = pd.DataFrame({name: getattr(future, name) for name in columns})
        source, unknown = f"future file {future_name}", int((future.open == -1).sum())
    history, horizon = _calendar_rows(history), _calendar_rows(horizon)
    weekday_promo = pd.DataFrame(
        {
            name: rows[rows["open"] == 1].groupby("weekday")["promo"].mean().reindex(range(7), fill_value=0.0)
            for name, rows in (("history", history), ("horizon", horizon))
        }
    )
    weekday_promo.index = pd.Index(WEEKDAYS, name="weekday")
    recent = history[history["date"] > history["date"].max() - pd.Timedelta(days=TIMELINE_DAYS)]
    both = pd.concat([recent, horizon])
    timeline = both[both["open"] == 1].groupby("date")["promo"].mean()
    return PromoCalendar(
        horizon_source=source,
        history_span=(history["date"].min(), history["date"].max()),
        horizon_span=(horizon["date"].min(), horizon["date"].max()),
        shares=pd.DataFrame({"history": _shares(history), "horizon": _shares(horizon)}),
        weekday_promo=weekday_promo,
        timeline=timeline,
        unknown_open_rows=unknown,
    )


@dataclass(frozen=True)
class PromoEffect:
    """Question 6: chain-wide promo lift and its split into customers and spend per customer."""

    daily: pd.DataFrame  # index promo 0/1; columns sales, customers, spend (Mon-Fri regular trading days)
    by_weekday: pd.DataFrame  # index Mon..Fri; columns "no promo", "promo": mean sales (€) on those days
    lifts: pd.DataFrame  # index sales/customers/spend; columns median, mean, low, high (ratios, 1.25 = +25%)
    customer_share: float  # share of the sales log-lift explained by more customers
    n_stores: int


def _geometric_summary(ratios: pd.Series) -> pd.Series:
    logs = np.log(ratios.dropna())
    half = Z_95 * logs.std() / np.sqrt(len(logs))
    mean = logs.mean()
    return pd.Series(
        {"median": float(np.exp(logs.median())), "mean": float(np.exp(mean)),
         "low": float(np.exp(mean - half)), "high": float(np.exp(mean + half))}
    )


def promo_effect(frame: EdaFrame) -> tuple[PromoEffect, pd.DataFrame]:
    """Question 6, and the per-store sales lifts (see :func:`store_lifts`) for question 7."""
    days = frame.days
    regular = days[days["trading"] & (days["state_holiday"] == 0) & (days["weekday"] < 5)]
    daily = regular.groupby("promo")[["sales", "customers"]].mean()
    daily["spend"] = daily["sales"] / daily["customers"]
    by_weekday = regular.groupby(["weekday", "promo"])["sales"].mean().unstack("promo").reindex(range(5))
    by_weekday = by_weekday.reindex(columns=[0, 1]).set_axis(["no promo", "promo"], axis=1)
    by_weekday.index = pd.Index(WEEKDAYS[:5], name="weekday")
    sales = store_lifts(days, "sales")
    customers = store_lifts(days, "customers")["lift"].reindex(sales.index)
    spend = sales["lift"] / customers
    lifts = pd.DataFrame(
        {name: _geometric_summary(values) for name, values in
         (("sales", sales["lift"]), ("customers", customers), ("spend", spend))}
    ).T
    customer_share = float(np.log(lifts.loc["customers", "mean"]) / np.log(lifts.loc["sales", "mean"]))
    effect = PromoEffect(daily=daily, by_weekday=by_weekday, lifts=lifts, customer_share=customer_share,
                         n_stores=len(sales))
    return effect, sales


@dataclass(frozen=True)
class PromoTargeting:
    """Question 7: per-store lift with CI, and what it relates to."""

    stores: pd.DataFrame  # index store; lift, low, high, se_log, weeks, store_type, assortment, base_sales, ...
    median_lift: float
    quartiles: tuple[float, float]
    above_median: int  # stores whose whole CI lies above the median lift
    below_median: int
    not_positive: int  # stores whose CI reaches 1 or below (no clear gain)
    true_spread: float  # SD of log lift across stores after removing estimation noise
    by_type: pd.Series  # median lift per store type
    by_assortment: pd.Series
    by_promo2: pd.Series  # median lift for stores without (0) / with (1) Promo2
    corr_base_sales: float  # Spearman: lift vs. the store's mean non-promo weekday sales
    corr_distance: float  # Spearman: lift vs. competition distance


def promo_targeting(frame: EdaFrame, lifts: pd.DataFrame) -> PromoTargeting:
    """Question 7 from the per-store ``lifts`` of :func:`promo_effect`."""
    days = frame.days
    plain = days[days["trading"] & (days["promo"] == 0) & (days["weekday"] < 5) & (days["state_holiday"] == 0)]
    info = frame.stores[["store_type", "assortment", "promo2", "competition_distance"]]
    stores = lifts.join(info).join(plain.groupby("store")["sales"].mean().rename("base_sales"))
    median = float(stores["lift"].median())
    noise = float((stores["se_log"] ** 2).mean())
    spread = float(np.log(stores["lift"]).var())
    return PromoTargeting(
        stores=stores.sort_values("lift"),
        median_lift=median,
        quartiles=(float(stores["lift"].quantile(0.25)), float(stores["lift"].quantile(0.75))),
        above_median=int((stores["low"] > median).sum()),
        below_median=int((stores["high"] < median).sum()),
        not_positive=int((stores["low"] <= 1.0).sum()),
        true_spread=float(np.sqrt(max(spread - noise, 0.0))),
        by_type=stores.groupby("store_type")["lift"].median(),
        by_assortment=stores.groupby("assortment")["lift"].median(),
        by_promo2=stores.groupby("promo2")["lift"].median(),
        corr_base_sales=rank_corr(stores["lift"], stores["base_sales"]),
        corr_distance=rank_corr(stores["lift"], stores["competition_distance"]),
    )
