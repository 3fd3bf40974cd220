"""Scores of the totals' bands on a backtest window: coverage and width per aggregation level.

The levels are the ones planners decide on: the chain per day, each federal state and each store type per ISO
week, each store over the whole window. A total is taken over the store-days whose actual sales are known (the
forecast of the others is left out of it), so forecast and actual add up the same cells.
"""

from dataclasses import dataclass

import numpy as np

from rossmann_core.covariates.assume import fit_covariates
from rossmann_core.models.forecast import Forecast
from rossmann_core.models.version import ModelVersion
from rossmann_core.totals.bands import group_period_sums, totals
from rossmann_core.totals.groups import StoreGroups, groups_of, periods_of

LEVELS = {"chain_day": ("chain", "day"), "state_week": ("state", "week"),
          "store_type_week": ("store_type", "week"), "store_window": ("store", "window")}
"""Aggregation levels scored: name -> (group kind, period kind)."""


@dataclass(frozen=True)
class LevelScores:
    """One level on one window: ``coverage`` of the 90 % band, mean relative ``width`` ((upper - lower) / forecast
    total), the same of the summed store-day bands (``summed_day_band_width``), and ``log_errors`` (log actual /
    forecast total of every group-period, for pooled figures)."""

    coverage: float
    width: float
    summed_day_band_width: float
    log_errors: np.ndarray

    def to_dict(self) -> dict[str, float]:
        return {"coverage_90": self.coverage, "width_90": self.width,
                "summed_day_band_width": self.summed_day_band_width, "totals": len(self.log_errors)}


def matrix(values: np.ndarray, n_stores: int) -> np.ndarray:
    """Forecast rows (store-major, days ascending) as an (n_stores, n_days) matrix."""
    return values.reshape(n_stores, -1).astype(np.float64)


def score_levels(version: ModelVersion, model: str, forecast: Forecast, actual: np.ndarray) -> dict[str, LevelScores]:
    """Each level's scores for ``forecast`` of every store of ``version`` and ``actual`` sales (n_stores, n_days),
    NaN where unknown."""
    n_stores = len(version.stores.store_id)
    known = np.isfinite(actual)
    cells = np.where(known, matrix(forecast.sales, n_stores), 0.0)
    lower, upper = (np.where(known, matrix(b, n_stores), 0.0) for b in (forecast.lower, forecast.upper))
    actual = np.where(known, actual, 0.0)
    dates = forecast.date.reshape(n_stores, -1)[0]
    leads = forecast.lead_days.reshape(n_stores, -1)[0]
    stores = StoreGroups(version.stores.store_id, version.stores.store_type, version.stores.assortment,
                         fit_covariates(version.history).state_of_store)
    scores = {}
    for level, (group_kind, period_kind) in LEVELS.items():
        groups, periods = groups_of(group_kind, stores), periods_of(period_kind, dates)
        banded = totals(cells, dates, leads, stores.state, np.arange(n_stores), n_stores, int(leads.max()), groups,
                        periods, version.totals[model])
        truth, day_low, day_high = (group_period_sums(m, groups, periods) for m in (actual, lower, upper))
        scored = (banded.sales > 0) & (truth > 0)
        scores[level] = LevelScores(
            coverage=float(np.mean((truth >= banded.lower) & (truth <= banded.upper), where=scored)),
            width=float(np.mean((banded.upper - banded.lower) / np.where(scored, banded.sales, 1.0), where=scored)),
            summed_day_band_width=float(np.mean((day_high - day_low) / np.where(scored, banded.sales, 1.0),
                                                where=scored)),
            log_errors=np.log(truth[scored] / banded.sales[scored]),
        )
    return scores


def pooled_summary(windows: list[dict[str, LevelScores]], ordinary: list[bool]) -> dict[str, dict[str, float]]:
    """Per level over the ``ordinary`` windows (Christmas apart): pooled coverage (each total counted once), the
    lowest and highest window coverage, mean widths, and the hindsight width: the band from the 5 % and 95 %
    quantiles of the pooled log errors, which would have covered exactly 90 % of those totals."""
    summary = {}
    for level in LEVELS:
        chosen = [w[level] for w, keep in zip(windows, ordinary) if keep]
        if not chosen:
            continue
        counts = np.array([len(s.log_errors) for s in chosen])
        low, high = np.quantile(np.concatenate([s.log_errors for s in chosen]), [0.05, 0.95])
        hindsight = float(np.exp(high) - np.exp(low))
        width = float(np.average([s.width for s in chosen], weights=counts))
        summary[level] = {
            "pooled_coverage_90": float(np.average([s.coverage for s in chosen], weights=counts)),
            "min_coverage_90": min(s.coverage for s in chosen), "max_coverage_90": max(s.coverage for s in chosen),
            "mean_width_90": width,
            "mean_summed_day_band_width": float(np.average([s.summed_day_band_width for s in chosen], weights=counts)),
            "hindsight_width_90": hindsight, "width_over_hindsight": width / hindsight,
        }
    return summary
