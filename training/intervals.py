"""Split-conformal prediction intervals from calibration residuals in log space."""

import numpy as np

from rossmann_core import HORIZON_DAYS

from .config import INTERVAL_LEVEL


def lead_week_quantiles(
    log_residuals: np.ndarray, lead_days: np.ndarray, level: float = INTERVAL_LEVEL
) -> dict[str, list[float]]:
    """Lower and upper residual quantiles per lead week (1..6).

    ``log_residuals`` = log(actual) - log(corrected forecast), shape (n,). The interval for a
    forecast f is [f * exp(lower), f * exp(upper)]; with n calibration residuals per week the
    finite-sample quantile level is ceil((n + 1) * q) / n.
    """
    tail = (1 - level) / 2
    weeks = (lead_days - 1) // 7
    lower, upper = [], []
    for week in range(HORIZON_DAYS // 7):
        residuals = log_residuals[weeks == week]
        if residuals.size == 0:
            residuals = log_residuals
        n = residuals.size
        upper_q = min(np.ceil((n + 1) * (1 - tail)) / n, 1.0)
        lower_q = max(np.floor((n + 1) * tail) / n - 1 / n, 0.0)
        lower.append(float(np.quantile(residuals, lower_q)))
        upper.append(float(np.quantile(residuals, upper_q)))
    return {"level": level, "lower_log": lower, "upper_log": upper}
