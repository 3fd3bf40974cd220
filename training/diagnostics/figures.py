"""The diagnostics' figures as PNG files (matplotlib, Agg backend)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from .autocorr import band
from .series import Series, difference

DPI = 110


def _save(fig: plt.Figure, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path.name


def rolling_mean(values: np.ndarray, days: int) -> np.ndarray:
    """Trailing mean of the finite values over ``days`` days; NaN until the window is full or where
    fewer than a quarter of its days are finite."""
    known = np.isfinite(values)
    sums = np.concatenate([[0.0], np.cumsum(np.where(known, values, 0.0))])
    counts = np.concatenate([[0], np.cumsum(known)])
    out = np.full(values.shape, np.nan)
    window_count = counts[days:] - counts[:-days]
    enough = window_count >= days / 4
    out[days - 1 :] = np.where(enough, (sums[days:] - sums[:-days]) / np.maximum(window_count, 1), np.nan)
    return out


def chain_series(series: Series, out_dir: Path) -> str:
    fig, ax = plt.subplots(figsize=(11, 3.6))
    ax.plot(series.dates, series.chain_sales, lw=0.5, color="0.6", label="daily")
    ax.plot(series.dates, rolling_mean(series.chain_sales, 7), lw=1.2, label="7-day mean")
    ax.plot(series.dates, rolling_mean(series.chain_sales, 28), lw=1.5, label="28-day mean")
    ax.set(title="Chain: sales per reporting store and day (closed days count 0)", ylabel="euros")
    ax.legend(loc="upper left")
    return _save(fig, out_dir / "chain_series.png")


def store_series(series: Series, rows: dict[str, int], out_dir: Path) -> str:
    fig, axes = plt.subplots(len(rows), 1, figsize=(11, 2.3 * len(rows)), sharex=True)
    for ax, (label, row) in zip(np.atleast_1d(axes), rows.items()):
        ax.plot(series.dates, series.store_log[row], ".", ms=1.5, color="0.5")
        ax.plot(series.dates, rolling_mean(series.store_log[row], 28), lw=1.2, label="28-day mean")
        ax.set(title=f"Store {series.store_ids[row]} ({label}): log sales on open days", ylabel="log euros")
    return _save(fig, out_dir / "store_series.png")


def transforms(series: Series, out_dir: Path) -> str:
    panels = {
        "log (open-store mean)": series.chain_log,
        "log, first difference": difference(series.chain_log, 1),
        "log, weekly difference (lag 7)": difference(series.chain_log, 7),
        "log minus store weekday x promo mean": series.chain_residual,
    }
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 8), sharex=True)
    for ax, (title, values) in zip(axes, panels.items()):
        ax.plot(series.dates, values, lw=0.7)
        ax.set_title(f"Chain: {title}", fontsize=10)
    return _save(fig, out_dir / "transforms.png")


def correlograms(panels: dict[str, tuple[np.ndarray, int]], out_dir: Path) -> str:
    """One stem plot per (values at lags 0.., n observations) with the 95 % white-noise band."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 6.5))
    for ax, (title, (values, n)) in zip(axes.ravel(), panels.items()):
        lags = np.arange(1, len(values))
        ax.bar(lags, values[1:], width=0.6)
        ax.axhline(0, color="black", lw=0.6)
        ax.fill_between([0.5, len(values) - 0.5], -band(n), band(n), color="0.85")
        ax.set_xticks(np.arange(7, len(values), 7))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("lag (days)")
    return _save(fig, out_dir / "acf_pacf.png")
