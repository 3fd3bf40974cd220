"""Read-only store routes for the web page: store metadata, a store's recent actual sales, a set's daily total.

Everything comes from the served state (``Servable.history``, the history the forecasts start from,
and the covariate model fitted on it; federal state = the holiday calendar that best matches the
store's history). Stores without sales in that history are not forecast, so they are not listed.
"""

from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field, model_validator

from rossmann_core.data.daily_csv import STATE_HOLIDAY_LETTERS
from rossmann_core.data.panel import UNKNOWN, Panel
from rossmann_core.data.stores import ASSORTMENTS, STORE_TYPES, positions_of
from rossmann_core.errors import UnknownStoreError
from rossmann_core.serving.servable import Servable

from .routes import ERRORS, ServableDep
from .schemas import MAX_STORES, STRICT_REQUEST, StateHolidayCode, StoreId, StoreIdPath

router = APIRouter()

HISTORY_WEEKS = 12
"""Weeks of actual sales the page shows before the forecast."""
MAX_HISTORY_WEEKS = 52


class StoreInfo(BaseModel):
    store: int
    store_type: Literal["a", "b", "c", "d"]
    assortment: Literal["a", "b", "c"]
    state: str = Field(description="federal state (ISO 3166-2:DE subdivision, e.g. NW), inferred from holidays")
    calendar: str = Field(description="holiday calendar matched to the store's history, e.g. BY+catholic")


class StoresResponse(BaseModel):
    stores: list[StoreInfo] = Field(description="every store the API forecasts (sales in its history), ascending id")


class HistoryCovariates(BaseModel):
    """Recorded values per day (aligned with ``date``); null where the data has no row for the day."""

    open: list[Literal[0, 1] | None]
    promo: list[Literal[0, 1] | None]
    state_holiday: list[StateHolidayCode | None]
    school_holiday: list[Literal[0, 1] | None]


class StoreHistoryResponse(BaseModel):
    store: int
    origin: str = Field(description="last day of the history, YYYY-MM-DD; forecasts start the day after")
    date: list[str]
    sales: list[float | None] = Field(description="actual sales in euros, null where unknown")
    covariates: HistoryCovariates


class TotalHistoryRequest(BaseModel):
    model_config = STRICT_REQUEST

    stores: list[StoreId] | Literal["all"] = Field(
        description='store ids (unique), or "all"', min_length=1, max_length=MAX_STORES
    )
    weeks: int = Field(default=HISTORY_WEEKS, ge=1, le=MAX_HISTORY_WEEKS)

    @model_validator(mode="after")
    def _unique(self) -> "TotalHistoryRequest":
        if isinstance(self.stores, list) and len(set(self.stores)) != len(self.stores):
            raise ValueError("stores: each store may appear once")
        return self


class TotalHistoryResponse(BaseModel):
    """Daily totals over ``stores`` (aligned with ``date``); counts are numbers of stores."""

    stores: list[int]
    origin: str
    date: list[str]
    sales: list[float] = Field(description="sum of the known actual sales, euros")
    stores_with_sales: list[int]
    open_stores: list[int]
    promo_stores: list[int]
    state_holiday_stores: list[int]
    school_holiday_stores: list[int]


def _flags(values: np.ndarray) -> list[int | None]:
    return [None if v == UNKNOWN else int(v) for v in values.tolist()]


def _recent(servable: Servable, weeks: int, rows: np.ndarray) -> Panel:
    """The last ``weeks`` weeks of the served history for store ``rows``."""
    history = servable.history.take_stores(rows)
    last = history.dates[-1]
    return history.window(last - np.timedelta64(7 * weeks - 1, "D"), last)


def _rows_of(servable: Servable, store_ids: np.ndarray) -> np.ndarray:
    """Positions of ``store_ids`` in the served history; 404 naming the unknown ones (as the forecasts do)."""
    rows = positions_of(servable.history.store_ids, store_ids)
    if np.any(rows < 0):
        raise HTTPException(404, detail=str(UnknownStoreError([int(s) for s in store_ids[rows < 0]])))
    return rows


@router.get("/stores", response_model=StoresResponse, responses={503: ERRORS[503]})
def stores(model: ServableDep) -> StoresResponse:
    """Every store with its type, assortment and federal state (for the page's filters)."""
    table = model.stores
    calendars, states = model.covariates.calendar_of_store, model.covariates.state_of_store
    calendar_rows = positions_of(np.asarray(model.covariates.store_ids), table.store_id)
    return StoresResponse(stores=[
        StoreInfo(
            store=int(table.store_id[i]), store_type=STORE_TYPES[table.store_type[i]],
            assortment=ASSORTMENTS[table.assortment[i]], calendar=calendars[calendar_rows[i]],
            state=str(states[calendar_rows[i]]),
        )
        for i in np.flatnonzero(model.has_history).tolist()
    ])


@router.get(
    "/stores/{store_id}/history", response_model=StoreHistoryResponse, responses={404: ERRORS[404], 503: ERRORS[503]}
)
def store_history(
    store_id: StoreIdPath,
    model: ServableDep,
    weeks: Annotated[int, Query(ge=1, le=MAX_HISTORY_WEEKS, description="weeks before the origin")] = HISTORY_WEEKS,
) -> StoreHistoryResponse:
    """The store's actual sales and recorded covariates over the last ``weeks`` weeks of the served history."""
    panel = _recent(model, weeks, _rows_of(model, np.array([store_id])))
    sales = panel.sales[0]
    letters = [None if code == UNKNOWN else STATE_HOLIDAY_LETTERS[code] for code in panel.state_holiday[0].tolist()]
    return StoreHistoryResponse(
        store=store_id, origin=str(panel.dates[-1]), date=np.datetime_as_string(panel.dates).tolist(),
        sales=[None if np.isnan(v) else round(float(v), 2) for v in sales],
        covariates=HistoryCovariates(open=_flags(panel.open[0]), promo=_flags(panel.promo[0]),
                                     state_holiday=letters, school_holiday=_flags(panel.school_holiday[0])),
    )


@router.post("/history", response_model=TotalHistoryResponse, responses={k: ERRORS[k] for k in (404, 413, 415, 503)})
def total_history(request: TotalHistoryRequest, model: ServableDep) -> TotalHistoryResponse:
    """Daily total of the actual sales of several stores (or all) over the last ``weeks`` weeks."""
    if request.stores == "all":
        rows = np.flatnonzero(model.has_history)
    else:
        rows = _rows_of(model, np.sort(np.asarray(request.stores, dtype=np.int64)))
    panel = _recent(model, request.weeks, rows)

    def count(flags: np.ndarray) -> list[int]:
        return flags.sum(axis=0).astype(int).tolist()

    return TotalHistoryResponse(
        stores=panel.store_ids.astype(int).tolist(), origin=str(panel.dates[-1]),
        date=np.datetime_as_string(panel.dates).tolist(),
        sales=np.round(np.nansum(panel.sales.astype(np.float64), axis=0), 2).tolist(),
        stores_with_sales=count(~np.isnan(panel.sales)), open_stores=count(panel.open == 1),
        promo_stores=count(panel.promo == 1), state_holiday_stores=count(panel.state_holiday > 0),
        school_holiday_stores=count(panel.school_holiday == 1),
    )
