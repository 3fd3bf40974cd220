"""Forecast assembly for the handlers: chosen stores and days, assumed or given covariates, one model.

A :class:`Servable` is a verified model version plus the covariate patterns learned from its
history, built once per container. :func:`forecast_stores` answers one request; it works on the
requested stores only (every feature is per store), so one store costs far less than all of them.
"""

from dataclasses import dataclass, fields, replace

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.covariates.assume import (
    CovariateModel,
    CovariateOverrides,
    apply_overrides,
    assume_covariates,
    fit_covariates,
)
from rossmann_core.data.dates import DAY
from rossmann_core.data.panel import Panel, attach_covariates
from rossmann_core.features.tabular import FEATURE_NAMES
from rossmann_core.models.forecast import Forecast, forecast_panel
from rossmann_core.models.version import ModelVersion

DEFAULT_HORIZON_DAYS = HORIZON_DAYS


class ForecastRequestError(ValueError):
    """A request this model version cannot answer; ``loc`` names the input at fault, e.g. ("covariates", 3, "date")."""

    def __init__(self, loc: tuple[str | int, ...], reason: str) -> None:
        super().__init__(f"{'.'.join(map(str, loc))}: {reason}")
        self.loc = loc
        self.reason = reason


class UnknownStoreError(LookupError):
    """Store ids the model version has no history for."""

    def __init__(self, store_ids: list[int]) -> None:
        super().__init__(f"unknown store{'s' if len(store_ids) > 1 else ''}: {', '.join(map(str, store_ids))}")
        self.store_ids = store_ids


@dataclass(frozen=True)
class Servable:
    """A loaded model version and the covariate patterns of its history."""

    version: ModelVersion
    covariates: CovariateModel

    @property
    def origin(self) -> np.datetime64:
        """Last history day; forecasts start the day after."""
        return self.version.history.dates[-1]

    @property
    def max_lead_days(self) -> int:
        return int(self.version.manifest.get("horizon_days", DEFAULT_HORIZON_DAYS))

    @property
    def default_model(self) -> str:
        """The model with the lowest calibration (validation) RMSPE."""
        return self.version.best_model


class IncompatibleModelError(RuntimeError):
    """The version was trained on other features than this code builds."""


def prepare(version: ModelVersion) -> Servable:
    """Check the version fits this code and learn its covariate patterns (once per loaded version)."""
    names = version.manifest.get("feature_names")
    if names is not None and tuple(names) != FEATURE_NAMES:
        changed = sorted(set(names) ^ set(FEATURE_NAMES)) or ["their order"]
        raise IncompatibleModelError(
            f"model version {version.version} was trained on other features than this code builds "
            f"(differences: {', '.join(changed[:5])}); retrain or pin a compatible MODEL_VERSION"
        )
    return Servable(version=version, covariates=fit_covariates(version.history))


@dataclass(frozen=True)
class StoreForecasts:
    """Forecast rows (store-major, days ascending) of ``n_stores`` x ``n_days`` from ``start``.

    ``covariates`` holds the values used for those days; ``given`` bool (n_stores, n_days, 4) marks
    the ones the caller gave (order of :data:`rossmann_core.covariates.assume.COVARIATES`).
    """

    model: str
    start: np.datetime64
    forecast: Forecast
    covariates: Panel
    given: np.ndarray


def take_stores(version: ModelVersion, rows: np.ndarray) -> ModelVersion:
    """The version restricted to store ``rows`` (sessions shared, arrays copied)."""
    return replace(version, history=version.history.take_stores(rows), stores=version.stores.take(rows))


def _check_overrides(
    overrides: CovariateOverrides, store_ids: np.ndarray, first: np.datetime64, last: np.datetime64
) -> None:
    """Raise ForecastRequestError for the first override outside the stores or days ``first``..``last``."""
    dates = np.asarray(overrides.date, dtype="datetime64[D]")
    outside_days = np.flatnonzero((dates < first) | (dates > last))
    if outside_days.size:
        i = int(outside_days[0])
        reason = f"{dates[i]} is outside the forecast days {first}..{last}"
        raise ForecastRequestError(("covariates", i, "date"), reason)
    outside_stores = np.flatnonzero(~np.isin(overrides.store, store_ids))
    if outside_stores.size:
        i = int(outside_stores[0])
        raise ForecastRequestError(("covariates", i, "store"), f"store {overrides.store[i]} is not being forecast")


def forecast_stores(
    servable: Servable, store_ids: np.ndarray, start: np.datetime64 | None = None,
    horizon_days: int = DEFAULT_HORIZON_DAYS, model: str | None = None, overrides: CovariateOverrides | None = None,
) -> StoreForecasts:
    """Forecast ``horizon_days`` days from ``start`` (default the day after the origin) for sorted, unique ids.

    Raises UnknownStoreError, or ForecastRequestError for a model, window or override it cannot serve.
    """
    version = servable.version
    model = model or servable.default_model
    if model not in version.models:
        raise ForecastRequestError(("model",), f"{model!r} is not in model version {version.version}: {version.models}")
    origin = servable.origin
    start = origin + DAY if start is None else np.datetime64(start, "D")
    end = start + (horizon_days - 1) * DAY
    if start <= origin:
        raise ForecastRequestError(("start",), f"must be after {origin}, the last day of the model's history")
    leads = int((end - origin) / DAY)
    if leads > servable.max_lead_days:
        last_day = origin + servable.max_lead_days * DAY
        raise ForecastRequestError(("start",), (
            f"the forecast would end on {end}, {leads} days after {origin}, the last day of the model's history; "
            f"it forecasts at most {servable.max_lead_days} days ahead (up to {last_day})"
        ))
    store_ids = np.asarray(store_ids, dtype=np.int64)
    rows = version.stores.index_of(store_ids)
    if np.any(rows < 0):
        raise UnknownStoreError([int(s) for s in store_ids[rows < 0]])
    subset = version if len(rows) == len(version.stores.store_id) else take_stores(version, rows)
    if overrides is not None:
        _check_overrides(overrides, store_ids, origin + DAY, end)
    assumed = assume_covariates(servable.covariates, origin + DAY, end, subset.history.store_ids)
    horizon = apply_overrides(servable.covariates, assumed, overrides)
    panel = attach_covariates(subset.history, horizon.panel)
    forecast = forecast_panel(subset, panel, subset.history.n_days - 1, leads, model=model)
    skip = int((start - origin) / DAY) - 1
    keep = forecast.lead_days > skip
    forecast = Forecast(**{f.name: getattr(forecast, f.name)[keep] for f in fields(Forecast)})
    covariates = horizon.panel.window(start, end)
    return StoreForecasts(model=model, start=start, forecast=forecast, covariates=covariates,
                          given=horizon.given[:, skip:])
