"""Questions 11 and 12: distance to the nearest competitor, and what a competitor's opening does."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .frame import EdaFrame
from .lifts import Z_95, rank_corr

DISTANCE_EDGES = (0.0, 500.0, 2_000.0, 5_000.0, 20_000.0, np.inf)
DISTANCE_LABELS = ("< 0.5 km", "0.5-2 km", "2-5 km", "5-20 km", ">= 20 km")
CLOSE_METRES = 500.0
"""Competitors nearer than this count as "very close" (typically city-centre stores)."""
MONTHS_AROUND = 3
"""Months before and after the opening month compared in question 12 (the opening month is skipped)."""
MIN_TRADING_DAYS = 20
"""A store needs this many trading days both before and after an opening to be measured."""
PROFILE_MONTHS = range(-6, 7)


@dataclass(frozen=True)
class CompetitionDistance:
    """Question 11. ``stores``: per store distance (m), sales / customers per trading day, spend, type, band."""

    stores: pd.DataFrame
    bands: pd.DataFrame  # index distance band; stores, sales, customers, spend (medians over stores)
    corr: pd.Series  # Spearman of distance vs. sales, customers, spend (stores with a known distance)
    close_corr: float  # Spearman of distance vs. sales among stores closer than CLOSE_METRES
    close_type_share: pd.Series  # share of store types among very close stores
    close_vs_rest_by_type: pd.Series  # per store type: median sales of very close / other stores
    missing_distance: int


def competition_distance(frame: EdaFrame) -> CompetitionDistance:
    """Question 11: distance to the nearest competitor vs. a store's sales and customers."""
    trading = frame.days[frame.days["trading"]]
    means = trading.groupby("store")[["sales", "customers"]].mean()
    sums = trading.groupby("store")[["sales", "customers"]].sum()
    stores = frame.stores[["competition_distance", "store_type"]].rename(columns={"competition_distance": "distance"})
    stores = stores.join(means).assign(spend=sums["sales"] / sums["customers"])
    stores["band"] = pd.cut(stores["distance"], DISTANCE_EDGES, right=False, labels=DISTANCE_LABELS)
    known = stores.dropna(subset=["distance", "sales"])
    bands = known.groupby("band", observed=False)[["sales", "customers", "spend"]].median()
    bands.insert(0, "stores", known.groupby("band", observed=False).size())
    close = known["distance"] < CLOSE_METRES
    medians = known.groupby([known["store_type"], close])["sales"].median().unstack()
    ratio = medians[True] / medians[False] if {True, False} <= set(medians.columns) else pd.Series(dtype=float)
    return CompetitionDistance(
        stores=stores,
        bands=bands,
        corr=pd.Series({name: rank_corr(known["distance"], known[name]) for name in ("sales", "customers", "spend")}),
        close_corr=rank_corr(known.loc[close, "distance"], known.loc[close, "sales"]),
        close_type_share=known.loc[close, "store_type"].value_counts(normalize=True).sort_index(),
        close_vs_rest_by_type=ratio.dropna(),
        missing_distance=int(stores["distance"].isna().sum()),
    )


@dataclass(frozen=True)
class CompetitorOpenings:
    """Question 12. Sales are divided by the same day's mean over control stores (no opening in the history).

    ``effects``: per measured store; opened ("YYYY-MM"), distance, before, after, effect (after / before - 1).
    ``profile``: index month offset; median, q25, q75 of monthly relative sales / the store's "before" level.
    """

    n_inside: int
    n_controls: int
    effects: pd.DataFrame
    mean_effect: float
    ci: tuple[float, float]
    median_effect: float
    share_declined: float
    corr_distance: float
    profile: pd.DataFrame


def competitor_openings(frame: EdaFrame) -> CompetitorOpenings:
    """Question 12: sales in the 3 months before vs. the 3 months after a competitor opened nearby."""
    days, stores = frame.days, frame.stores
    opened = stores["competition_open_year"] * 12 + stores["competition_open_month"] - 1
    month = days["year"].astype(np.int64) * 12 + days["month"] - 1
    inside = opened.between(month.min(), month.max())
    trading = days[days["trading"]]
    is_control = ~trading["store"].map(inside)
    control_mean = trading[is_control].groupby("day")["sales"].mean()
    events = trading[~is_control]
    offset = month.loc[events.index] - events["store"].map(opened)
    work = pd.DataFrame(
        {"store": events["store"], "offset": offset, "rel": events["sales"] / events["day"].map(control_mean)}
    ).dropna()
    window = np.select([work["offset"].between(-MONTHS_AROUND, -1), work["offset"].between(1, MONTHS_AROUND)],
                       ["before", "after"], "")
    sides = work[window != ""].groupby(["store", window[window != ""]])["rel"].agg(["mean", "size"]).unstack()
    measured = sides.dropna()
    enough = (measured[("size", "before")] >= MIN_TRADING_DAYS) & (measured[("size", "after")] >= MIN_TRADING_DAYS)
    measured = measured[enough]
    effects = pd.DataFrame(
        {
            "opened": [f"{int(m) // 12}-{int(m) % 12 + 1:02d}" for m in opened[measured.index]],
            "distance": stores.loc[measured.index, "competition_distance"],
            "before": measured[("mean", "before")],
            "after": measured[("mean", "after")],
        }
    ).rename_axis("store")
    effects["effect"] = effects["after"] / effects["before"] - 1.0
    mean, sd = effects["effect"].mean(), effects["effect"].std()
    half = Z_95 * sd / np.sqrt(len(effects)) if len(effects) > 1 else np.nan

    shown = work[work["store"].isin(effects.index) & work["offset"].isin(PROFILE_MONTHS)]
    monthly = shown.groupby(["store", "offset"])["rel"].mean().unstack("offset")
    monthly = monthly.div(effects["before"], axis=0)
    profile = pd.DataFrame(
        {"median": monthly.median(), "q25": monthly.quantile(0.25), "q75": monthly.quantile(0.75)}
    ).reindex(PROFILE_MONTHS)
    return CompetitorOpenings(
        n_inside=int(inside.sum()),
        n_controls=int((~inside).sum()),
        effects=effects,
        mean_effect=float(mean),
        ci=(float(mean - half), float(mean + half)),
        median_effect=float(effects["effect"].median()),
        share_declined=float((effects["effect"] < 0).mean()),
        corr_distance=rank_corr(effects["effect"], effects["distance"]),
        profile=profile,
    )
