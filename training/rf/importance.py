"""Feature importance of the forest: impurity (from training) and permutation (on calibration)."""

import logging

import numpy as np
from sklearn.pipeline import Pipeline

from rossmann_core.features.tabular import FEATURE_NAMES

from ..metrics import rmspe
from .fit import predict_log_sales

log = logging.getLogger(__name__)

PERMUTATION_ROWS = 20_000


def impurity_importance(pipeline: Pipeline) -> dict[str, float]:
    """Mean decrease in impurity per input feature (one-hot columns summed back), sums to 1."""
    encoded_names = pipeline[0].get_feature_names_out()
    totals = dict.fromkeys(FEATURE_NAMES, 0.0)
    for encoded, value in zip(encoded_names, pipeline[-1].feature_importances_):
        column = encoded.split("__", 1)[1]
        totals[FEATURE_NAMES[int(column.split("_")[0][1:])]] += float(value)
    return totals


def permutation_importance(
    pipeline: Pipeline, features: np.ndarray, sales: np.ndarray, correction: float, seed: int = 0
) -> dict[str, float]:
    """RMSPE increase when one feature's column is shuffled, on up to PERMUTATION_ROWS rows."""
    rng = np.random.default_rng(seed)
    rows = rng.permutation(len(sales))[:PERMUTATION_ROWS]
    x, y = features[rows], sales[rows]
    base = rmspe(y, np.exp(predict_log_sales(pipeline, x)) * correction)
    scores = {}
    for i, name in enumerate(FEATURE_NAMES):
        shuffled = x.copy()
        shuffled[:, i] = rng.permutation(shuffled[:, i])
        scores[name] = rmspe(y, np.exp(predict_log_sales(pipeline, shuffled)) * correction) - base
    return scores


def report(pipeline: Pipeline, features: np.ndarray, sales: np.ndarray, correction: float) -> dict:
    """Both importances, features sorted by permutation importance (largest first)."""
    permutation = permutation_importance(pipeline, features, sales, correction)
    impurity = impurity_importance(pipeline)
    order = sorted(FEATURE_NAMES, key=lambda name: -permutation[name])
    log.info("top features by permutation importance: %s", ", ".join(f"{n} {permutation[n]:.4f}" for n in order[:8]))
    return {
        "permutation_rmspe_increase": {name: round(permutation[name], 6) for name in order},
        "impurity": {name: round(impurity[name], 6) for name in order},
    }
