"""ADF (H0: unit root) and KPSS (H0: level-stationary) on series with NaN days removed.

statsmodels' KPSS reports p-values only inside its table (0.01..0.10); outside, the bound is returned
and ``p_bounded`` says so.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from statsmodels.tools.sm_exceptions import InterpolationWarning
from statsmodels.tsa.stattools import adfuller, kpss

ADF_LAGS = 14
"""Fixed ADF lag order: two weeks, enough to absorb the weekly and two-weekly cycles."""
ALPHA = 0.05


@dataclass(frozen=True)
class TestPair:
    n: int
    adf_stat: float
    adf_p: float
    kpss_stat: float
    kpss_p: float
    kpss_p_bounded: bool

    @property
    def adf_rejects(self) -> bool:
        """A unit root is rejected (evidence of stationarity)."""
        return self.adf_p < ALPHA

    @property
    def kpss_rejects(self) -> bool:
        """Stationarity is rejected."""
        return self.kpss_p < ALPHA


def adf_kpss(values: np.ndarray) -> TestPair:
    """ADF (constant, ADF_LAGS lags) and KPSS (constant, automatic lags) on the finite values."""
    x = values[np.isfinite(values)]
    adf = adfuller(x, maxlag=ADF_LAGS, autolag=None, regression="c", result_object=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InterpolationWarning)
        kpss_stat, kpss_p, *_ = kpss(x, regression="c", nlags="auto")
    bounded = any(issubclass(w.category, InterpolationWarning) for w in caught)
    return TestPair(len(x), float(adf[0]), float(adf[1]), float(kpss_stat), float(kpss_p), bounded)


def rejection_shares(matrix: np.ndarray, min_days: int = 100) -> dict[str, float]:
    """Share of rows (stores) whose ADF rejects a unit root and whose KPSS rejects stationarity.

    Rows with fewer than ``min_days`` finite values are skipped; ``stores`` counts the rest.
    """
    results = [adf_kpss(row) for row in matrix if np.isfinite(row).sum() >= min_days]
    return {
        "stores": len(results),
        "adf_rejects": float(np.mean([r.adf_rejects for r in results])),
        "kpss_rejects": float(np.mean([r.kpss_rejects for r in results])),
    }
