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
from rossmann_core.errors import ForecastRequestError, UnknownStoreError
from rossmann_core.models.forecast import Forecast, forecast_panel
from rossmann_core.models.version import ModelVersion


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
        return self.version.manifest.horizon_days

    @property
    def default_model(self) -> str:
        """The model with the lowest calibration (validation) RMSPE."""
        return self.version.best_model


def prepare(version: ModelVersion) -> Servable:
    """Learn the covariate patterns of the version's history (once per loaded version).

    The version already fits this code: its manifest was validated when it was loaded.
    """
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
    horizon_days: int = HORIZON_DAYS, model: str | None = None, overrides: CovariateOverrides | None = None,
) -> StoreForecasts:
    """Forecast ``horizon_days`` days from ``start`` (default the day after the origin) for sorted, unique ids.

    Raises UnknownStoreError, or ForecastRequestError for a model, window or override it cannot serve.
    """
    version = servable.version
    model = model or servable.default_model
    origin = servable.origin
    start = origin + DAY if start is None else np.datetime64(start, "D")
    end = start + (horizon_days - 1) * DAY
    if start <= origin:
        raise ForecastRequestError(("start",), f"must be after {origin}, the last day of the model's history")
    leads = int((end - origin) / DAY)
    last_day = origin + servable.max_lead_days * DAY
    if leads > servable.max_lead_days:
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
    # Covariates for the whole horizon, whatever the window: features look ahead (days until the next
    # closure, holiday or promo), so a window must see the same future as the full forecast it is part of.
    assumed = assume_covariates(servable.covariates, origin + DAY, last_day, subset.history.store_ids)
    horizon = apply_overrides(servable.covariates, assumed, overrides)
    panel = attach_covariates(subset.history, horizon.panel)
    forecast = forecast_panel(subset, panel, subset.history.n_days - 1, leads, model=model)
    skip = int((start - origin) / DAY) - 1
    keep = forecast.lead_days > skip
    forecast = Forecast(**{f.name: getattr(forecast, f.name)[keep] for f in fields(Forecast)})
    covariates = horizon.panel.window(start, end)
    return StoreForecasts(model=model, start=start, forecast=forecast, covariates=covariates,
                          given=horizon.given[:, skip : skip + horizon_days])
