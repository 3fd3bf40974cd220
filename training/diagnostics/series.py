"""The series the diagnostics analyse, from the dataset's store x day panel (numpy only).

Closed days, days without a row and zero-sales days are NaN in the log series: closed days are
forecast 0 by rule, so the model only has to explain open days. Day index i is panel day i.
"""

from dataclasses import dataclass

import numpy as np

from rossmann_core.data.dates import weekday
from rossmann_core.data.panel import Panel

MIN_OPEN_SHARE = 0.5
"""A chain-level log value needs at least this share of the reporting stores open (drops Sundays
and public holidays, when only a few special stores trade)."""


@dataclass(frozen=True)
class Series:
    """``chain_sales`` (n_days,) euros per reporting store (closed = 0); ``chain_log`` (n_days,) mean
    log sales of the open stores, NaN on days with few stores open; ``store_log`` and
    ``store_residual`` (n_stores, n_days) log sales and log sales minus the store's weekday x promo
    mean, NaN where not open with sales."""

    dates: np.ndarray
    store_ids: np.ndarray
    chain_sales: np.ndarray
    chain_log: np.ndarray
    store_log: np.ndarray
    store_residual: np.ndarray

    @property
    def chain_residual(self) -> np.ndarray:
        """Mean store residual per day, NaN where ``chain_log`` is NaN."""
        known = np.isfinite(self.store_residual)
        mean = np.where(known, self.store_residual, 0.0).sum(axis=0) / np.maximum(known.sum(axis=0), 1)
        return np.where(np.isfinite(self.chain_log), mean, np.nan)


def weekday_promo_residual(logs: np.ndarray, promo: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """log sales minus the store's mean log sales on the same weekday with the same promo state."""
    groups = weekday(dates)[None, :] * 2 + np.clip(promo, 0, 1)
    valid = np.isfinite(logs)
    base = np.full(logs.shape, np.nan)
    for g in range(14):
        members = groups == g
        count = (members & valid).sum(axis=1)
        total = np.where(members & valid, logs, 0.0).sum(axis=1)
        base = np.where(members, (total / np.maximum(count, 1))[:, None], base)
    return logs - base


def build_series(panel: Panel) -> Series:
    valid = (panel.open == 1) & np.isfinite(panel.sales) & (panel.sales > 0)
    logs = np.where(valid, np.log(np.where(valid, panel.sales, 1.0)), np.nan)
    reporting = np.isfinite(panel.sales).sum(axis=0)
    open_stores = valid.sum(axis=0)
    enough = open_stores >= MIN_OPEN_SHARE * np.maximum(reporting, 1)
    chain_log = np.where(enough, np.where(valid, logs, 0.0).sum(axis=0) / np.maximum(open_stores, 1), np.nan)
    return Series(
        dates=panel.dates,
        store_ids=panel.store_ids,
        chain_sales=np.nansum(panel.sales, axis=0) / np.maximum(reporting, 1),
        chain_log=chain_log,
        store_log=logs,
        store_residual=weekday_promo_residual(logs, panel.promo, panel.dates),
    )


def difference(values: np.ndarray, lag: int) -> np.ndarray:
    """values[t] - values[t - lag] along the last axis, NaN for the first ``lag`` days or a NaN operand."""
    out = np.full(values.shape, np.nan)
    out[..., lag:] = values[..., lag:] - values[..., :-lag]
    return out
