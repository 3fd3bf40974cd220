"""Accuracy measures. All take sales in euros, arrays of shape (n,)."""

import numpy as np


def squared_percentage_errors(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """((actual - predicted) / actual) ** 2 of the rows with actual > 0, shape (rows scored,)."""
    scored = actual > 0
    return ((actual[scored] - predicted[scored]) / actual[scored]) ** 2


def rmspe(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Root mean square percentage error over rows with actual > 0 (Kaggle's rule)."""
    return float(np.sqrt(np.mean(squared_percentage_errors(actual, predicted))))


def rmspe_without_worst_row(actual: np.ndarray, predicted: np.ndarray) -> float:
    """RMSPE over rows with actual > 0 less the one with the largest squared percentage error.

    A diagnostic beside Kaggle's figure, not a replacement: a single store-day sold far below its forecast (46 €
    against ~4,800 € on 2014-11-22) can hold 90 % of a window's squared error and hide what the models do on
    the other ~30,000 days.
    """
    squares = squared_percentage_errors(actual, predicted)
    if squares.size < 2:
        raise ValueError("rmspe_without_worst_row needs at least two rows with actual > 0")
    return float(np.sqrt((squares.sum() - squares.max()) / (squares.size - 1)))


def rmspe_correction(actual: np.ndarray, predicted: np.ndarray, trim: float = 0.0) -> float:
    """The factor c minimising rmspe(actual, c * predicted), sum(p/a) / sum((p/a)^2), over the rows with actual > 0
    less the ``trim`` share of them (rounded down) with the largest squared percentage errors.

    The optimum weighs a row by (p/a)^2: untrimmed, one store-day that sold a fraction of its forecast sets it (46 EUR
    against ~4,800 EUR on 2014-11-22 made a whole version's factor 0.71; docs/decisions/018-correction-from-
    calibration-window.md).
    """
    scored = actual > 0
    ratio = predicted[scored] / actual[scored]
    left_out = int(trim * ratio.size)
    if left_out:
        ratio = ratio[np.argsort((ratio - 1) ** 2, kind="stable")[: ratio.size - left_out]]
    return float(ratio.sum() / (ratio**2).sum())


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of rows with actual > 0 whose actual lies within [lower, upper]."""
    scored = actual > 0
    inside = (actual[scored] >= lower[scored]) & (actual[scored] <= upper[scored])
    return float(inside.mean())
