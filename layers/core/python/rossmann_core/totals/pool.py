"""The joint residual pool of a model: what a total's band is drawn from (docs/decisions/027-totals-bands.md).

A window's corrected log residuals r (stores x days, NaN where not scored) are split into parts that add up:

    r[s, d] = day_shock[d] + state_offset[state(s)] + store_offset[s] + cell[s, d]

- ``day_shock``: the forecast-weighted mean residual of all stores on a day (a chain-wide shock: weather,
  a holiday effect, and the level the whole chain runs at for weeks), kept as the window's days in order, so that
  whole weeks can be drawn and a chain-wide level that persists over a week stays in a week's total;
- ``state_offset``: a state's forecast-weighted mean over the window after the day shocks (errors shared by a
  region's stores for weeks), one vector per window, so states keep their joint pattern;
- ``store_offset``: the store's own mean over the window beyond its state's (a store running above or below its
  forecast for weeks), pooled over windows and stores;
- ``cell``: what is left of each store-day, as a quantile grid.

Training computes this from out-of-sample windows with :func:`decompose`: the chain's day shocks from all of them
(the calibration window, the year-ago window and further windows across the year: a level the whole chain runs at
for weeks is not seasonal, and two windows give two such levels), the state and store offsets and the cell noise from
the first SEASONAL_WINDOWS (the calibration and year-ago windows the store-day intervals pool: regional and store
patterns follow the season, e.g. each state's school holidays). Serving reads it with numpy alone
(:meth:`TotalsPool.from_arrays`).
"""

from dataclasses import dataclass

import numpy as np

from rossmann_core.data.dates import weekday

CELL_QUANTILES = 1001
"""Points of the cell-noise quantile grid (0, 0.001, ..., 1)."""
SEASONAL_WINDOWS = 2
"""Windows (the first ones given) that the state and store offsets and the cell noise come from."""


@dataclass(frozen=True)
class WindowResiduals:
    """One out-of-sample window: ``log_residual`` and corrected ``forecast`` (euros) of shape (n_stores, n_days),
    NaN where the store-day was not scored; ``dates`` (n_days,) datetime64[D]; ``states`` (n_stores,) str."""

    log_residual: np.ndarray
    forecast: np.ndarray
    dates: np.ndarray
    states: np.ndarray


@dataclass(frozen=True)
class TotalsPool:
    """The pool of one model, float32 arrays.

    ``day_shock`` (n_windows, n_days) in date order (0 where no store was scored) and ``day_weekday`` (n_windows,
    n_days), Monday = 0; ``state_names`` (n_states,) str and ``state_offset`` (n_seasonal_windows, n_states);
    ``store_offset`` (n,) pooled over windows; ``cell_quantiles`` (CELL_QUANTILES,).
    """

    day_shock: np.ndarray
    day_weekday: np.ndarray
    state_names: np.ndarray
    state_offset: np.ndarray
    store_offset: np.ndarray
    cell_quantiles: np.ndarray

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Named arrays for an ``.npz`` file, each key ``<prefix>/<field>``."""
        return {f"{prefix}/{name}": value for name, value in vars(self).items()}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str) -> "TotalsPool":
        """The pool ``<prefix>/<field>`` of ``arrays``; ValueError naming what is missing or misshapen."""
        missing = [name for name in cls.__dataclass_fields__ if f"{prefix}/{name}" not in arrays]
        if missing:
            raise ValueError(f"the totals pool of {prefix} lacks {', '.join(missing)}")
        pool = cls(**{name: arrays[f"{prefix}/{name}"] for name in cls.__dataclass_fields__})
        state_windows = pool.state_offset.shape[0] if pool.state_offset.ndim == 2 else 0
        if pool.day_shock.ndim != 2 or pool.day_shock.shape != pool.day_weekday.shape or \
                not 1 <= state_windows <= pool.day_shock.shape[0] or pool.day_shock.shape[1] < 7:
            raise ValueError(f"the totals pool of {prefix} holds day shocks of shape {pool.day_shock.shape}, "
                             f"weekdays {pool.day_weekday.shape} and state offsets {pool.state_offset.shape}")
        return pool


def weighted_mean(values: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    """Mean of ``values`` along ``axis`` with ``weights``, NaN entries left out; NaN where nothing is left."""
    valid = np.isfinite(values) & np.isfinite(weights) & (weights > 0)
    w = np.where(valid, weights, 0.0)
    total = w.sum(axis=axis)
    weighted = (np.where(valid, values, 0.0) * w).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, weighted / total, np.nan)


def decompose_window(window: WindowResiduals, state_names: np.ndarray) -> dict[str, np.ndarray]:
    """One window's parts: ``day_shock`` (n_days,), ``state_offset`` (n_states,), ``store_offset`` and ``cell``
    (finite values only); see the module docstring."""
    r, f = window.log_residual.astype(np.float64), window.forecast.astype(np.float64)
    day_shock = weighted_mean(r, f, axis=0)
    beyond_day = r - np.nan_to_num(day_shock)[None, :]
    store_mean = weighted_mean(beyond_day, f, axis=1)
    store_weight = np.where(np.isfinite(r), np.nan_to_num(f), 0.0).sum(axis=1)
    state_of_store = np.searchsorted(state_names, window.states)
    state_offset = np.array([
        weighted_mean(store_mean[state_of_store == k], store_weight[state_of_store == k], axis=0)
        for k in range(len(state_names))
    ])
    state_offset = np.nan_to_num(state_offset)
    store_offset = store_mean - state_offset[state_of_store]
    cell = beyond_day - store_mean[:, None]
    return {"day_shock": day_shock, "state_offset": state_offset,
            "store_offset": store_offset[np.isfinite(store_offset)], "cell": cell[np.isfinite(cell)]}


def decompose(windows: list[WindowResiduals], seasonal_windows: int = SEASONAL_WINDOWS) -> TotalsPool:
    """The pool of one model from its out-of-sample ``windows`` (at least one; the calibration window first, then
    the year-ago window, then any further ones): day shocks from all, the rest from the first ``seasonal_windows``."""
    state_names = np.unique(np.concatenate([w.states for w in windows]))
    parts = [decompose_window(w, state_names) for w in windows]
    days = max(len(w.dates) for w in windows)
    shocks = np.zeros((len(windows), days))
    weekdays = np.zeros((len(windows), days), dtype=np.int8)
    for i, (window, part) in enumerate(zip(windows, parts)):
        shocks[i, : len(window.dates)] = np.nan_to_num(part["day_shock"])
        weekdays[i] = weekday(window.dates[0] + np.arange(days))
    seasonal = parts[:seasonal_windows]
    return TotalsPool(
        day_shock=shocks.astype(np.float32),
        day_weekday=weekdays,
        state_names=state_names.astype(str),
        state_offset=np.stack([p["state_offset"] for p in seasonal]).astype(np.float32),
        store_offset=np.concatenate([p["store_offset"] for p in seasonal]).astype(np.float32),
        cell_quantiles=np.quantile(np.concatenate([p["cell"] for p in seasonal]),
                                   np.linspace(0, 1, CELL_QUANTILES)).astype(np.float32),
    )
