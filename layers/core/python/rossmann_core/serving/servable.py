"""Forecast assembly for the handlers: chosen stores and days, assumed or given covariates, one model.

A :class:`Servable` is a verified model version, the history it forecasts from (the version's own
stored state, or a newer one published by the nightly batch: :mod:`.history_state`) and the
covariate patterns learned from that history; it is immutable, so a request that takes one never
sees another state. :func:`forecast_stores` answers one request; it works on the requested stores
only (every feature is per store), so one store costs far less than all of them.
"""

import threading
from dataclasses import dataclass, fields, replace
from functools import cached_property

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.covariates.assume import (
    CovariateModel,
    CovariateOverrides,
    HorizonCovariates,
    apply_overrides,
    assume_covariates,
    fit_covariates,
)
from rossmann_core.data.dates import DAY
from rossmann_core.data.panel import Panel, attach_covariates
from rossmann_core.data.stores import StoreTable
from rossmann_core.errors import ForecastRequestError, RequestError, UnknownStoreError
from rossmann_core.features.history import FEATURE_HISTORY_DAYS, OriginStats, has_recent_sales, origin_stats
from rossmann_core.models.forecast import Forecast, check_model, forecast_panel
from rossmann_core.models.version import ModelVersion
from rossmann_core.serving.history_state import HistoryState, model_state


class StoreWithoutHistoryError(RequestError):
    """Store ids of the model whose served history holds no sales (not forecast, as in the nightly batch)."""

    def __init__(self, store_ids: list[int], origin: np.datetime64, n_days: int) -> None:
        ids = ", ".join(map(str, store_ids))
        plural = "s" if len(store_ids) > 1 else ""
        super().__init__(f"store{plural} {ids}: no sales in the {n_days} days of history up to {origin}")
        self.store_ids = store_ids


_EVERY_STORE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Servable:
    """A loaded model version, the history state it forecasts from and that history's covariate patterns.

    ``note`` says why a newer published state is not served (refused, unreadable, older than the model),
    None when the newest usable state serves; ``degraded`` is True when a published state was refused or could
    not be read, so what serves is older than what the batch published.
    """

    version: ModelVersion
    state: HistoryState
    covariates: CovariateModel
    note: str | None = None
    degraded: bool = False

    @property
    def history(self) -> Panel:
        """The panel forecasts start from, the version's stores in its order: (n_stores, n_days)."""
        return self.state.history

    @property
    def stores(self) -> StoreTable:
        """Store metadata matching ``history`` row for row."""
        return self.state.stores

    @property
    def origin(self) -> np.datetime64:
        """Last history day; forecasts start the day after."""
        return self.state.origin

    @property
    def model_origin(self) -> np.datetime64:
        """Last day of the version's own stored state (its training cutoff)."""
        return self.version.history.dates[-1]

    @cached_property
    def has_history(self) -> np.ndarray:
        """bool (n_stores,): :func:`~rossmann_core.features.history.has_recent_sales` of ``history``; the others are
        not forecast."""
        return has_recent_sales(self.history)

    @cached_property
    def origin_stats(self) -> OriginStats:
        """Every store's sales statistics at the origin (the features' and the LSTM's), computed once instead of
        per request (it costs more than a one-store forecast); a request takes its stores' rows."""
        return origin_stats(self.history, self.history.n_days - 1)

    @cached_property
    def assumed(self) -> Panel:
        """Every store's assumed covariates of the days origin+1..origin+max_lead_days, computed once; each
        store's values depend on its own history and the chain-wide patterns only, so a request takes its rows."""
        return assume_covariates(self.covariates, self.origin + DAY, self.origin + self.max_lead_days * DAY)

    @cached_property
    def _every_store(self) -> dict[str, "StoreForecasts"]:
        return {}

    def every_store(self, model: str) -> "StoreForecasts":
        """Every store with history, every day of the horizon, assumed covariates, with ``model``: computed once per
        model for this history (the totals of any group are cut from it), under a lock so that concurrent first
        requests compute it once."""
        with _EVERY_STORE_LOCK:
            if model not in self._every_store:
                ids = self.stores.store_id[self.has_history].astype(np.int64)
                self._every_store[model] = forecast_stores(self, ids, None, self.max_lead_days, model)
            return self._every_store[model]

    def warm(self) -> None:
        """Compute :attr:`origin_stats`, :attr:`assumed`, every model's session and node values, and the default
        model's forecast of every store (what ``POST /totals`` cuts from) now, not in a request
        (docs/decisions/020-snapstart.md)."""
        for name in ("origin_stats", "assumed"):
            getattr(self, name)
        for built_on_first_use in (self.version.sessions, self.version.paths):
            for model in built_on_first_use:
                built_on_first_use[model]
        self.every_store(self.default_model)

    @property
    def max_lead_days(self) -> int:
        return self.version.manifest.horizon_days

    @property
    def default_model(self) -> str:
        """The model with the lowest calibration (validation) RMSPE."""
        return self.version.best_model


def prepare(version: ModelVersion, state: HistoryState | None = None) -> Servable:
    """Learn the covariate patterns of ``state`` (default the version's own), once per version and state.

    The version already fits this code (its manifest was validated when it was loaded), and a
    published state was checked against it (:func:`~rossmann_core.serving.history_state.check_fits`).
    """
    state = model_state(version) if state is None else state
    return Servable(version=version, state=state, covariates=fit_covariates(state.history))


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


def forecast_days(
    servable: Servable, start: np.datetime64 | None, horizon_days: int
) -> tuple[np.datetime64, np.datetime64]:
    """First and last forecast day of a request (``start`` default: the day after the origin); raises
    ForecastRequestError (field ``start``) unless they lie within the days the servable forecasts."""
    origin = servable.origin
    start = origin + DAY if start is None else np.datetime64(start, "D")
    end = start + (horizon_days - 1) * DAY
    if start <= origin:
        raise ForecastRequestError(("start",), f"must be after {origin}, the last day of the history")
    leads = int((end - origin) / DAY)
    if leads > servable.max_lead_days:
        raise ForecastRequestError(("start",), (
            f"the forecast would end on {end}, {leads} days after {origin}, the last day of the history; "
            f"it forecasts at most {servable.max_lead_days} days ahead (up to {origin + servable.max_lead_days * DAY})"
        ))
    return start, end


@dataclass(frozen=True)
class RequestInputs:
    """What a request for some stores and days is computed from: the version restricted to those stores
    (``version``, its history the served one), the panel of history and horizon covariates (``panel``),
    statistics at the origin (``stats``), the covariates with the caller's overrides (``horizon``), the first and
    last day asked (``start``, ``end``), the days from the origin to ``end`` (``leads``: a request is computed
    from the day after the origin) and how many of them precede ``start`` (``skip``)."""

    model: str
    version: ModelVersion
    panel: Panel
    stats: OriginStats
    horizon: HorizonCovariates
    start: np.datetime64
    end: np.datetime64
    leads: int
    skip: int

    @property
    def origin(self) -> int:
        """Panel index of the origin."""
        return self.version.history.n_days - 1


def request_inputs(
    servable: Servable, store_ids: np.ndarray, start: np.datetime64 | None = None,
    horizon_days: int = HORIZON_DAYS, model: str | None = None, overrides: CovariateOverrides | None = None,
) -> RequestInputs:
    """The inputs of a request for sorted, unique ``store_ids`` (see :func:`forecast_stores`).

    Raises UnknownStoreError, StoreWithoutHistoryError, or ForecastRequestError for a window or override it
    cannot serve.
    """
    version = servable.version
    model = model or servable.default_model
    check_model(version, model)
    origin = servable.origin
    start, end = forecast_days(servable, start, horizon_days)
    leads = int((end - origin) / DAY)
    store_ids = np.asarray(store_ids, dtype=np.int64)
    rows = servable.stores.index_of(store_ids)
    if np.any(rows < 0):
        raise UnknownStoreError([int(s) for s in store_ids[rows < 0]])
    if not servable.has_history[rows].all():
        empty = store_ids[~servable.has_history[rows]]
        raise StoreWithoutHistoryError([int(s) for s in empty], origin, FEATURE_HISTORY_DAYS)
    served = replace(version, history=servable.history, stores=servable.stores)
    every_store = len(rows) == len(servable.stores.store_id)
    subset = served if every_store else take_stores(served, rows)
    stats = servable.origin_stats if every_store else servable.origin_stats.take(rows)
    if overrides is not None:
        _check_overrides(overrides, store_ids, origin + DAY, end)
    # Covariates for the whole horizon, whatever the window: features look ahead (days until the next
    # closure, holiday or promo), so a window must see the same future as the full forecast it is part of.
    assumed = servable.assumed if every_store else servable.assumed.take_stores(rows)
    horizon = apply_overrides(servable.covariates, assumed, overrides)
    panel = attach_covariates(subset.history, horizon.panel)
    return RequestInputs(model, subset, panel, stats, horizon, start, end, leads, int((start - origin) / DAY) - 1)


def forecast_stores(
    servable: Servable, store_ids: np.ndarray, start: np.datetime64 | None = None,
    horizon_days: int = HORIZON_DAYS, model: str | None = None, overrides: CovariateOverrides | None = None,
) -> StoreForecasts:
    """Forecast ``horizon_days`` days from ``start`` (default the day after the origin) for sorted, unique ids.

    Raises UnknownStoreError, or ForecastRequestError for a model, window or override it cannot serve.
    """
    inputs = request_inputs(servable, store_ids, start, horizon_days, model, overrides)
    forecast = forecast_panel(inputs.version, inputs.panel, inputs.origin, inputs.leads, model=inputs.model,
                              stats=inputs.stats)
    keep = forecast.lead_days > inputs.skip
    forecast = Forecast(**{f.name: getattr(forecast, f.name)[keep] for f in fields(Forecast)})
    covariates = inputs.horizon.panel.window(inputs.start, inputs.end)
    return StoreForecasts(model=inputs.model, start=inputs.start, forecast=forecast, covariates=covariates,
                          given=inputs.horizon.given[:, inputs.skip : inputs.skip + horizon_days])
