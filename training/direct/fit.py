"""Fit the direct member: LightGBM on plain log sales (:data:`rossmann_core.models.tree_target.LOG_TARGET`)."""

import logging
import time

import lightgbm
import numpy as np

from rossmann_core.models.tree_target import LOG_TARGET

from ..config import DirectSettings

log = logging.getLogger(__name__)


def fit_direct(features: np.ndarray, sales: np.ndarray, settings: DirectSettings) -> lightgbm.Booster:
    """Fit on float32 features (n, n_features) and sales > 0 in euros (n,); every column is numeric (the store's
    number an ordinal: as a LightGBM category, its splits list stores one ONNX node each)."""
    started = time.perf_counter()
    log.info("fitting %d LightGBM rounds on %d rows x %d features", settings.num_boost_round, *features.shape)
    data = lightgbm.Dataset(features, LOG_TARGET.encode(features, sales), categorical_feature=[],
                            params={"max_bin": settings.max_bin, "verbose": -1})
    booster = lightgbm.train(settings.params(), data, num_boost_round=settings.num_boost_round)
    log.info("  direct model fitted in %.0f s", time.perf_counter() - started)
    return booster
