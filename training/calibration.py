"""Calibration on the 42 days before the cutoff: RMSPE correction, conformal interval, metrics; the blend.

Every model of a version is calibrated on the same scored rows (store, day) of C-41..C, forecast from
origin C-42, so their calibration figures and the ensemble weight are comparable. Interval quantiles
also pool the forest's residuals on earlier windows (:class:`EarlierResiduals`).
"""

from dataclasses import dataclass

import numpy as np

from .intervals import lead_week_quantiles
from .metrics import rmspe, rmspe_correction


@dataclass(frozen=True)
class EarlierResiduals:
    """Corrected log residuals (log actual - log corrected forecast) and lead days, (n,) each, of the
    forest on the windows before the calibration window (:mod:`training.rf.interval_windows`)."""

    log_residuals: np.ndarray
    lead_days: np.ndarray


BLEND_STEP = 0.05
"""Grid step of the RF weight in the blend."""


def calibrate(
    actual: np.ndarray, log_pred: np.ndarray, lead_days: np.ndarray, earlier: EarlierResiduals | None = None
) -> dict:
    """Correction, per-lead-week interval and RMSPE of uncorrected log forecasts; arrays (n,).

    The interval's quantiles are taken over this model's corrected calibration residuals pooled with
    ``earlier``: the forest's corrected residuals on the windows before the calibration window.
    """
    pred = np.exp(log_pred)
    correction = rmspe_correction(actual, pred)
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


def blend_log(log_preds: dict[str, np.ndarray], corrections: dict[str, float], weights: dict[str, float]) -> np.ndarray:
    """Weighted mean of the members' corrected log forecasts (the blend before its own correction)."""
    return sum(weights[name] * (log_preds[name] + np.log(corrections[name])) for name in weights)


def fit_blend(
    actual: np.ndarray, log_preds: dict[str, np.ndarray], corrections: dict[str, float], lead_days: np.ndarray,
    earlier: EarlierResiduals | None = None,
) -> dict:
    """Manifest entry of the RF/LSTM blend in log space, its weight chosen on the calibration rows."""
    best: tuple[float, dict[str, float]] | None = None
    scores = {}
    for w in np.round(np.arange(0.0, 1.0 + BLEND_STEP / 2, BLEND_STEP), 4):
        weights = {"rf": float(w), "lstm": round(1.0 - float(w), 4)}
        blended = np.exp(blend_log(log_preds, corrections, weights))
        score = rmspe(actual, blended * rmspe_correction(actual, blended))
        scores[f"{w:.2f}"] = score
        if best is None or score < best[0]:
            best = (score, weights)
    weights = best[1]
    entry = calibrate(actual, blend_log(log_preds, corrections, weights), lead_days, earlier)
    return {"kind": "blend", "space": "log", "members": list(weights), "weights": weights,
            "calibration_rmspe_by_rf_weight": scores, **entry}
