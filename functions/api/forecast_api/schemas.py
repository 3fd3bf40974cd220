"""Request and response bodies of the forecast API (they generate its OpenAPI schema).

Request bodies are validated strictly: a number must be a JSON integer (not ``"7"``, ``7.0`` or
``true``), a date a ``"YYYY-MM-DD"`` string (not an epoch number). Duplicate keys and non-JSON
content types are refused before validation (:mod:`.middleware`).
"""

import datetime as dt
import re
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_validator
from pydantic_core import PydanticCustomError

from rossmann_core import HORIZON_DAYS

from .paging import MAX_PAGE, PAGE_STORES

MAX_STORES = 2_000
MAX_OVERRIDES = 50_000
MAX_STORE_ID = 1_000_000
MODEL_NAME_PATTERN = r"^[a-z][a-z0-9_]*$"

StoreId = Annotated[int, Field(ge=1, le=MAX_STORE_ID, description="Rossmann store id, e.g. 1..1115")]
StoreIdPath = Annotated[int, Path(ge=1, le=MAX_STORE_ID, description="Rossmann store id")]
"""The ``{store_id}`` of a store's route."""
HorizonQuery = Annotated[int, Query(ge=1, le=HORIZON_DAYS, description="days, 1..42")]
ModelQuery = Annotated[str | None, Query(alias="model", max_length=40, pattern=MODEL_NAME_PATTERN)]
StartQuery = Annotated[dt.date | None, Query(description="first day; default the day after the history")]
"""The query of a store's GET route: how many days, which model, from which day."""
HorizonDays = Annotated[int, Field(ge=1, le=HORIZON_DAYS, description="days to forecast, 1..42")]
ModelName = Annotated[
    str,
    Field(
        min_length=1, max_length=40, pattern=MODEL_NAME_PATTERN,
        description="a model of the loaded version (GET /health lists them); default: best validation RMSPE",
    ),
]
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day_text(value: Any) -> Any:
    """Only a ``"YYYY-MM-DD"`` string may become a date (pydantic would also take numbers and other forms)."""
    if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
        raise PydanticCustomError("date_type", 'Input should be a valid date, as a "YYYY-MM-DD" string')
    return value


def _integer_flag(value: Any) -> Any:
    """Only the JSON integers 0 and 1 are flags: a Literal[0, 1] would take ``true`` and ``1.0`` even in
    strict mode."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("int_type", "Input should be the integer 0 or 1")
    return value


Flag = Annotated[Literal[0, 1], BeforeValidator(_integer_flag)]
IsoDate = Annotated[dt.date, Strict(False), BeforeValidator(_iso_day_text)]
"""A request date: parsed from its JSON string, the only form accepted (the request models are strict)."""
STRICT_REQUEST = ConfigDict(extra="forbid", strict=True)
StateHolidayCode = Literal["0", "a", "b", "c"]
"""Kaggle's StateHoliday letters (``rossmann_core.data.daily_csv.STATE_HOLIDAY_LETTERS``, checked by a test)."""


class CovariateOverride(BaseModel):
    """Known-future values of one store and day; a field left out is assumed from history."""

    model_config = STRICT_REQUEST

    store: StoreId
    date: IsoDate
    open: Flag | None = None
    promo: Flag | None = None
    state_holiday: StateHolidayCode | None = None
    school_holiday: Flag | None = None


class ForecastRequest(BaseModel):
    """Which stores and days to forecast, with which model and covariates."""

    model_config = ConfigDict(
        **STRICT_REQUEST,
        json_schema_extra={"examples": [{"stores": [1, 2], "horizon_days": 42,
                                         "covariates": [{"store": 1, "date": "2015-06-22", "promo": 0}]}]},
    )

    stores: list[StoreId] | Literal["all"] = Field(
        description='store ids (unique), or "all" (every store with sales in the history)', min_length=1,
        max_length=MAX_STORES,
    )
    start: IsoDate | None = Field(default=None, description="first day; default the day after the history (origin)")
    horizon_days: HorizonDays = HORIZON_DAYS
    model: ModelName | None = None
    covariates: list[CovariateOverride] = Field(
        default_factory=list, max_length=MAX_OVERRIDES,
        description="values that replace the assumed ones (unique store and date, stores among those requested)",
    )
    page: int = Field(
        default=1, ge=1, le=MAX_PAGE,
        description=f"which page of the answer: {PAGE_STORES} stores per page in ascending id order; the answer's "
                    "next_page says whether there is another",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "ForecastRequest":
        if isinstance(self.stores, list) and len(set(self.stores)) != len(self.stores):
            raise ValueError("stores: each store may appear once")
        pairs = {(c.store, c.date) for c in self.covariates}
        if len(pairs) != len(self.covariates):
            raise ValueError("covariates: each store and date may appear once")
        if isinstance(self.stores, list):
            outside = sorted({c.store for c in self.covariates} - set(self.stores))
            if outside:
                raise ValueError(f"covariates: store {outside[0]} is not among the requested stores")
        return self


class Covariates(BaseModel):
    """Known-future values used per day (aligned with ``date``)."""

    open: list[Literal[0, 1]]
    promo: list[Literal[0, 1]]
    state_holiday: list[StateHolidayCode]
    school_holiday: list[Literal[0, 1]]


class Assumed(BaseModel):
    """Per covariate and day, true where the value was assumed from history, false where given."""

    open: list[bool]
    promo: list[bool]
    state_holiday: list[bool]
    school_holiday: list[bool]


class StoreForecast(BaseModel):
    """One store's forecast; every list is aligned with ``date``. Sales in euros, 0 on closed days."""

    store: int
    date: list[dt.date]
    sales: list[float]
    lower: list[float] = Field(description="lower end of the prediction interval")
    upper: list[float] = Field(description="upper end of the prediction interval")
    covariates: Covariates
    assumed: Assumed


HistorySource = Literal["model_state", "nightly_batch"]


class ForecastResponse(BaseModel):
    model: str
    model_version: str
    origin: dt.date = Field(description="last day of the history forecast from (the data's, or the model's)")
    history_source: HistorySource = Field(
        description="the history: the model version's own state, or the one the nightly batch published"
    )
    history_run_date: dt.date | None = Field(description="the nightly run that published it (null: the model's)")
    start: dt.date
    horizon_days: int
    interval_level: float = Field(description="nominal coverage of [lower, upper], e.g. 0.9")
    page: int = Field(description="this answer's page of the requested stores, 1..pages")
    pages: int = Field(description=f"pages the requested stores fill, {PAGE_STORES} stores each")
    page_stores: int = Field(description="stores per page (the last page may hold fewer)")
    stores_requested: int = Field(description="stores the request asked for, over all pages")
    next_page: int | None = Field(description="ask again with this page for the next stores; null on the last page")
    stores: list[StoreForecast]


class DataFeed(BaseModel):
    """How complete the data of the nightly run being served was (``nightly_batch.completeness``)."""

    newest_day: dt.date = Field(description="the newest day of the data file")
    origin: dt.date = Field(description="the day the run forecast from: the newest day unless it was too incomplete")
    fell_back: bool = Field(description="true when the newest day lacked too many stores and was not used")
    stores_missing_newest_day: int = Field(description="stores open a week earlier without a row on the newest day")
    expected_newest_day: int
    stores_missing_newest_day_ids: list[int] = Field(description="their ids (at most 50)")
    days_without_rows: list[dt.date] = Field(description="days of the history window without any row")
    history_days: int = Field(description="days of the history window holding rows")
    history_days_needed: int


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="degraded: a published history state was refused or "
                                                          "unreadable, so an older one serves (history_note says why)")
    model_version: str
    models: list[str]
    default_model: str
    origin: dt.date = Field(description="last day of the history forecasts start from")
    model_origin: dt.date = Field(description="last day of the model version's own state (its training cutoff)")
    history_source: HistorySource
    history_run_date: dt.date | None = Field(description="the nightly run that published it (null: the model's)")
    history_note: str | None = Field(description="why a newer published history is not served, if it is not")
    stores_not_in_model: list[int] = Field(description="stores of the newest data the model was not trained on")
    stores_without_history: list[int] = Field(description="model stores with no sales in the history: not forecast")
    data_feed: DataFeed | None = Field(default=None, description="completeness of the served night's data (null: "
                                                                  "the model's own state, or a run before it was "
                                                                  "measured)")


class ModelInfo(BaseModel):
    name: str
    metrics: dict[str, float] = Field(description="validation figures from the manifest, e.g. calibration_rmspe")


class VersionInfo(BaseModel):
    version: str
    created_at: str | None
    origin: dt.date | None
    latest: bool
    loaded: bool
    models: list[ModelInfo]


class ModelsResponse(BaseModel):
    versions: list[VersionInfo] = Field(description="versions in the registry, oldest first")


class ErrorDetail(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorResponse(BaseModel):
    detail: list[ErrorDetail]


class MessageResponse(BaseModel):
    detail: str


GroupBy = Literal["chain", "state", "store_type", "assortment", "store", "stores"]
"""``rossmann_core.totals.groups.GROUP_KINDS`` (checked by a test)."""
PeriodKind = Literal["day", "week", "month", "window"]
"""``rossmann_core.totals.groups.PERIOD_KINDS`` (checked by a test)."""


class TotalsRequest(BaseModel):
    """Which totals: groups of stores, periods of the forecast days, model and covariates as for /forecasts."""

    model_config = ConfigDict(
        **STRICT_REQUEST,
        json_schema_extra={"examples": [{"group_by": "state", "period": "week"},
                                        {"group_by": "stores", "stores": [1, 2, 3], "period": "window"}]},
    )

    group_by: GroupBy = Field(description="chain, state (federal), store_type, assortment, store (each its own "
                                          "group) or stores (the list in `stores`, one group)")
    stores: list[StoreId] | None = Field(default=None, min_length=1, max_length=MAX_STORES,
                                         description="the one group's stores (unique), with group_by stores only")
    period: PeriodKind = Field(default="week", description="day, ISO week, calendar month (the part inside the "
                                                            "forecast days) or the whole window")
    start: IsoDate | None = Field(default=None, description="first day; default the day after the history (origin)")
    horizon_days: HorizonDays = HORIZON_DAYS
    model: ModelName | None = None
    covariates: list[CovariateOverride] = Field(
        default_factory=list, max_length=MAX_OVERRIDES,
        description="values that replace the assumed ones (unique store and date)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "TotalsRequest":
        if (self.group_by == "stores") != (self.stores is not None):
            raise ValueError("stores: give the list with group_by 'stores', and only then")
        if self.stores is not None and len(set(self.stores)) != len(self.stores):
            raise ValueError("stores: each store may appear once")
        if self.group_by == "store" and self.period == "day":
            raise ValueError("period: each store per day is what POST /forecasts answers; use week, month or window")
        if len({(c.store, c.date) for c in self.covariates}) != len(self.covariates):
            raise ValueError("covariates: each store and date may appear once")
        return self


class Total(BaseModel):
    """One group over one period, in euros."""

    group: str = Field(description="chain, a state code, a store type or assortment letter, a store id, or stores")
    period: str = Field(description="2015-06-22, 2015-W26, 2015-06 or first..last")
    first_day: dt.date
    last_day: dt.date
    stores: int = Field(description="stores in the group")
    open_store_days: int = Field(description="store-days forecast open")
    sales: float = Field(description="the sum of the store-day forecasts")
    lower: float | None = Field(description="lower end of the band (null: the version has no totals pool)")
    upper: float | None
    last_year_sales: float | None = Field(description="actual sales of the same days 52 weeks earlier (same "
                                                      "weekdays); null where the history does not reach")


class TotalsResponse(BaseModel):
    model: str
    model_version: str
    origin: dt.date
    group_by: GroupBy
    period: PeriodKind
    start: dt.date
    horizon_days: int
    interval_level: float | None = Field(description="nominal coverage of each total's [lower, upper], e.g. 0.9")
    band: str = Field(description="how the bands were made and what was measured (docs/results.md)")
    totals: list[Total]
