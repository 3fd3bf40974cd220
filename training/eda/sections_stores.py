"""Sections 5-7 and 9-12: customers, promos per store, opening days, formats, competition."""

import numpy as np

from . import figures_stores as figures
from .competition import CLOSE_METRES, MIN_TRADING_DAYS, MONTHS_AROUND
from .findings import Findings
from .frame import EdaFrame
from .lifts import LEVEL_WEEKS, MIN_WEEKS
from .plots import to_png_base64
from .store_profiles import SUNDAY_OPENER_SHARE
from .text import Section, corr, count, eur, eur2, pct, signed, table, vs_normal

TOP_STORES = 10


def sales_customers_section(found: Findings, frame: EdaFrame) -> Section:
    r = found.sales_customers
    t = r.by_type
    paragraphs = [
        f"Over all trading days, daily sales and customers correlate at r = {corr(r.overall_corr)}; within a store, "
        f"day to day, the median correlation is {corr(r.within_store_median)}; across stores, mean sales and mean "
        f"customers correlate at {corr(r.store_means_corr)}. "
        + ("Customer numbers drive most of a store's day-to-day sales." if r.within_store_median > 0.7 else
           "Customer numbers leave much of a store's day-to-day sales unexplained."),
        "By store type, r = " + ", ".join(f"{corr(v)} (type {k})" for k, v in t["corr"].items()) + ".",
        f"Sales per customer: {eur2(r.spend)} overall; the middle 80% of stores take {eur2(r.spend_store_quantiles[0])}"
        f" to {eur2(r.spend_store_quantiles[1])} per customer. Type {t['spend'].idxmin()} has the lowest spend "
        f"({eur2(t['spend'].min())}), type {t['spend'].idxmax()} the highest ({eur2(t['spend'].max())}).",
    ]
    formats = {"corr": corr, "within_store": corr, "spend": eur2, "stores": count}
    trading = frame.days.loc[frame.days["trading"], ["sales", "customers"]]
    return Section(5, "Sales and customers", "Correlation between sales and customers (overall, per store type), "
                   "and sales per customer.", paragraphs, to_png_base64(figures.sales_customers_figure(r, trading)),
                   "Hexbin of daily sales vs. customers; sales per customer by store type",
                   [table(t, formats, "Sales vs. customers by store type", "store type",
                          {"corr": "r (all days)", "within_store": "r within store (median)",
                           "spend": "sales per customer"})])


def promo_effect_section(found: Findings, frame: EdaFrame) -> Section:
    e = found.promo_effect
    d, lifts = e.daily, e.lifts

    def lift(name: str) -> str:
        row = lifts.loc[name]
        return f"{vs_normal(row['mean'], 1)} (95% CI {vs_normal(row['low'], 1)} to {vs_normal(row['high'], 1)})"

    both = ("So promos do both" if lifts.loc["customers", "low"] > 1 and lifts.loc["spend", "low"] > 1
            else "Promos do not clearly raise both")
    paragraphs = [
        f"On Monday-Friday regular trading days a promo store-day averages {eur(d.loc[1, 'sales'])} against "
        f"{eur(d.loc[0, 'sales'])} without ({vs_normal(d.loc[1, 'sales'] / d.loc[0, 'sales'])}), with "
        f"{count(d.loc[1, 'customers'])} vs. {count(d.loc[0, 'customers'])} customers spending "
        f"{eur2(d.loc[1, 'spend'])} vs. {eur2(d.loc[0, 'spend'])} each.",
        f"Compared within each store and net of season (promo weeks vs. non-promo weeks, see question 7), a promo "
        f"lifts sales by {lift('sales')}, customers by {lift('customers')} and sales per customer by "
        f"{lift('spend')} (geometric means over {e.n_stores} stores).",
        f"{both}: {pct(e.customer_share, 0)} of the sales lift (on a log scale) comes from more "
        f"customers and {pct(1 - e.customer_share, 0)} from each customer spending more.",
    ]
    formats = {c: vs_normal for c in lifts.columns}
    return Section(6, "How promotions move sales", "How do promos affect sales; do they bring more customers, or "
                   "more spend per existing customer?", paragraphs, to_png_base64(figures.promo_effect_figure(e)),
                   "Mean sales with and without promo per weekday; lift of sales, customers, spend",
                   [table(lifts, formats, "Promo lift over stores (change vs. no promo)", "measure",
                          {"median": "median store", "mean": "geometric mean", "low": "95% CI low",
                           "high": "95% CI high"})])


def promo_targeting_section(found: Findings, frame: EdaFrame) -> Section:
    r = found.targeting
    s = r.stores
    by_type = ", ".join(f"type {k} {vs_normal(v)}" for k, v in r.by_type.items())
    by_assortment = ", ".join(f"assortment {k} {vs_normal(v)}" for k, v in r.by_assortment.items())
    weakest = r.by_type.idxmin()
    promo2 = {int(k): v for k, v in r.by_promo2.items()}
    paragraphs = [
        f"Method: per store, the mean of Monday-Friday trading days is taken per week; weeks whose days share one "
        f"promo status are divided by the store's mean of the {LEVEL_WEEKS} weeks either side (removing trend and "
        f"season), and the lift is the mean promo week over the mean non-promo week. The 95% interval uses the delta "
        f"method on the log ratio (weeks taken as independent; stores need {MIN_WEEKS}+ weeks of each kind).",
        f"Over {count(len(s))} stores the median lift is {vs_normal(r.median_lift)} (middle half "
        f"{vs_normal(r.quartiles[0])} to {vs_normal(r.quartiles[1])}). Net of estimation noise, lifts still differ "
        f"between stores by a standard deviation of {pct(r.true_spread)} (log scale): "
        f"{count(r.above_median)} stores gain clearly more than the median (whole interval above it), "
        f"{count(r.below_median)} clearly less, and {count(r.not_positive)} show no clear gain at all.",
        f"Median lift by {by_type}; by {by_assortment}; without Promo2 {vs_normal(promo2.get(0, np.nan))}, with "
        f"Promo2 {vs_normal(promo2.get(1, np.nan))}. Stores with lower non-promo sales gain more (rank correlation "
        f"{corr(r.corr_base_sales)}); distance to the nearest competitor matters little ({corr(r.corr_distance)}).",
        f"<b>What it suggests:</b> promo budget earns most in the stores at the top of the table below and least "
        f"in type {weakest} stores; moving promos away from stores whose interval lies below the median is worth "
        f"an A/B test (these lifts are historical associations, not experiments).",
    ]
    columns = ["lift", "low", "high", "store_type", "assortment", "base_sales"]
    formats = {"lift": vs_normal, "low": vs_normal, "high": vs_normal, "base_sales": eur}
    labels = {"lift": "sales lift", "low": "95% CI low", "high": "95% CI high", "store_type": "type",
              "base_sales": "non-promo sales per day"}
    top = s[columns].iloc[::-1].head(TOP_STORES)
    bottom = s[columns].head(TOP_STORES)
    return Section(7, "Could promos be deployed better?", "Which stores gain most and least from a promo (lift per "
                   "store, with uncertainty), and what that suggests.", paragraphs,
                   to_png_base64(figures.promo_targeting_figure(r)), "Per-store promo lift with 95% CI; lift by type",
                   [table(top, formats, f"{TOP_STORES} stores with the largest lift", "store", labels),
                    table(bottom, formats, f"{TOP_STORES} stores with the smallest lift", "store", labels)])


def opening_section(found: Findings, frame: EdaFrame) -> Section:
    o = found.opening
    g = o.groups
    types = ", ".join(f"{n} of type {t}" for t, n in o.sunday_opener_types.items())
    index = o.weekday_index
    paragraphs = [
        f"{count(o.n_sunday_openers)} stores open on at least {pct(SUNDAY_OPENER_SHARE, 0)} of their Sundays "
        f"({types or 'none'}); {count(o.n_all_weekdays)} stores were open on every Monday-Saturday without a state "
        f"holiday for which they have a row; {count(o.n_seven_days)} do both, i.e. open seven days a week.",
        "Weekend sales: " + "; ".join(
            f"{name} stores ({count(row['stores'])}) make {pct(row['weekend_share'])} of their sales on Saturday and "
            f"Sunday (median store) and sell {eur(row['sales'])} per trading day" for name, row in g.iterrows()
        ) + ".",
        "Against their own Tue-Thu mean (non-promo days), Saturday sells " + "; ".join(
            f"{vs_normal(index.loc['Sat', name])} in {name} stores" for name in index.columns
        ) + (f", and Sunday {vs_normal(index.loc['Sun', 'open Sundays'])} in Sunday-open stores"
             if "open Sundays" in index.columns else "") + ". " + _saturday_shift(index),
    ]
    formats = {"stores": count, "weekend_share": pct, "sales": eur}
    return Section(9, "Opening days and weekend sales", "Which stores are open on all weekdays (and on Sundays), and "
                   "how that relates to their weekend sales.", paragraphs, to_png_base64(figures.opening_figure(o)),
                   "Weekday sales index and weekend share of sales by Sunday opening",
                   [table(g, formats, "Stores by Sunday opening", "group",
                          {"weekend_share": "share of sales on Sat + Sun", "sales": "sales per trading day"})])


def _saturday_shift(index) -> str:
    """A sentence on how much lower Saturday sells in Sunday-open stores than in Sunday-closed ones."""
    if not {"open Sundays", "closed Sundays"} <= set(index.columns):
        return ""
    gap = index.loc["Sat", "closed Sundays"] - index.loc["Sat", "open Sundays"]
    if gap > 0:
        return f"Saturday sells {gap * 100:.0f} points less where stores open on Sunday: part of its trade moves there."
    return f"Saturday sells {-gap * 100:.0f} points more where stores open on Sunday: Sunday adds trade."


def _distance_verdict(correlations) -> str:
    """A sentence on whether distance relates to sales, or only to how they are made."""
    if abs(correlations["sales"]) < 0.1 and abs(correlations["spend"]) >= 0.2:
        return "Distance barely moves sales; it changes how they are made."
    if abs(correlations["sales"]) < 0.1:
        return "Distance barely moves sales."
    return "Distance and sales are related."


def store_formats_section(found: Findings, frame: EdaFrame) -> Section:
    f = found.formats
    t, a = f.by_type, f.by_assortment
    paragraphs = [
        f"Store type {t['sales'].idxmax()} sells most per trading day ({eur(t['sales'].max())}, "
        f"{count(t.loc[t['sales'].idxmax(), 'stores'])} stores) and type {t['sales'].idxmin()} least "
        f"({eur(t['sales'].min())}). Customers: most in type {t['customers'].idxmax()} "
        f"({count(t['customers'].max())}), fewest in type {t['customers'].idxmin()} ({count(t['customers'].min())}); "
        f"spend per customer from {eur2(t['spend'].min())} (type {t['spend'].idxmin()}) to {eur2(t['spend'].max())} "
        f"(type {t['spend'].idxmax()}).",
        "Assortment (a basic, b extra, c extended): " + "; ".join(
            f"{k}: {count(row['stores'])} stores, {eur(row['sales'])} and {count(row['customers'])} customers per "
            f"trading day" for k, row in a.iterrows()
        ) + f". Extended (c) vs. basic (a): {vs_normal(a.loc['c', 'sales'] / a.loc['a', 'sales'])} sales."
        if {"a", "c"} <= set(a.index) else "Assortment a or c is absent.",
    ]
    formats = {"stores": count, "sales": eur, "customers": count, "spend": eur2}
    return Section(10, "Store type and assortment", "Assortment type and store type vs. sales and customers.",
                   paragraphs, to_png_base64(figures.store_formats_figure(f)),
                   "Sales and customers per trading day by store type and assortment",
                   [table(f.cross, formats, "Per trading store-day, by store type and assortment", None,
                          {"store_type": "store type", "spend": "sales per customer"})])


def distance_section(found: Findings, frame: EdaFrame) -> Section:
    d = found.distance
    bands = d.bands
    close = bands.iloc[0]
    rest = d.stores.dropna(subset=["distance", "sales"])
    far = rest[rest["distance"] >= CLOSE_METRES]
    by_type = ", ".join(f"type {k} {vs_normal(v)}" for k, v in d.close_vs_rest_by_type.items())
    paragraphs = [
        f"Distance is known for {count(len(rest))} stores ({d.missing_distance} unknown). Rank correlation with "
        f"distance: store mean sales {corr(d.corr['sales'])}, customers {corr(d.corr['customers'])}, sales per "
        f"customer {corr(d.corr['spend'])}. " + _distance_verdict(d.corr),
        f"Stores with a competitor within {CLOSE_METRES:,.0f} m ({count(close['stores'])}, typically city centres; "
        f"{pct(d.close_type_share.get('a', 0.0), 0)} type a) serve more customers (median {count(close['customers'])}"
        f" vs. {count(far['customers'].median())} further out) who spend less ({eur2(close['spend'])} vs. "
        f"{eur2(far['spend'].median())}). Their median sales vs. other stores of the same type: {by_type or 'n/a'}.",
        f"Among these very close stores, the rank correlation of distance with sales is {corr(d.close_corr)}"
        + (": the exact metres no longer matter." if abs(d.close_corr) < 0.2 else "."),
    ]
    formats = {"stores": count, "sales": eur, "customers": count, "spend": eur2}
    return Section(11, "Distance to the nearest competitor", "Distance to the nearest competitor vs. sales, and "
                   "whether it matters for stores whose competitors are very close (city centres).", paragraphs,
                   to_png_base64(figures.distance_figure(d)), "Sales vs. competitor distance; customers and spend",
                   [table(bands, formats, "Median store per distance band", "distance",
                          {"sales": "sales per day", "customers": "customers per day",
                           "spend": "sales per customer"})])


def openings_section(found: Findings, frame: EdaFrame) -> Section:
    o = found.openings
    e = o.effects
    p = o.profile["median"]
    paragraphs = [
        f"{count(o.n_inside)} stores have a CompetitionOpenSince month inside the history; "
        f"{count(len(e))} have {MIN_TRADING_DAYS}+ trading days in both the {MONTHS_AROUND} months before and the "
        f"{MONTHS_AROUND} months after it (the opening month itself is skipped: the day is unknown). Each day's sales "
        f"are divided by that day's mean over the {count(o.n_controls)} stores without an opening in the history, "
        f"which removes season, promos and holidays.",
        f"After a competitor opens, sales change by {signed(o.mean_effect)} on average (95% CI "
        f"{signed(o.ci[0])} to {signed(o.ci[1])}; median store {signed(o.median_effect)}); "
        f"{pct(o.share_declined, 0)} of the stores lose sales. Rank correlation of the change with distance: "
        f"{corr(o.corr_distance)}" + (" (the nearer the competitor, the larger the loss)." if o.corr_distance > 0
                                      else "."),
        f"Median store vs. its level before: {vs_normal(p.loc[0])} in the opening month, "
        f"{vs_normal(p.loc[1:3].mean())} in months +1..+3, {vs_normal(p.loc[4:6].mean())} in months +4..+6.",
    ]
    worst = e.sort_values("effect").head(TOP_STORES)
    formats = {"distance": lambda v: "n/a" if np.isnan(v) else f"{v:,.0f} m", "before": lambda v: f"{v:.2f}",
               "after": lambda v: f"{v:.2f}", "effect": signed}
    return Section(12, "When a competitor opens", "Effect of a competitor opening: stores whose CompetitionOpenSince "
                   "date falls inside the history, sales in the months before vs. after the opening.", paragraphs,
                   to_png_base64(figures.openings_figure(o)), "Relative sales around competitor openings",
                   [table(worst, formats, f"{TOP_STORES} stores with the largest loss (sales / control-store mean)",
                          "store")])
