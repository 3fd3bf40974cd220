"""Runs of flagged days on store x day grids, and values read at day offsets around them."""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Runs:
    """Maximal runs of consecutive flagged days, one entry per run, arrays of shape (n_runs,).

    ``store`` is the grid row; ``first`` and ``last`` are the first and last day (grid column) of the run.
    """

    store: np.ndarray
    first: np.ndarray
    last: np.ndarray

    def __len__(self) -> int:
        return len(self.store)

    @property
    def length(self) -> np.ndarray:
        return self.last - self.first + 1

    def take(self, mask: np.ndarray) -> "Runs":
        return Runs(self.store[mask], self.first[mask], self.last[mask])


def find_runs(flags: np.ndarray) -> Runs:
    """Runs of True in each row of a bool array (n_stores, n_days)."""
    padded = np.pad(flags.astype(bool), ((0, 0), (1, 1)))
    starts = padded[:, 1:-1] & ~padded[:, :-2]
    ends = padded[:, 1:-1] & ~padded[:, 2:]
    store, first = np.nonzero(starts)
    _, last = np.nonzero(ends)
    return Runs(store, first, last)


def dilate(flags: np.ndarray, days: int) -> np.ndarray:
    """True where a row of ``flags`` (n_stores, n_days) is True within ``days`` days, either side."""
    padded = np.pad(flags.astype(bool), ((0, 0), (days, days)))
    width = flags.shape[1]
    out = np.zeros(flags.shape, dtype=bool)
    for shift in range(2 * days + 1):
        out |= padded[:, shift : shift + width]
    return out


def values_at(grid: np.ndarray, store: np.ndarray, day: np.ndarray, exclude: np.ndarray | None = None) -> np.ndarray:
    """``grid[store, day]`` for the in-range days; NaN where ``day`` is outside or ``exclude`` is True there."""
    inside = (day >= 0) & (day < grid.shape[1])
    out = np.full(len(store), np.nan)
    out[inside] = grid[store[inside], day[inside]]
    if exclude is not None:
        out[inside] = np.where(exclude[store[inside], day[inside]], np.nan, out[inside])
    return out


def profile(
    grid: np.ndarray, store: np.ndarray, day: np.ndarray, offsets: range, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Mean of ``grid`` at ``day + k`` for each k in ``offsets``; float64 (len(offsets),), NaN ignored."""
    return np.array([_nanmean(values_at(grid, store, day + k, exclude)) for k in offsets])


def window_mean(
    grid: np.ndarray, store: np.ndarray, day: np.ndarray, offsets: range, exclude: np.ndarray | None = None
) -> float:
    """Mean of ``grid`` over all ``day + k`` (k in ``offsets``) around all events, NaN ignored."""
    values = np.concatenate([values_at(grid, store, day + k, exclude) for k in offsets])
    return _nanmean(values)


def during_mean(grid: np.ndarray, runs: Runs) -> float:
    """Mean of ``grid`` over the days inside the runs, NaN ignored."""
    longest = int(runs.length.max()) if len(runs) else 0
    values = [values_at(grid, runs.store, runs.first + k)[runs.length > k] for k in range(longest)]
    return _nanmean(np.concatenate(values)) if values else float("nan")


def _nanmean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")
