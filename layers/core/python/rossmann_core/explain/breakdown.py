"""A model's corrected log forecast of feature rows as a baseline plus one log factor per driver, exactly.

For a per-origin tree member: ``log F = b + out + log c`` with ``b`` the store x weekday x promo baseline feature,
``out`` the graph's output and ``c`` the RMSPE correction (:mod:`rossmann_core.models.forecast`). The explanation's
baseline is the store's mean log sales of the year to the origin plus the trees' expected output
(:attr:`TreePaths.bias`); ``b`` minus that mean is split into the weekday's level without promotion (calendar) and
the promotion's lift on that weekday (promotion); the trees' output minus its bias is split by feature
(:mod:`.tree_paths`) and summed per driver (:mod:`.drivers`); ``log c`` is the correction. The direct member learns
plain log sales (``log F = out + log c``), the store's level through the baseline feature among its inputs: ``b`` is
split as above, the trees' expected output (the chain's level) minus ``b`` goes to the level driver beside those
inputs' contributions, and its baseline is the store's mean alone. What the float32 graph and the float64 walk
differ by (float32 rounding, about 1e-6) stays in the baseline, so baseline times factors is the served forecast. A
blend is its members' weighted sum plus its own correction.
"""

from dataclasses import dataclass

import numpy as np

from rossmann_core.errors import ForecastRequestError
from rossmann_core.explain.drivers import DRIVERS, feature_driver_matrix
from rossmann_core.explain.tree_paths import contributions
from rossmann_core.features.history import OriginStats
from rossmann_core.features.tabular import BASELINE_INDEX, FEATURE_NAMES
from rossmann_core.models.forecast import FEATURES_INPUT
from rossmann_core.models.manifest import BlendEntry, TreeEntry
from rossmann_core.models.version import ModelVersion

MEAN_INDEX = FEATURE_NAMES.index("hist_mean_log_365")
WEEKDAY_INDEX = FEATURE_NAMES.index("day_of_week")
PROMO_INDEX = FEATURE_NAMES.index("promo")
DRIVER_MATRIX = feature_driver_matrix()


class NotExplainedError(ForecastRequestError):
    """The model's forecast has no exact explanation (the LSTM, or a version written before explanations)."""


@dataclass(frozen=True)
class Breakdown:
    """``baseline_log`` (n,) and ``driver_log`` (n, len(DRIVERS)), natural logs: their sum is the log forecast."""

    baseline_log: np.ndarray
    driver_log: np.ndarray

    @property
    def forecast_log(self) -> np.ndarray:
        return self.baseline_log + self.driver_log.sum(axis=1)


def explainable(version: ModelVersion, model: str) -> str | None:
    """Why ``model`` of ``version`` cannot be explained, or None when it can."""
    entry = version.manifest.models[model]
    if isinstance(entry, BlendEntry):
        reasons = [explainable(version, member) for member, weight in entry.weights.items() if weight > 0]
        return next((reason for reason in reasons if reason), None)
    if not isinstance(entry, TreeEntry):
        return (f"{model!r} is not explained: only the tree models (and blends of them) are split exactly into "
                "drivers; a recurrent network's output has no exact per-input decomposition here")
    if model not in version.paths:
        return f"model version {version.name} predates explanations (no node values for {model!r}); retrain"
    return None


def weekday_level(features: np.ndarray, stats: OriginStats, store: np.ndarray) -> np.ndarray:
    """Each row's store x weekday level without promotion (n,), mean log sales, as float32 like the baseline
    feature; ``store`` (n,) indexes each row's store in ``stats`` (the statistics the features were built from)."""
    weekday = features[:, WEEKDAY_INDEX].astype(np.int64)
    return stats.dow_promo_mean[store, weekday, 0].astype(np.float32).astype(np.float64)


def breakdown(version: ModelVersion, model: str, features: np.ndarray, level: np.ndarray) -> Breakdown:
    """The breakdown of ``model``'s corrected log forecast of the float32 ``features`` rows (n, n_features), whose
    :func:`weekday_level` is ``level`` (n,); rows may come from several origins. NotExplainedError if
    :func:`explainable` gives a reason."""
    reason = explainable(version, model)
    if reason:
        raise NotExplainedError(("model",), reason)
    entry = version.manifest.models[model]
    if isinstance(entry, BlendEntry):
        parts = [(weight, breakdown(version, member, features, level))
                 for member, weight in entry.weights.items() if weight > 0]
        baseline = sum(weight * part.baseline_log for weight, part in parts)
        drivers = sum(weight * part.driver_log for weight, part in parts)
    else:
        baseline, drivers = _tree_breakdown(version, model, features, level)
    drivers[:, DRIVERS.index("correction")] += np.log(entry.correction)
    return Breakdown(baseline, drivers)


def _tree_breakdown(version: ModelVersion, model: str, features: np.ndarray,
                    level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(baseline log (n,), driver logs (n, n_drivers)) of a tree member before its correction."""
    paths = version.paths[model]
    output = version.sessions[model].run(None, {FEATURES_INPUT: features})[0].reshape(-1).astype(np.float64)
    by_feature = contributions(paths, features)
    rounding = output - (paths.bias + by_feature.sum(axis=1))
    mean = features[:, MEAN_INDEX].astype(np.float64)
    with_promo = features[:, BASELINE_INDEX].astype(np.float64)
    without_promo = np.where(features[:, PROMO_INDEX] == 1, level, with_promo)
    drivers = by_feature @ DRIVER_MATRIX
    drivers[:, DRIVERS.index("calendar")] += without_promo - mean
    drivers[:, DRIVERS.index("promotion")] += with_promo - without_promo
    if version.manifest.models[model].target.baseline_index is None:
        drivers[:, DRIVERS.index("level")] += paths.bias - with_promo
        return mean + rounding, drivers
    return mean + paths.bias + rounding, drivers
