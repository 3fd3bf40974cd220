"""ACF and PACF of series with missing days, and the lags they point to.

The ACF skips pairs with a missing day (statsmodels ``missing="conservative"``); the PACF follows
from it by Durbin-Levinson, so both use the same calendar-day spacing (lag 7 = one week).
"""

import numpy as np
from statsmodels.tsa.stattools import acf, levinson_durbin

MAX_LAG = 42


def acf_nan(values: np.ndarray, max_lag: int = MAX_LAG) -> np.ndarray:
    """Autocorrelations at lags 0..max_lag, (max_lag + 1,)."""
    return np.asarray(acf(values, nlags=max_lag, missing="conservative", fft=False))


def pacf_from_acf(autocorr: np.ndarray) -> np.ndarray:
    """Partial autocorrelations at lags 0..len-1 (lag 0 = 1)."""
    _, _, pacf, _, _ = levinson_durbin(autocorr, nlags=len(autocorr) - 1, isacov=True)
    return np.asarray(pacf)


def mean_store_acf(matrix: np.ndarray, max_lag: int = MAX_LAG, min_days: int = 100) -> np.ndarray:
    """Mean over stores (rows with at least ``min_days`` finite values) of their ACF."""
    rows = [acf_nan(row, max_lag) for row in matrix if np.isfinite(row).sum() >= min_days]
    return np.nanmean(np.array(rows), axis=0)


def band(n: int) -> float:
    """Half-width of the approximate 95 % band of white noise for ``n`` observations."""
    return 1.96 / np.sqrt(n)


def seasonal_excess(values: np.ndarray, lag: int) -> float:
    """How far the value at ``lag`` stands above the mean of its two neighbouring lags."""
    return float(values[lag] - (values[lag - 1] + values[lag + 1]) / 2)


def peak_lags(values: np.ndarray, threshold: float, top: int = 4) -> list[int]:
    """The ``top`` lags >= 2 that are local maxima above ``threshold``, strongest first."""
    lags = [
        lag for lag in range(2, len(values) - 1)
        if values[lag] > threshold and values[lag] >= values[lag - 1] and values[lag] >= values[lag + 1]
    ]
    return sorted(lags, key=lambda lag: -values[lag])[:top]


def significant_lags(values: np.ndarray, threshold: float, top: int = 4) -> list[int]:
    """The ``top`` lags >= 1 with the largest |value| above ``threshold``."""
    lags = [lag for lag in range(1, len(values)) if abs(values[lag]) > threshold]
    return sorted(lags, key=lambda lag: -abs(values[lag]))[:top]
