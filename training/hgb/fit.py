"""Fit the gradient-boosted member on the forest's target (log sales minus the baseline feature)."""

import logging
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from rossmann_core.models.tree_target import BASELINE_TARGET

from ..config import BoostingSettings

log = logging.getLogger(__name__)


def make_boosting(settings: BoostingSettings) -> HistGradientBoostingRegressor:
    """The regressor with ``settings``; categorical codes stay ordinal (trees split them like any number)."""
    return HistGradientBoostingRegressor(
        max_iter=settings.max_iter,
        learning_rate=settings.learning_rate,
        max_leaf_nodes=settings.max_leaf_nodes,
        min_samples_leaf=settings.min_samples_leaf,
        l2_regularization=settings.l2_regularization,
        early_stopping=False,
        random_state=settings.random_state,
    )


def fit_boosting(features: np.ndarray, sales: np.ndarray, settings: BoostingSettings) -> HistGradientBoostingRegressor:
    """Fit on float32 features (n, n_features) and sales > 0 in euros (n,)."""
    started = time.perf_counter()
    log.info("fitting %d boosting iterations on %d rows x %d features", settings.max_iter, *features.shape)
    model = make_boosting(settings).fit(features, BASELINE_TARGET.encode(features, sales))
    log.info("  boosting fitted in %.0f s", time.perf_counter() - started)
    return model
