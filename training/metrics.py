"""Accuracy measures. All take sales in euros, arrays of shape (n,)."""

import numpy as np


def rmspe(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean square percentage error over rows with actual > 0 (Kaggle's rule)."""
    scored = actual > 0
    ratio = (actual[scored] - predicted[scored]) / actual[scored]
    return float(np.sqrt(np.mean(ratio**2)))


def rmspe_correction(actual: np.ndarray, predicted: np.ndarray) -> float:
    """The factor c minimising rmspe(actual, c * predicted): sum(p/a) / sum((p/a)^2)."""
    scored = actual > 0
    ratio = predicted[scored] / actual[scored]
    return float(ratio.sum() / (ratio**2).sum())


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of rows with actual > 0 whose actual lies within [lower, upper]."""
    scored = actual > 0
    inside = (actual[scored] >= lower[scored]) & (actual[scored] <= upper[scored])
    return float(inside.mean())
