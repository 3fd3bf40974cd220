"""Calibration on the 42 days before the cutoff: RMSPE correction, conformal interval, metrics; the blend.

Every model of a version is calibrated on the same scored rows (store, day) of C-41..C, forecast from
origin C-42, so their calibration figures are comparable; the blend's weights are fixed (chosen on several
backtest windows), its own correction and interval are fitted here. Interval quantiles
also pool the forest's residuals on the same days a year earlier (:class:`EarlierResiduals`).
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .config import CORRECTION_TRIM
from .intervals import lead_week_quantiles
from .metrics import rmspe, rmspe_correction


@dataclass(frozen=True)
class EarlierResiduals:
    """Corrected log residuals (log actual - log corrected forecast), lead days, and the rows' store and day
    indices into the training history, (n,) each, of the forest on the interval window: the forecast days a year
    earlier (:mod:`training.rf.interval_windows`)."""

    log_residuals: np.ndarray
    lead_days: np.ndarray
    stores: np.ndarray
    days: np.ndarray


def correction_factor(actual: np.ndarray, pred: np.ndarray) -> float:
    """The RMSPE correction of forecasts ``pred`` (n,) in euros against ``actual`` (n,): fitted without the
    ``CORRECTION_TRIM`` share of rows with the largest errors."""
    return rmspe_correction(actual, pred, CORRECTION_TRIM)


def calibrate(
    actual: np.ndarray, log_pred: np.ndarray, lead_days: np.ndarray, earlier: EarlierResiduals | None = None
) -> dict:
    """Correction, per-lead-week interval and RMSPE of uncorrected log forecasts; arrays (n,).

    The interval's quantiles are taken over this model's corrected calibration residuals pooled with
    ``earlier``: the forest's corrected residuals on the forecast days a year earlier.
    """
    pred = np.exp(log_pred)
    correction = correction_factor(actual, pred)
    residuals = np.log(actual) - np.log(pred * correction)
    if earlier is not None:
        residuals = np.concatenate([residuals, earlier.log_residuals])
        lead_days = np.concatenate([lead_days, earlier.lead_days])
    return {
        "correction": correction,
        "interval": lead_week_quantiles(residuals, lead_days),
        "metrics": {
            "calibration_rmspe": rmspe(actual, pred * correction),
            "calibration_rmspe_uncorrected": rmspe(actual, pred),
        },
    }


def blend_log(
    log_preds: dict[str, np.ndarray], corrections: dict[str, float], weights: Mapping[str, float]
) -> np.ndarray:
    """Weighted mean of the members' corrected log forecasts (the blend before its own correction)."""
    return sum(weights[name] * (log_preds[name] + np.log(corrections[name])) for name in weights)


def fit_blend(
    actual: np.ndarray, log_preds: dict[str, np.ndarray], corrections: dict[str, float], lead_days: np.ndarray,
    weights: Mapping[str, float], earlier: EarlierResiduals | None = None,
) -> dict:
    """Manifest entry of the blend in log space with fixed ``weights`` (``training.config.BLEND_WEIGHTS``, chosen
    on several backtest windows); its own correction and interval are fitted on the calibration rows."""
    entry = calibrate(actual, blend_log(log_preds, corrections, weights), lead_days, earlier)
    return {"kind": "blend", "space": "log", "members": list(weights), "weights": dict(weights), **entry}
