"""Questions 3, 4 and 8: holidays, seasons and the week, measured against a store's normal day.

"Relative sales" (1.0 = a normal day) is ``rel_sales`` of :mod:`training.eda.frame`.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .events import Runs, during_mean, find_runs, profile, window_mean
from .frame import STATE_HOLIDAYS, WEEKDAYS, EdaFrame

AROUND_DAYS = 3
"""Days before a holiday / closure (and after it) that count as "before" and "after"."""
PROFILE = range(-7, 8)
"""Offsets from an event's first day shown in the holiday profile."""


@dataclass(frozen=True)
class HolidayEffects:
    """Question 3. ``table``: index holiday; columns events, open_share, before, during, after (relative sales)."""

    table: pd.DataFrame
    profiles: pd.DataFrame  # index offset from the first holiday day (PROFILE); columns holiday; relative sales


def holiday_effects(frame: EdaFrame) -> HolidayEffects:
    """Question 3: relative sales 3 days before, during and 3 days after each kind of holiday."""
    rel = frame.grid("rel_sales")
    opened = frame.grid("open")
    state = frame.grid("state_holiday", fill=0)
    on_holiday = state > 0
    flags = {name: state == code for code, name in STATE_HOLIDAYS.items()}
    flags["school holiday"] = (frame.grid("school_holiday", fill=0) == 1) & ~on_holiday
    rows, profiles = {}, {}
    for name, flag in flags.items():
        runs = find_runs(flag)
        rows[name] = {
            "events": len(runs),
            "open_share": float(np.nanmean(np.where(flag, opened, np.nan))) if flag.any() else np.nan,
            "before": window_mean(rel, runs.store, runs.first, range(-AROUND_DAYS, 0), on_holiday),
            "during": during_mean(rel, runs),
            "after": window_mean(rel, runs.store, runs.last, range(1, AROUND_DAYS + 1), on_holiday),
        }
        profiles[name] = profile(rel, runs.store, runs.first, PROFILE)
    table = pd.DataFrame(rows).T
    table["events"] = table["events"].astype(int)
    return HolidayEffects(table=table, profiles=pd.DataFrame(profiles, index=pd.Index(PROFILE, name="offset")))


@dataclass(frozen=True)
class Seasonality:
    """Question 4, on the ``n_complete`` stores that have a row on every day (a constant store mix)."""

    monthly: pd.DataFrame  # index month 1..12; columns years; mean € per trading store-day
    weekday: pd.DataFrame  # index Mon..Sun; sales (€ per trading store-day), open_share
    december_vs_year: float  # December mean / whole-year mean, averaged over complete years
    like_for_like: pd.DataFrame  # index year; sales (€, Jan 1 up to the history's last month-day), growth
    period_end: str  # "MM-DD" closing the like-for-like period
    pre_christmas: float  # relative sales on Dec 18-23
    pre_easter: float  # relative sales on the 6 days before Good Friday
    n_complete: int


def seasonality(frame: EdaFrame) -> Seasonality:
    """Question 4: month and weekday patterns, year over year, Christmas and Easter run-ups."""
    days = frame.days
    rows_per_store = days.groupby("store").size()
    complete = rows_per_store.index[rows_per_store == frame.n_days]
    steady = days[days["store"].isin(complete)]
    trading = steady[steady["trading"]]
    monthly = trading.groupby(["month", "year"])["sales"].mean().unstack("year")
    full_years = [year for year in monthly.columns if monthly[year].notna().all()]
    year_means = trading.groupby("year")["sales"].mean()
    december = np.mean([monthly.loc[12, year] / year_means[year] for year in full_years]) if full_years else np.nan

    weekday = pd.DataFrame(
        {
            "sales": trading.groupby("weekday")["sales"].mean().reindex(range(7)),
            "open_share": steady.groupby("weekday")["open"].mean().reindex(range(7)),
        }
    )
    weekday.index = pd.Index(WEEKDAYS, name="weekday")

    last = pd.Timestamp(frame.dates[-1])
    month_day = days["month"].astype(np.int64) * 100 + days["date"].dt.day
    period = steady[month_day.loc[steady.index] <= last.month * 100 + last.day]
    totals = period.groupby("year")["sales"].sum()
    like_for_like = pd.DataFrame({"sales": totals, "growth": totals.pct_change()})

    pre_christmas = days.loc[month_day.between(1218, 1223), "rel_sales"].mean()
    easter_days = days.loc[days["state_holiday"] == 2, "date"]
    good_fridays = easter_days.groupby(easter_days.dt.year).min()
    before_easter = days["date"].isin(
        [friday - pd.Timedelta(days=k) for friday in good_fridays for k in range(1, 7)]
    )
    return Seasonality(
        monthly=monthly,
        weekday=weekday,
        december_vs_year=float(december),
        like_for_like=like_for_like,
        period_end=last.strftime("%m-%d"),
        pre_christmas=float(pre_christmas),
        pre_easter=float(days.loc[before_easter, "rel_sales"].mean()),
        n_complete=len(complete),
    )


CLOSURE_KINDS = ("state holiday", "closure of 3+ days", "other weekday closure")
"""Kinds of closures compared; a lone closed Sunday is counted apart (its neighbours are compared with
their own weekday, so the ratio is 1 by construction: see the weekday index of question 9 instead)."""


@dataclass(frozen=True)
class WeekBehaviour:
    """Question 8. ``weekday``: index Mon..Sun; customers, spend (€ per customer), per trading store-day.

    ``closures``: index CLOSURE_KINDS; runs, and relative sales / customers on the day before and after.
    ``sunday_closures``: runs that are one closed Sunday.
    ``closure_profile``: index day offsets (-3..-1 before the first closed day, +1..+3 after the last);
    columns closure kinds; relative sales.
    """

    weekday: pd.DataFrame
    closures: pd.DataFrame
    closure_profile: pd.DataFrame
    sunday_closures: int


def _closure_kinds(runs: Runs, state: np.ndarray, weekday_of_day: np.ndarray) -> np.ndarray:
    holiday_days = np.cumsum(np.pad(state > 0, ((0, 0), (1, 0))), axis=1)
    has_holiday = holiday_days[runs.store, runs.last + 1] - holiday_days[runs.store, runs.first] > 0
    sunday = (runs.length == 1) & (weekday_of_day[runs.first] == 6)
    return np.select([has_holiday, runs.length >= 3, sunday], [*CLOSURE_KINDS[:2], "Sunday"], CLOSURE_KINDS[2])


def week_behaviour(frame: EdaFrame) -> WeekBehaviour:
    """Question 8: customers and spend by weekday; sales and customers around closed days."""
    trading = frame.days[frame.days["trading"]]
    by_day = trading.groupby("weekday")[["sales", "customers"]].sum()
    weekday = pd.DataFrame(
        {
            "customers": trading.groupby("weekday")["customers"].mean(),
            "spend": by_day["sales"] / by_day["customers"],
        }
    ).reindex(range(7))
    weekday.index = pd.Index(WEEKDAYS, name="weekday")

    rel_sales, rel_customers = frame.grid("rel_sales"), frame.grid("rel_customers")
    state = frame.grid("state_holiday", fill=0)
    runs = find_runs(frame.grid("open", fill=-1) == 0)
    kinds = _closure_kinds(runs, state, frame.weekday_of_day())
    table, profiles = {}, {}
    offsets = [*range(-AROUND_DAYS, 0), *range(1, AROUND_DAYS + 1)]
    for kind in CLOSURE_KINDS:
        chosen = runs.take(kinds == kind)
        table[kind] = {
            "runs": len(chosen),
            "before_sales": window_mean(rel_sales, chosen.store, chosen.first, range(-1, 0)),
            "after_sales": window_mean(rel_sales, chosen.store, chosen.last, range(1, 2)),
            "before_customers": window_mean(rel_customers, chosen.store, chosen.first, range(-1, 0)),
            "after_customers": window_mean(rel_customers, chosen.store, chosen.last, range(1, 2)),
        }
        before = profile(rel_sales, chosen.store, chosen.first, range(-AROUND_DAYS, 0))
        after = profile(rel_sales, chosen.store, chosen.last, range(1, AROUND_DAYS + 1))
        profiles[kind] = np.concatenate([before, after])
    closures = pd.DataFrame(table).T
    closures["runs"] = closures["runs"].astype(int)
    return WeekBehaviour(
        weekday=weekday,
        closures=closures,
        closure_profile=pd.DataFrame(profiles, index=pd.Index(offsets, name="offset")),
        sunday_closures=int((kinds == "Sunday").sum()),
    )
