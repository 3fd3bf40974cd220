"""Figures of the time-shaped questions (1 data quality, 2 promo calendar, 3 holidays, 4 seasons, 8 the week)."""

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .calendar_effects import HolidayEffects, Seasonality, WeekBehaviour
from .frame import WEEKDAYS
from .plots import COLORS, euro_axis, euro_cents_axis, grouped_bars, new_figure, normal_line, percent_axis
from .promos import PromoCalendar
from .quality import AVAILABILITY_CODES, DataQuality

AVAILABILITY_COLORS = ("#d62728", "#c7c7c7", "#1f77b4", "#ff7f0e")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _year_ticks(dates: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Positions (day indexes) of each January 1st and July 1st in ``dates``, and their labels."""
    text = dates.astype(str)
    marks = np.flatnonzero(np.char.endswith(text, "-01-01") | np.char.endswith(text, "-07-01"))
    return marks, [text[i][:7] for i in marks]


def data_quality_figure(quality: DataQuality, dates: np.ndarray) -> Figure:
    """Availability map (stores x days), empty store.csv fields, outliers per month."""
    figure, (availability, missing, outliers) = new_figure(3, 4.6, widths=[2.2, 1.2, 1.6])
    availability.imshow(
        quality.availability, aspect="auto", interpolation="nearest",
        cmap=ListedColormap(AVAILABILITY_COLORS), vmin=-0.5, vmax=len(AVAILABILITY_CODES) - 0.5,
    )
    ticks, labels = _year_ticks(dates)
    availability.set_xticks(ticks, labels, rotation=30, ha="right")
    availability.set(title="Store-days by status", xlabel="date", ylabel="store (row of store.csv)")
    availability.grid(False)
    handles = [Patch(color=c, label=name) for c, name in zip(AVAILABILITY_COLORS, AVAILABILITY_CODES)]
    availability.legend(handles=handles, fontsize=8, loc="lower left", framealpha=0.9)

    counts = quality.store_missing[quality.store_missing > 0]
    bars = missing.barh(counts.index, counts.to_numpy(), color=COLORS[0])
    missing.bar_label(bars, padding=2, fontsize=8)
    missing.set(title="Empty fields in store.csv", xlabel="stores with the field empty",
                xlim=(0, max(counts.max(), 1) * 1.25))
    missing.invert_yaxis()

    by_month = quality.outliers_by_month
    outliers.bar(np.arange(len(by_month)), by_month.to_numpy(), color=COLORS[3])
    step = max(len(by_month) // 6, 1)
    outliers.set_xticks(np.arange(0, len(by_month), step), by_month.index[::step], rotation=30, ha="right")
    outliers.set(title="Outlier days per month", xlabel="month", ylabel="store-days")
    return figure


def promo_calendar_figure(calendar: PromoCalendar) -> Figure:
    """Promo share by weekday (history vs. horizon) and the daily promo share before and in the horizon."""
    figure, (weekday, timeline) = new_figure(2, 4.0, widths=[1.0, 1.6])
    grouped_bars(weekday, list(WEEKDAYS), {
        f"history {calendar.history_span[0]:%Y-%m-%d}..{calendar.history_span[1]:%Y-%m-%d}":
            calendar.weekday_promo["history"].to_numpy(),
        f"horizon {calendar.horizon_span[0]:%Y-%m-%d}..{calendar.horizon_span[1]:%Y-%m-%d}":
            calendar.weekday_promo["horizon"].to_numpy(),
    })
    weekday.set(title="Share of open store-days on promo, by weekday", ylim=(0, 1.15))
    percent_axis(weekday)
    dates = calendar.timeline.index
    timeline.step(dates, calendar.timeline.to_numpy(), where="mid", color=COLORS[0])
    timeline.axvspan(calendar.horizon_span[0], calendar.horizon_span[1], color=COLORS[1], alpha=0.2, label="horizon")
    timeline.set(title="Share of open stores on promo, per day", xlabel="date", ylim=(-0.02, 1.1))
    timeline.legend(fontsize=8, loc="upper left")
    percent_axis(timeline)
    for label in timeline.get_xticklabels():
        label.set(rotation=30, ha="right")
    return figure


def holiday_figure(holidays: HolidayEffects) -> Figure:
    """Relative sales around each holiday kind (profile) and the before / during / after means."""
    figure, (profile, bars) = new_figure(2, 4.2, widths=[1.5, 1.0])
    for i, name in enumerate(holidays.profiles.columns):
        profile.plot(holidays.profiles.index, holidays.profiles[name].to_numpy(), marker="o", markersize=3,
                     label=name, color=COLORS[i])
    normal_line(profile)
    profile.set(title="Sales around holidays (1.0 = a normal day for the store)",
                xlabel="days from the first holiday day", ylabel="sales / normal sales")
    profile.legend(fontsize=8)
    table = holidays.table
    grouped_bars(bars, list(table.index), {name: table[name].to_numpy() for name in ("before", "during", "after")})
    normal_line(bars)
    bars.set(title="3 days before, during (open stores), 3 days after", ylabel="sales / normal sales")
    bars.tick_params(axis="x", labelsize=8)
    return figure


def seasonality_figure(seasons: Seasonality) -> Figure:
    """Mean sales per trading store-day by month for each year, and by weekday."""
    figure, (monthly, weekday) = new_figure(2, 4.2, widths=[1.5, 1.0])
    for i, year in enumerate(seasons.monthly.columns):
        monthly.plot(seasons.monthly.index, seasons.monthly[year].to_numpy(), marker="o", label=str(year),
                     color=COLORS[i])
    monthly.set_xticks(range(1, 13), MONTH_NAMES)
    monthly.set(title=f"Mean sales per trading store-day by month ({seasons.n_complete} complete stores)",
                xlabel="month", ylabel="sales per store-day")
    euro_axis(monthly)
    monthly.legend(fontsize=8)
    weekday.bar(np.arange(7), seasons.weekday["sales"].to_numpy(), color=COLORS[0])
    weekday.set_xticks(np.arange(7), seasons.weekday.index)
    for x, (sales, share) in enumerate(seasons.weekday[["sales", "open_share"]].to_numpy()):
        weekday.annotate(f"{share:.0%} open", (x, sales), xytext=(0, 3), textcoords="offset points",
                         ha="center", fontsize=7)
    weekday.set(title="Mean sales per trading store-day by weekday", ylabel="sales per store-day",
                ylim=(0, seasons.weekday["sales"].max() * 1.15))
    euro_axis(weekday)
    return figure


def week_figure(week: WeekBehaviour) -> Figure:
    """Customers and € per customer by weekday; relative sales around closures."""
    figure, (customers, spend, closures) = new_figure(3, 4.2, widths=[1.0, 1.0, 1.3])
    positions = np.arange(len(week.weekday))
    customers.bar(positions, week.weekday["customers"].to_numpy(), color=COLORS[0])
    customers.set_xticks(positions, week.weekday.index)
    customers.set(title="Customers per trading store-day", ylabel="customers")
    spend.bar(positions, week.weekday["spend"].to_numpy(), color=COLORS[2])
    spend.set_xticks(positions, week.weekday.index)
    spend.set(title="Sales per customer", ylabel="sales per customer")
    euro_cents_axis(spend)
    offsets = np.arange(len(week.closure_profile))
    for i, kind in enumerate(week.closure_profile.columns):
        closures.plot(offsets, week.closure_profile[kind].to_numpy(), marker="o", label=kind, color=COLORS[i])
    closures.set_xticks(offsets, [f"{offset:+d}" for offset in week.closure_profile.index])
    normal_line(closures)
    closures.set(title="Sales around closures (1.0 = normal day)", ylabel="sales / normal sales",
                 xlabel="days before the first / after the last closed day")
    closures.legend(fontsize=8)
    return figure
