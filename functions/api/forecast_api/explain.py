"""GET and POST /stores/{id}/explain: one store's forecast as a baseline times one factor per driver, per day and
per week, and each week against the same weeks last year (:mod:`rossmann_core.serving.explanations`)."""

import datetime as dt
from typing import Any

import numpy as np
from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from rossmann_core import HORIZON_DAYS
from rossmann_core.explain.drivers import DRIVER_DESCRIPTIONS, DRIVER_LABELS, DRIVERS
from rossmann_core.serving.explanations import (
    COMPARISON_PARTS,
    PART_LABELS,
    Period,
    StoreExplanation,
    explain_store,
    sentence,
)

from .responses import nullable, to_json
from .routes import ERRORS, ServableDep, answering, to_overrides, unprocessable
from .schemas import (
    STRICT_REQUEST,
    CovariateOverride,
    HorizonDays,
    HorizonQuery,
    IsoDate,
    ModelName,
    ModelQuery,
    StartQuery,
    StoreIdPath,
)

router = APIRouter()

METHOD = ("Per day, baseline x factors = forecast. The baseline is the store's mean sales of the year to the origin "
          "times the trees' expected output; each factor is exp of its driver's share of the log forecast: the "
          "trees' path contributions (numpy, from the node values the version stores) summed over the driver's "
          "features, the store x weekday x promo level split into weekday and promotion, and the model's "
          "correction. A week's factors are its open days' forecast-weighted means (in logs), its baseline the "
          "forecast per open day over their product. Against last year: the same days 364 days earlier, as the "
          "same model explains them from an origin 364 days back; the parts multiply to the change.")


class Driver(BaseModel):
    name: str
    label: str
    description: str


class DayExplanations(BaseModel):
    """Per day, aligned with ``date``; ``baseline`` and the factors are null on closed days (forecast 0)."""

    date: list[str]
    open: list[bool]
    forecast: list[float]
    baseline: list[float | None]
    factors: dict[str, list[float | None]] = Field(description="per driver, the factor of each day (1.06 = +6 %)")


class LastYearComparison(BaseModel):
    last_year_sales: float = Field(description="actual sales of the same days last year, euros")
    last_year_open_days: int
    last_year_model_forecast: float = Field(description="what the model forecasts for those days, euros")
    change: float = Field(description="forecast / last year's sales - 1")
    parts: dict[str, float] = Field(description="per part, its factor - 1; the factors multiply to 1 + change")
    sentence: str


class PeriodExplanation(BaseModel):
    first_day: str
    days: int
    open_days: int
    forecast: float = Field(description="total, euros")
    baseline: float | None = Field(description="euros per open day; open_days x baseline x factors = forecast")
    factors: dict[str, float] | None
    vs_last_year: LastYearComparison | None
    vs_last_year_note: str | None = Field(description="why there is no comparison, when there is none")


class ExplainResponse(BaseModel):
    store: int
    model: str
    model_version: str
    origin: str
    drivers: list[Driver]
    comparison_parts: dict[str, str] = Field(description="every part of a change against last year, with its words")
    method: str
    days: DayExplanations
    weeks: list[PeriodExplanation] = Field(description="Monday-first calendar weeks, cut to the days asked")
    window: PeriodExplanation


class ExplainRequest(BaseModel):
    """A what-if to explain: the days and model as in GET, with covariates that replace the assumed ones."""

    model_config = ConfigDict(**STRICT_REQUEST, json_schema_extra={"examples": [
        {"horizon_days": 14, "covariates": [{"store": 1, "date": "2015-06-22", "promo": 0}]}]})

    start: IsoDate | None = None
    horizon_days: HorizonDays = HORIZON_DAYS
    model: ModelName | None = None
    covariates: list[CovariateOverride] = Field(default_factory=list, max_length=HORIZON_DAYS)

    @model_validator(mode="after")
    def _unique(self) -> "ExplainRequest":
        if len({c.date for c in self.covariates}) != len(self.covariates):
            raise ValueError("covariates: each date may appear once")
        return self


def period_document(period: Period, what: str) -> dict[str, Any]:
    """A period of the answer (:class:`PeriodExplanation`) as plain values."""
    comparison = period.last_year
    return {
        "first_day": str(period.first), "days": period.days, "open_days": period.open_days,
        "forecast": round(period.forecast, 2),
        "baseline": period.baseline,
        "factors": None if period.log_factors is None else dict(zip(DRIVERS, np.exp(period.log_factors).tolist())),
        "vs_last_year": None if comparison is None else {
            "last_year_sales": round(comparison.actual, 2), "last_year_open_days": comparison.open_days,
            "last_year_model_forecast": round(comparison.model_forecast, 2),
            "change": float(np.expm1(comparison.log_parts.sum())),
            "parts": dict(zip(COMPARISON_PARTS, np.expm1(comparison.log_parts).tolist())),
            "sentence": sentence(comparison, what),
        },
        "vs_last_year_note": period.last_year_note,
    }


def explain_document(explained: StoreExplanation, servable: Any) -> dict[str, Any]:
    """The response body (:class:`ExplainResponse`) as plain values."""
    factors = np.exp(explained.log_factors)
    return {
        "store": explained.store, "model": explained.model, "model_version": servable.version.name,
        "origin": str(servable.origin),
        "drivers": [{"name": name, "label": DRIVER_LABELS[name], "description": DRIVER_DESCRIPTIONS[name]}
                    for name in DRIVERS],
        "comparison_parts": dict(PART_LABELS), "method": METHOD,
        "days": {"date": np.datetime_as_string(explained.date).tolist(), "open": explained.open.tolist(),
                 "forecast": np.round(explained.forecast, 2).tolist(), "baseline": nullable(explained.baseline),
                 "factors": {name: nullable(factors[:, i]) for i, name in enumerate(DRIVERS)}},
        "weeks": [period_document(week, "the same week last year") for week in explained.weeks],
        "window": period_document(explained.window, "the same days last year"),
    }


def run_explain(servable: ServableDep, store_id: int, start: dt.date | None, horizon_days: int,
                model_name: str | None, request: ExplainRequest | None, source: str) -> Response:
    """Explain and serialise; 404 for an unknown store, 422 (``loc`` under ``source``) for what cannot be
    explained or served."""
    overrides = None
    if request is not None:
        outside = [i for i, c in enumerate(request.covariates) if c.store != store_id]
        if outside:
            raise unprocessable((source, "covariates", outside[0], "store"), f"must be {store_id}, the store explained")
        overrides = to_overrides(request.covariates)
    with answering(source):
        explained = explain_store(servable, store_id, None if start is None else np.datetime64(start, "D"),
                                  horizon_days, model_name, overrides)
    return Response(to_json(explain_document(explained, servable)), media_type="application/json")


@router.get("/stores/{store_id}/explain", response_model=ExplainResponse,
            responses={404: ERRORS[404], 422: ERRORS[422], 503: ERRORS[503]})
def store_explain(
    store_id: StoreIdPath,
    model: ServableDep,
    horizon_days: HorizonQuery = HORIZON_DAYS,
    model_name: ModelQuery = None,
    start: StartQuery = None,
) -> Response:
    """Why this number: the store's forecast per day and week as a baseline times one factor per driver, and each
    week against the same week last year. Tree models and their blend only: the LSTM answers 422 with the reason."""
    return run_explain(model, store_id, start, horizon_days, model_name, None, "query")


@router.post("/stores/{store_id}/explain", response_model=ExplainResponse,
             responses={k: ERRORS[k] for k in (404, 413, 415, 422, 503)})
def store_explain_what_if(store_id: StoreIdPath, request: ExplainRequest, model: ServableDep) -> Response:
    """The same for a what-if: covariates given for some days replace the assumed ones."""
    return run_explain(model, store_id, request.start, request.horizon_days, request.model, request, "body")
