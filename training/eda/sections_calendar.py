"""Sections 1-4 and 8: data quality, promo calendar, holidays, seasons, the week."""

from . import figures_calendar as figures
from .findings import Findings
from .frame import EdaFrame
from .plots import to_png_base64
from .promos import PROMO_SHARE
from .quality import NEAR_EVENT_DAYS, OUTLIER_Z
from .text import Section, count, escape, eur, eur2, pct, signed, table, vs_normal

SIMILAR_SHARE_POINTS = 0.05
"""Question 2 calls two promo calendars alike when overall shares differ by less than this (5 points)."""
SIMILAR_WEEKDAY_POINTS = 0.10
MAX_GAPS = 3
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def data_quality_section(found: Findings, frame: EdaFrame) -> Section:
    q = found.quality
    store_missing = q.store_missing
    distance, since = int(store_missing["competition_distance"]), int(store_missing["competition_open_year"])
    promo2 = int(store_missing["promo2_since_week"])
    other_closed = q.closed_days - q.closed_sundays - q.closed_state_holidays - q.closed_long_runs
    gaps = "; ".join(
        f"{count(row['stores'])} store{'s' if row['stores'] > 1 else ''} (e.g. store {row['example']}) "
        f"miss {row['first']:%Y-%m-%d} to {row['last']:%Y-%m-%d} ({count(row['days'])} days)"
        for _, row in q.gaps.head(MAX_GAPS).iterrows()
    ) or "none"
    if len(q.gaps) > MAX_GAPS:
        gaps += f"; {len(q.gaps) - MAX_GAPS} more patterns"
    paragraphs = [
        f"<b>Rows.</b> train.csv holds {count(q.n_rows)} rows for {count(q.n_stores)} stores over {count(q.n_days)} "
        f"days ({frame.dates[0]} to {frame.dates[-1]}). Empty or malformed fields in train.csv: "
        f"{count(q.history_missing.sum())} — the loader rejects any, naming file, line and column.",
        f"<b>Missing values in store.csv.</b> CompetitionDistance is empty for {distance} stores (no known "
        f"competitor: left out of question 11). CompetitionOpenSinceMonth/Year is empty for {since} stores (opening "
        f"unknown: they count as control stores in question 12). Promo2SinceWeek/Year is empty for {promo2} stores, "
        f"{q.promo2_since_missing_not_in_promo2} of which are not in Promo2, so the field does not apply.",
        f"<b>Missing store-days.</b> {count(q.missing_store_days)} store-days have no row, in "
        f"{q.stores_with_missing_days} stores: {gaps}. Missing days stay unknown (never read as zero sales); "
        f"month and year comparisons (question 4) use only the {found.seasons.n_complete} stores with a row "
        f"every day.",
        f"<b>Closed days.</b> {count(q.closed_days)} rows ({pct(q.closed_days / q.n_rows)}) are closed days: "
        f"{count(q.closed_sundays)} Sundays, {count(q.closed_state_holidays)} state holidays, "
        f"{count(q.closed_long_runs)} days inside closures of 3+ days without a holiday (e.g. refurbishments) and "
        f"{count(other_closed)} other days. Their sales are zero (a closed day with sales is rejected on load) and "
        f"they are left out of every sales statistic.",
        f"<b>Open days with zero sales.</b> {count(q.open_zero_sales)} store-days in {q.open_zero_sales_stores} "
        f"stores are open with zero sales, treated as recording errors and excluded: all statistics use the "
        f"{count(q.trading_days)} <i>trading days</i> (open, sales &gt; 0). Days with sales but zero customers: "
        f"{count(q.sales_without_customers)}.",
        f"<b>Outliers.</b> A trading day is flagged when its log sales differ from the store's usual level for "
        f"that weekday and promo status, after removing the day's chain-wide movement (season, holidays), by more "
        f"than {OUTLIER_Z:g} robust standard deviations (1.4826 × the store's median absolute deviation). "
        f"{count(q.outliers)} days are flagged ({pct(q.outliers / q.trading_days, 2)} of trading days; "
        f"{count(q.outliers_high)} high, {count(q.outliers_low)} low); "
        f"{pct(q.outliers_near_event / max(q.outliers, 1), 0)} lie within {NEAR_EVENT_DAYS} days of a state "
        f"holiday or a weekday closure, where unusual trading is expected. They are kept: they are real trading "
        f"days, and the report compares means over many days or medians over stores.",
    ]
    return Section(1, "Data quality", "Missing values, outliers, closed days, open days with zero sales, the "
                   "stores missing 2014-07..12: how they are detected and handled.", paragraphs,
                   to_png_base64(figures.data_quality_figure(q, frame.dates)),
                   "Map of store-days by status, empty store.csv fields, outliers per month")


def promo_calendar_section(found: Findings, frame: EdaFrame) -> Section:
    c = found.calendar
    shares = c.shares
    promo_gap = abs(shares.loc[PROMO_SHARE, "horizon"] - shares.loc[PROMO_SHARE, "history"])
    gaps = (c.weekday_promo["horizon"] - c.weekday_promo["history"]).abs()
    alike = promo_gap < SIMILAR_SHARE_POINTS and c.max_weekday_gap < SIMILAR_WEEKDAY_POINTS
    weekend = c.weekday_promo.loc[["Sat", "Sun"]].to_numpy().max()
    verdict = "are distributed alike" if alike else "are <b>not</b> distributed alike"
    paragraphs = [
        f"Horizon: the {escape(c.horizon_source)} ({c.horizon_span[0]:%Y-%m-%d} to {c.horizon_span[1]:%Y-%m-%d}), "
        f"against the history {c.history_span[0]:%Y-%m-%d} to {c.history_span[1]:%Y-%m-%d}.",
        f"Promo share of open store-days: {pct(shares.loc[PROMO_SHARE, 'history'])} in the history "
        f"vs. {pct(shares.loc[PROMO_SHARE, 'horizon'])} in the horizon; by weekday the largest gap is "
        f"{gaps.max() * 100:.1f} points ({gaps.idxmax()}). The highest weekend promo share is {pct(weekend)}. On "
        f"{pct(c.chain_wide_days, 0)} of the days in the timeline either under 5% or over 95% of open stores are on "
        f"promo: promos are set for the whole chain at once.",
        f"So promos {verdict} (rule: overall gap under {SIMILAR_SHARE_POINTS * 100:.0f} points and every weekday "
        f"under {SIMILAR_WEEKDAY_POINTS * 100:.0f} points). Holidays differ more: state-holiday store-days "
        f"{pct(shares.loc['state holiday (of store-days)', 'history'])} vs. "
        f"{pct(shares.loc['state holiday (of store-days)', 'horizon'])}, school-holiday store-days "
        f"{pct(shares.loc['school holiday (of store-days)', 'history'])} vs. "
        f"{pct(shares.loc['school holiday (of store-days)', 'horizon'])}: a six-week horizon covers one season only.",
    ]
    if c.unknown_open_rows:
        paragraphs.append(f"{count(c.unknown_open_rows)} horizon rows leave Open empty; they count as open.")
    return Section(2, "Promotions: history vs. forecast horizon", "Are promotions distributed alike in the history "
                   "and in the forecast horizon?", paragraphs, to_png_base64(figures.promo_calendar_figure(c)),
                   "Promo share by weekday in history and horizon, and daily promo share",
                   [table(shares, {"history": pct, "horizon": pct}, "Shares of store-days", "measure")])


def holiday_section(found: Findings, frame: EdaFrame) -> Section:
    h = found.holidays.table
    state = h.drop(index="school holiday")
    strongest = state["before"].idxmax()
    paragraphs = [
        "Sales are compared with the same store's normal day (same weekday and promo status, no state holiday): "
        "+20% means 20% above a normal day. \"Before\" and \"after\" are the 3 days either side (state holidays "
        "among them left out); \"during\" covers the stores that open on the holiday itself.",
        " ".join(
            f"<b>{name.capitalize()}</b> ({count(row['events'])} store-holidays): {pct(row['open_share'])} of "
            f"store-days open; before {vs_normal(row['before'])}, during {vs_normal(row['during'])}, after "
            f"{vs_normal(row['after'])}."
            for name, row in h.iterrows()
        ),
        f"The strongest run-up is before {strongest} ({vs_normal(state.loc[strongest, 'before'])}; after it "
        f"{vs_normal(state.loc[strongest, 'after'])}). School holidays move sales by "
        f"{vs_normal(h.loc['school holiday', 'during'])} while they last.",
    ]
    formats = {"events": count, "open_share": pct, "before": vs_normal, "during": vs_normal, "after": vs_normal}
    return Section(3, "State and school holidays", "Sales before, during and after state holidays (public, Easter, "
                   "Christmas) and school holidays.", paragraphs, to_png_base64(figures.holiday_figure(found.holidays)),
                   "Relative sales around each kind of holiday",
                   [table(h, formats, "Sales vs. a normal day around holidays", "holiday",
                          {"events": "store-holidays", "open_share": "store-days open",
                           "during": "during (open stores)"})])


def seasonality_section(found: Findings, frame: EdaFrame) -> Section:
    s = found.seasons
    month_mean = s.monthly.mean(axis=1)
    weekday = s.weekday
    mon_sat = weekday.loc[["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"], "sales"]
    growth = s.like_for_like["growth"].dropna()
    paragraphs = [
        f"On the {s.n_complete} stores with a row every day (a constant store mix), mean sales per trading "
        f"store-day peak in {MONTHS[int(month_mean.idxmax()) - 1]} ({eur(month_mean.max())}, mean over years) and are "
        f"lowest in {MONTHS[int(month_mean.idxmin()) - 1]} ({eur(month_mean.min())}). December is "
        f"{vs_normal(s.december_vs_year)} above its year's mean in the complete years.",
        f"Christmas: the six days Dec 18-23 sell {vs_normal(s.pre_christmas)} vs. a normal day. Easter: the six days "
        f"before Good Friday sell {vs_normal(s.pre_easter)}.",
        f"Weekdays (Mon-Sat): {mon_sat.idxmax()} is the strongest day ({eur(mon_sat.max())}), {mon_sat.idxmin()} the "
        f"weakest ({eur(mon_sat.min())}). Sunday's {eur(weekday.loc['Sun', 'sales'])} comes from the "
        f"{pct(weekday.loc['Sun', 'open_share'])} of Sunday store-days that are open (see question 9).",
        "Year over year, like-for-like sales Jan 1 to " + s.period_end + ": "
        + "; ".join(f"{year} {signed(value)} vs. {year - 1}" for year, value in growth.items()) + ".",
    ]
    lfl = s.like_for_like.rename(columns={"sales": f"sales Jan 1 - {s.period_end}"})
    return Section(4, "Seasons: Christmas, Easter, months, weekdays, years", "Seasonal purchase behaviour: "
                   "Christmas, Easter, month and weekday patterns, year over year.", paragraphs,
                   to_png_base64(figures.seasonality_figure(s)), "Mean sales per month and year, and per weekday",
                   [table(lfl, {lfl.columns[0]: eur, "growth": signed}, "Like-for-like sales", "year",
                          {"growth": "vs. previous year"})])


def week_section(found: Findings, frame: EdaFrame) -> Section:
    w = found.week
    mon_sat = w.weekday.loc[["Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]]
    closures = w.closures
    index = found.opening.weekday_index
    closed, opened = index.get("closed Sundays"), index.get("open Sundays")
    closure_text = " ".join(
        f"<b>{kind.capitalize()}</b> ({count(row['runs'])}): the day before {vs_normal(row['before_sales'])} "
        f"(customers {vs_normal(row['before_customers'])}), the day after {vs_normal(row['after_sales'])} "
        f"(customers {vs_normal(row['after_customers'])})."
        for kind, row in closures.iterrows() if row["runs"] > 0
    )
    sunday = (
        f"Sundays ({count(w.sunday_closures)} one-day Sunday closures): stores closed on Sundays sell "
        f"{vs_normal(closed['Sat'])} on Saturday and {vs_normal(closed['Mon'])} on Monday vs. their Tue-Thu mean; "
        f"stores open on Sundays {vs_normal(opened['Sat'])} and {vs_normal(opened['Mon'])}."
        if closed is not None and opened is not None else ""
    )
    paragraphs = [
        f"Customers per trading day (Mon-Sat) peak on {mon_sat['customers'].idxmax()} "
        f"({count(mon_sat['customers'].max())}) and are lowest on {mon_sat['customers'].idxmin()} "
        f"({count(mon_sat['customers'].min())}); spend per customer ranges from {eur2(mon_sat['spend'].min())} "
        f"({mon_sat['spend'].idxmin()}) to {eur2(mon_sat['spend'].max())} ({mon_sat['spend'].idxmax()}). Sunday "
        f"customers ({count(w.weekday.loc['Sun', 'customers'])} at {eur2(w.weekday.loc['Sun', 'spend'])}) are those "
        f"of the few Sunday-open stores.",
        "Around closures, sales and customers are compared with the same store's normal day of that weekday. "
        + closure_text,
        sunday,
    ]
    formats = {"runs": count, **{c: vs_normal for c in closures.columns if c != "runs"}}
    return Section(8, "The week, and days around closures", "Customer behaviour over the week and around store "
                   "opening and closing days (days before and after a store is closed, e.g. Sundays and holidays).",
                   paragraphs, to_png_base64(figures.week_figure(w)),
                   "Customers and spend per weekday; sales around closures",
                   [table(closures, formats, "Day before / after a closure vs. a normal day", "closure",
                          {"before_sales": "sales before", "after_sales": "sales after",
                           "before_customers": "customers before", "after_customers": "customers after"})])

