"""Figures of the store- and promo-shaped questions (5, 6, 7, 9, 10, 11, 12)."""

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from .competition import CompetitionDistance, CompetitorOpenings
from .frame import WEEKDAYS
from .plots import (
    COLORS,
    STORE_TYPE_COLORS,
    euro_axis,
    euro_cents_axis,
    grouped_bars,
    new_figure,
    normal_line,
    percent_axis,
)
from .promos import PromoEffect, PromoTargeting
from .store_profiles import OpeningPattern, SalesCustomers, StoreFormats


def sales_customers_figure(result: SalesCustomers, trading: pd.DataFrame) -> Figure:
    """Hexbin of daily sales vs. customers, and € per customer by store type."""
    figure, (scatter, spend) = new_figure(2, 4.4, widths=[1.4, 1.0])
    cells = scatter.hexbin(trading["customers"], trading["sales"], gridsize=70, norm=LogNorm(), cmap="viridis",
                           mincnt=1)
    figure.colorbar(cells, ax=scatter, label="store-days")
    scatter.set(title=f"Daily sales vs. customers (Pearson r = {result.overall_corr:.2f})",
                xlabel="customers per day", ylabel="sales per day")
    euro_axis(scatter)
    table = result.by_type
    spend.bar(table.index, table["spend"].to_numpy(), color=[STORE_TYPE_COLORS[t] for t in table.index])
    spend.set_xticks(range(len(table)), [f"type {t}\nr = {r:.2f}" for t, r in zip(table.index, table["corr"])])
    spend.set(title="Sales per customer by store type", ylabel="sales per customer")
    euro_cents_axis(spend)
    return figure


def promo_effect_figure(effect: PromoEffect) -> Figure:
    """Mean sales with and without promo, and the lift split into customers and spend."""
    figure, (daily, lifts) = new_figure(2, 4.0)
    grouped_bars(daily, list(effect.by_weekday.index),
                 {name: effect.by_weekday[name].to_numpy() for name in effect.by_weekday.columns})
    daily.set(title="Mean sales per store-day, Mon-Fri regular trading days", ylabel="sales per store-day")
    euro_axis(daily)
    table = effect.lifts
    lifts.bar(table.index, table["mean"].to_numpy() - 1.0, color=COLORS[:3],
              yerr=[table["mean"] - table["low"], table["high"] - table["mean"]], capsize=6)
    lifts.set(title=f"Promo lift, geometric mean over {effect.n_stores} stores (95% CI)", ylabel="lift vs. no promo")
    percent_axis(lifts)
    return figure


def promo_targeting_figure(result: PromoTargeting) -> Figure:
    """Per-store lift with 95% CI (sorted), and lift by store type."""
    figure, (caterpillar, by_type) = new_figure(2, 4.4, widths=[1.6, 1.0])
    stores = result.stores
    rank = np.arange(len(stores))
    caterpillar.fill_between(rank, stores["low"] - 1.0, stores["high"] - 1.0, color=COLORS[0], alpha=0.3,
                             label="95% CI")
    caterpillar.plot(rank, stores["lift"] - 1.0, color=COLORS[0], linewidth=1.2, label="store's lift")
    caterpillar.axhline(result.median_lift - 1.0, color="black", linestyle="--", linewidth=0.8, label="median")
    caterpillar.set(title="Promo sales lift per store, sorted", xlabel="stores, from least to most lift",
                    ylabel="sales lift")
    percent_axis(caterpillar)
    caterpillar.legend(fontsize=8, loc="upper left")
    types = sorted(stores["store_type"].unique())
    by_type.boxplot([stores.loc[stores["store_type"] == t, "lift"] - 1.0 for t in types],
                    tick_labels=[f"type {t}\n({(stores['store_type'] == t).sum()} stores)" for t in types])
    by_type.set(title="Promo sales lift by store type", ylabel="sales lift")
    percent_axis(by_type)
    return figure


def opening_figure(result: OpeningPattern) -> Figure:
    """Weekday sales index for Sunday-open vs. Sunday-closed stores, and their weekend share."""
    figure, (index, share) = new_figure(2, 4.0, widths=[1.5, 1.0])
    for i, group in enumerate(result.weekday_index.columns):
        index.plot(np.arange(7), result.weekday_index[group].to_numpy(), marker="o", label=group, color=COLORS[i])
    index.set_xticks(np.arange(7), WEEKDAYS)
    normal_line(index)
    index.set(title="Sales by weekday / Tue-Thu mean (non-promo days, median store)", ylabel="index")
    index.legend(fontsize=8)
    groups = result.groups
    share.bar([f"{g}\n({n} stores)" for g, n in zip(groups.index, groups["stores"])], groups["weekend_share"],
              color=COLORS[:len(groups)])
    share.set(title="Share of sales made on Sat + Sun (median store)", ylabel="share of sales")
    percent_axis(share)
    return figure


def store_formats_figure(result: StoreFormats) -> Figure:
    """Sales and customers per trading day by store type and assortment."""
    figure, (sales, customers) = new_figure(2, 4.0)
    cross = result.cross
    types = sorted(cross.index.get_level_values(0).unique())
    for axis, column in ((sales, "sales"), (customers, "customers")):
        table = cross[column].unstack("assortment").reindex(types)
        grouped_bars(axis, [f"type {t}" for t in types],
                     {f"assortment {a}": table[a].fillna(0).to_numpy() for a in table.columns})
    sales.set(title="Mean sales per trading store-day", ylabel="sales per store-day")
    euro_axis(sales)
    customers.set(title="Mean customers per trading store-day", ylabel="customers")
    return figure


def distance_figure(result: CompetitionDistance) -> Figure:
    """Store mean sales vs. competitor distance, and customers / spend per distance band."""
    figure, (scatter, customers, spend) = new_figure(3, 4.2, widths=[1.5, 1.0, 1.0])
    known = result.stores.dropna(subset=["distance", "sales"])
    for store_type, group in known.groupby("store_type"):
        scatter.scatter(group["distance"], group["sales"], s=8, alpha=0.6, label=f"type {store_type}",
                        color=STORE_TYPE_COLORS[store_type])
    scatter.set_xscale("log")
    scatter.set(title="Store mean sales vs. competitor distance", xlabel="distance to competitor (m, log scale)",
                ylabel="sales per trading day")
    euro_axis(scatter)
    scatter.legend(fontsize=8, markerscale=2)
    bands = result.bands
    customers.bar(bands.index.astype(str), bands["customers"].to_numpy(), color=COLORS[0])
    customers.set(title="Customers per day", xlabel="distance band", ylabel="customers (median store)")
    spend.bar(bands.index.astype(str), bands["spend"].to_numpy(), color=COLORS[2])
    spend.set(title="Sales per customer", xlabel="distance band", ylabel="sales per customer (median store)")
    euro_cents_axis(spend)
    for axis in (customers, spend):
        axis.tick_params(axis="x", labelsize=8, rotation=30)
    return figure


def openings_figure(result: CompetitorOpenings) -> Figure:
    """Monthly relative sales around a competitor's opening, and each store's effect vs. distance."""
    figure, (profile, scatter) = new_figure(2, 4.2, widths=[1.4, 1.0])
    months = result.profile.index
    profile.fill_between(months, result.profile["q25"], result.profile["q75"], color=COLORS[0], alpha=0.25,
                         label="middle 50% of stores")
    profile.plot(months, result.profile["median"], marker="o", color=COLORS[0], label="median store")
    profile.axvline(0, color=COLORS[3], linewidth=0.8, label="opening month")
    normal_line(profile)
    profile.set(title=f"Sales vs. control stores around an opening ({len(result.effects)} stores)",
                xlabel="months from the competitor's opening", ylabel="sales / level of months -3..-1")
    profile.legend(fontsize=8, loc="lower left")
    effects = result.effects.dropna(subset=["distance"])
    scatter.scatter(effects["distance"], effects["effect"], s=12, color=COLORS[0])
    scatter.set_xscale("log")
    scatter.axhline(0.0, color="black", linestyle="--", linewidth=0.8)
    scatter.set(title="Effect per store vs. distance", xlabel="distance to the new competitor (m, log scale)",
                ylabel="sales change, months +1..+3 vs. -3..-1")
    percent_axis(scatter)
    return figure
