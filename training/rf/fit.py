"""The Random Forest pipeline (one-hot codes + forest), fitted on the baseline target.

The target is :data:`rossmann_core.models.tree_target.BASELINE_TARGET` (log sales minus the store x
weekday x promo baseline), the same object serving decodes the exported graph's output with.
"""

import logging
import time

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from rossmann_core.features.tabular import FEATURE_NAMES
from rossmann_core.models.tree_target import BASELINE_TARGET

from ..config import ForestSettings
from ..tree_rows import PER_ORIGIN_UNUSED

log = logging.getLogger(__name__)

CATEGORICAL_FEATURES = ("store_type", "assortment", "state_holiday")
PROGRESS_TREES = 8
"""Trees fitted between two progress lines."""


def make_pipeline(settings: ForestSettings) -> Pipeline:
    """One-hot the categorical codes, pass the rest through but the features the per-origin members are trained
    without (dropped, so the forest draws its split candidates from the features it uses), then the forest."""
    categorical = [FEATURE_NAMES.index(name) for name in CATEGORICAL_FEATURES]
    numeric = [i for i, name in enumerate(FEATURE_NAMES) if i not in categorical and name not in PER_ORIGIN_UNUSED]
    encode = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(sparse_output=False, handle_unknown="ignore"), categorical),
            ("numeric", "passthrough", numeric),
        ]
    )
    forest = RandomForestRegressor(
        n_estimators=settings.n_estimators,
        max_features=settings.max_features,
        min_samples_leaf=settings.min_samples_leaf,
        max_samples=settings.max_samples,
        max_leaf_nodes=settings.max_leaf_nodes,
        n_jobs=settings.n_jobs,
        random_state=settings.random_state,
    )
    return Pipeline([("encode", encode), ("forest", forest)])


def fit_forest(features: np.ndarray, sales: np.ndarray, settings: ForestSettings) -> Pipeline:
    """Fit on float32 features (n, n_features) and sales > 0 in euros (n,), logging progress."""
    started = time.perf_counter()
    pipeline = make_pipeline(settings)
    encoded = pipeline[0].fit_transform(features)
    target = BASELINE_TARGET.encode(features, sales)
    forest = pipeline[-1]
    forest.set_params(warm_start=True)
    log.info("fitting %d trees on %d rows x %d features", settings.n_estimators, *features.shape)
    for n_trees in range(PROGRESS_TREES, settings.n_estimators + PROGRESS_TREES, PROGRESS_TREES):
        forest.set_params(n_estimators=min(n_trees, settings.n_estimators))
        forest.fit(encoded, target)
        log.info("  %d/%d trees, %.0f s", forest.n_estimators, settings.n_estimators, time.perf_counter() - started)
    forest.set_params(warm_start=False)
    return pipeline


def predict_log_sales(pipeline: Pipeline, features: np.ndarray) -> np.ndarray:
    """log(sales) predicted by the scikit-learn pipeline, float64 (n,)."""
    return BASELINE_TARGET.decode(features, pipeline.predict(features))
