"""Turn a panel (history up to an origin + known-future covariates) into sales forecasts.

Models by manifest entry type (:mod:`.manifest`): a tree model (the forest, the gradient boosting, the direct model)
predicts its target per row (:mod:`.tree_target`: log(sales), less the baseline feature for the per-origin trees);
the LSTM predicts all 42 days of a store at once (:mod:`.lstm_runtime`); a blend is a weighted mean of other models'
corrected log forecasts. This module applies each model's RMSPE correction and interval quantiles, and forecasts 0
for closed days.
"""

from dataclasses import dataclass

import numpy as np

from rossmann_core.data.panel import Panel
from rossmann_core.errors import ForecastRequestError
from rossmann_core.features.history import OriginStats, origin_stats
from rossmann_core.features.tabular import FeatureBuilder
from rossmann_core.models import lstm_runtime
from rossmann_core.models.manifest import BlendEntry, LstmEntry, TreeEntry
from rossmann_core.models.version import ModelVersion

FEATURES_INPUT = "features"
"""Name of the ONNX input of the forest: float32 (n_rows, n_features)."""


@dataclass(frozen=True)
class Forecast:
    """Forecast rows, arrays of shape (n,); sales, lower and upper in euros.

    ``open`` is the Open value assumed (1 open, 0 closed: forecast 0).
    """

    store: np.ndarray  # int32 store ids
    date: np.ndarray  # datetime64[D]
    open: np.ndarray  # int8
    sales: np.ndarray  # float64
    lower: np.ndarray
    upper: np.ndarray
    lead_days: np.ndarray  # int64, days after the origin


def horizon_rows(panel: Panel, origin: int, horizon: int, store_rows: np.ndarray) -> tuple[np.ndarray, ...]:
    """(store, day, origin) index arrays for every store row x day origin+1..origin+horizon."""
    days = np.arange(origin + 1, origin + horizon + 1)
    store, day = np.meshgrid(store_rows, days, indexing="ij")
    store, day = store.ravel(), day.ravel()
    return store, day, np.full(len(day), origin)


def predict_log_sales(version: ModelVersion, model: str, features: np.ndarray) -> np.ndarray:
    """log(sales) before correction of tree model ``model``, shape (n,), for an (n, n_features) float32 matrix."""
    entry = version.manifest.models[model]
    if not isinstance(entry, TreeEntry):
        raise TypeError(f"{model} is not a tree model of version {version.name}")
    output = version.sessions[model].run(None, {FEATURES_INPUT: features})[0].reshape(-1)
    return entry.target.decode(features, output)


def tree_features(
    version: ModelVersion, panel: Panel, origin: int, horizon: int, store_rows: np.ndarray, stats: OriginStats
) -> np.ndarray:
    """The tree models' float32 feature matrix (n, n_features) of the rows of :func:`horizon_rows`."""
    rows = horizon_rows(panel, origin, horizon, store_rows)
    return FeatureBuilder(panel, version.stores, {origin: stats}).build(*rows)


def corrected_log_sales(
    version: ModelVersion, model: str, panel: Panel, origin: int, horizon: int, store_rows: np.ndarray,
    stats: OriginStats | None = None, features: np.ndarray | None = None,
) -> np.ndarray:
    """Corrected log(sales) of the rows of :func:`horizon_rows` (store-major), shape (n,). ``stats``: the
    panel's :func:`~rossmann_core.features.history.origin_stats` at ``origin`` (computed here if not given),
    shared by every model of a blend; ``features``: :func:`tree_features` of those rows, built once for the
    tree models of a blend (here if not given)."""
    entry = version.manifest.models[model]
    stats = origin_stats(panel, origin) if stats is None else stats
    if isinstance(entry, BlendEntry):
        if any(isinstance(version.manifest.models[member], TreeEntry) for member in entry.weights):
            features = tree_features(version, panel, origin, horizon, store_rows, stats)
        log_sales = sum(
            weight * corrected_log_sales(version, member, panel, origin, horizon, store_rows, stats, features)
            for member, weight in entry.weights.items()
        )
    elif isinstance(entry, LstmEntry):
        if horizon > entry.horizon_days:
            raise ValueError(f"the LSTM forecasts at most {entry.horizon_days} days, asked for {horizon}")
        days = lstm_runtime.predict_log_sales(
            version.sessions[model], entry.sequence, panel, version.stores, store_rows, origin, stats
        )
        log_sales = days[:, :horizon].reshape(-1)
    else:
        if features is None:
            features = tree_features(version, panel, origin, horizon, store_rows, stats)
        log_sales = predict_log_sales(version, model, features)
    return log_sales + np.log(entry.correction)


def interval_bounds(version: ModelVersion, model: str, lead_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper log offsets per row from the manifest's per-lead-week quantiles."""
    interval = version.manifest.models[model].interval
    week = np.clip((lead_days - 1) // 7, 0, len(interval.lower_log) - 1)
    return np.asarray(interval.lower_log)[week], np.asarray(interval.upper_log)[week]


def check_model(version: ModelVersion, model: str) -> None:
    """ForecastRequestError (field ``model``) unless ``model`` is one of the version's models."""
    if model not in version.models:
        raise ForecastRequestError(("model",), f"{model!r} is not in model version {version.name}: {version.models}")


def forecast_panel(
    version: ModelVersion, panel: Panel, origin: int, horizon: int, model: str | None = None,
    store_rows: np.ndarray | None = None, stats: OriginStats | None = None,
) -> Forecast:
    """Forecast days origin+1..origin+horizon of ``panel`` for ``store_rows`` (default all).

    ``panel`` must hold the version's stores in order, sales up to ``origin`` and covariates for
    the horizon. Days with Open = 0 forecast 0; an unknown Open (-1) is forecast as open. ``stats``:
    ``origin_stats(panel, origin)`` if the caller keeps it (it reads no day after the origin). ``model``: the
    version's served default (:attr:`ModelVersion.best_model`) when None.
    """
    model = model or version.best_model
    check_model(version, model)
    if store_rows is None:
        store_rows = np.arange(len(panel.store_ids))
    store_rows = np.asarray(store_rows)
    store, day, _ = horizon_rows(panel, origin, horizon, store_rows)
    sales = np.exp(corrected_log_sales(version, model, panel, origin, horizon, store_rows, stats))
    lead_days = day - origin
    lower_log, upper_log = interval_bounds(version, model, lead_days)
    is_open = np.where(panel.open[store, day] == 0, 0, 1).astype(np.int8)
    return Forecast(
        store=panel.store_ids[store],
        date=panel.start + day.astype("timedelta64[D]"),
        open=is_open,
        sales=sales * is_open,
        lower=sales * np.exp(lower_log) * is_open,
        upper=sales * np.exp(upper_log) * is_open,
        lead_days=lead_days,
    )
