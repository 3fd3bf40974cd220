"""The four endpoints: health, registry versions, forecasts for many stores, forecast for one store."""

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Iterator
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Response

from rossmann_core import HORIZON_DAYS
from rossmann_core.covariates.assume import COVARIATES, CovariateOverrides
from rossmann_core.data.daily_csv import STATE_HOLIDAY_CODES
from rossmann_core.models.registry import latest_version
from rossmann_core.serving.servable import (
    ForecastRequestError,
    Servable,
    StoreWithoutHistoryError,
    UnknownStoreError,
    forecast_stores,
)

from . import memory, model_state, paging
from .middleware import record_forecast
from .responses import forecast_document, to_json
from .schemas import (
    CovariateOverride,
    ForecastRequest,
    ForecastResponse,
    HealthResponse,
    HorizonQuery,
    MessageResponse,
    ModelInfo,
    ModelQuery,
    ModelsResponse,
    StartQuery,
    StoreIdPath,
    ValidationErrorResponse,
    VersionInfo,
)

router = APIRouter()
log = logging.getLogger("forecast_api.routes")

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": MessageResponse, "description": "unknown store, or a store with no sales in the history"},
    413: {"model": MessageResponse, "description": "request body over 1 MB"},
    415: {"model": MessageResponse, "description": "request body not declared as application/json"},
    422: {"model": ValidationErrorResponse,
          "description": "invalid input (strict types: integers, \"YYYY-MM-DD\" dates; no duplicate JSON keys): "
                         "`loc` names the field, `msg` the reason"},
    503: {"model": MessageResponse, "description": "no model can be served (settings, registry or integrity check)"},
}


def servable() -> Servable:
    """The loaded model (loaded on first use); 503 with the reason when it cannot be served."""
    try:
        return model_state.get_servable()
    except model_state.ModelUnavailableError as error:
        raise HTTPException(503, detail=f"model unavailable: {error}") from None


ServableDep = Annotated[Servable, Depends(servable)]


def unprocessable(loc: tuple[str | int, ...], reason: str) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors."""
    return HTTPException(422, detail=[{"loc": list(loc), "msg": reason, "type": "value_error"}])


@contextlib.contextmanager
def answering(source: str) -> Iterator[None]:
    """Map a request's errors to HTTP: an unknown store or one without history 404, what cannot be served 422 with
    ``source`` ("body" or "query") first in ``loc``."""
    try:
        yield
    except (UnknownStoreError, StoreWithoutHistoryError) as error:
        raise HTTPException(404, detail=str(error)) from None
    except ForecastRequestError as error:
        raise unprocessable((source, *error.loc), error.reason) from None


def to_overrides(covariates: list[CovariateOverride]) -> CovariateOverrides | None:
    """The request's covariate overrides as arrays (-1 where a value is not given)."""
    if not covariates:
        return None

    def column(name: str) -> np.ndarray:
        raw = [getattr(c, name) for c in covariates]
        if name == "state_holiday":
            raw = [None if v is None else STATE_HOLIDAY_CODES[v] for v in raw]
        return np.array([-1 if v is None else v for v in raw], dtype=np.int8)

    return CovariateOverrides(
        store=np.array([c.store for c in covariates], dtype=np.int64),
        date=np.array([c.date for c in covariates], dtype="datetime64[D]"),
        values={name: column(name) for name in COVARIATES},
    )


LARGE_REQUEST_STORES = 200
"""Requests for more stores than this are computed one at a time per process: an all-stores request holds a
few hundred MB at its peak and the allocator keeps that memory for every one computed at once; they are
CPU-bound, so running them side by side gains nothing (docs/decisions/012-api-memory-large-requests.md)."""
_large_requests = threading.Lock()


def run_forecast(
    model: Servable, store_ids: np.ndarray, start: dt.date | None, horizon_days: int, model_name: str | None,
    overrides: CovariateOverrides | None, source: str, page: paging.Page | None = None,
) -> Response:
    """Forecast and serialise ``store_ids`` (``page`` of the request's stores); maps request errors to 404 / 422
    with ``source`` ("body" or "query") in loc. Requests for more than LARGE_REQUEST_STORES stores are computed
    one at a time per process, and the memory they freed goes back to the system (:mod:`.memory`)."""
    large = len(store_ids) > LARGE_REQUEST_STORES
    with _large_requests if large else contextlib.nullcontext():
        with answering(source):
            result = forecast_stores(
                model, store_ids, None if start is None else np.datetime64(start, "D"), horizon_days, model_name,
                overrides,
            )
        body = to_json(forecast_document(model, result, page))
        if large:
            memory.release_freed()
    record_forecast(len(store_ids), len(result.forecast.store))
    return Response(body, media_type="application/json")


@router.get("/health", response_model=HealthResponse, responses={503: ERRORS[503]})
def health(model: ServableDep) -> HealthResponse:
    """Status, the loaded model version and the history forecasts start from (loads them on first call)."""
    state = model.state
    return HealthResponse(
        status="degraded" if model.degraded else "ok", model_version=model.version.name,
        models=list(model.version.models),
        default_model=model.default_model, origin=model.origin.astype(dt.date),
        model_origin=model.model_origin.astype(dt.date), history_source=state.source,
        history_run_date=None if state.run_date is None else state.run_date.astype(dt.date),
        history_note=model.note, stores_not_in_model=list(state.stores_not_in_model),
        stores_without_history=model.history.store_ids[~model.has_history].tolist(),
        data_feed=dict(state.data_feed) or None,
    )


@router.get("/models", response_model=ModelsResponse, responses={503: ERRORS[503]})
def models() -> ModelsResponse:
    """Versions in the registry with their models' validation metrics and creation time."""
    try:
        registry = model_state.settings().registry
        manifests = model_state.registry_manifests()
    except model_state.ModelUnavailableError as error:
        raise HTTPException(503, detail=f"model registry unavailable: {error}") from None
    try:
        latest = latest_version(registry)
    except Exception as error:  # the listing worked; a missing or unreadable pointer only loses the flag
        log.warning("cannot read the latest pointer of %s: %s", registry, error, extra={"event": "registry_error"})
        latest = None
    loaded = model_state.loaded_version()
    return ModelsResponse(versions=[
        VersionInfo(
            version=m.version, created_at=m.created_at, origin=m.origin,
            latest=m.version == latest, loaded=m.version == loaded,
            models=[ModelInfo(name=name, metrics=dict(entry.metrics)) for name, entry in m.models.items()],
        )
        for m in manifests
    ])


@router.post("/forecasts", response_model=ForecastResponse, responses={k: ERRORS[k] for k in (404, 413, 415, 503)})
def create_forecasts(request: ForecastRequest, model: ServableDep) -> Response:
    """Daily sales with a 90 % interval for the stores and days asked, plus the covariates used; more than
    PAGE_STORES stores are answered a page at a time (``page``, ``next_page``: forecast_api.paging)."""
    if request.stores == "all":
        store_ids = np.sort(model.stores.store_id[model.has_history].astype(np.int64))
    else:
        store_ids = np.unique(np.asarray(request.stores, dtype=np.int64))
    paged = paging.page_of(store_ids, request.page)
    if paged is None:
        pages = paging.page_of(store_ids, 1)[1].pages
        raise unprocessable(("body", "page"), f"page {request.page} does not exist: {len(store_ids)} stores fill "
                                              f"{pages} page{'s' if pages > 1 else ''} of {paging.PAGE_STORES}")
    store_ids, page = paged
    on_page = set(store_ids.tolist())
    overrides = to_overrides([c for c in request.covariates if c.store in on_page])
    return run_forecast(model, store_ids, request.start, request.horizon_days, request.model, overrides, "body", page)


@router.get(
    "/stores/{store_id}/forecast", response_model=ForecastResponse, responses={404: ERRORS[404], 503: ERRORS[503]}
)
def store_forecast(
    store_id: StoreIdPath,
    model: ServableDep,
    horizon_days: HorizonQuery = HORIZON_DAYS,
    model_name: ModelQuery = None,
    start: StartQuery = None,
) -> Response:
    """The same forecast for one store, with assumed covariates."""
    return run_forecast(model, np.array([store_id]), start, horizon_days, model_name, None, "query")
