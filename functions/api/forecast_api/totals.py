"""POST /totals: forecasts of groups of stores over periods, with 90 % bands that hold for sums."""

from typing import Any

import numpy as np
from fastapi import APIRouter, Response

from rossmann_core.serving.totals import TotalsTable, forecast_totals

from .middleware import record_forecast
from .responses import nullable, to_json
from .routes import ERRORS, ServableDep, answering, to_overrides
from .schemas import TotalsRequest, TotalsResponse

router = APIRouter()

BAND = ("Each total's band is drawn from the model's errors on two earlier six-week windows, with the errors of "
        "stores on the same day and of a store over several weeks kept together (not summed store-day bands). "
        "Its coverage per level on the rolling backtest is in docs/results.md, \"Totals\".")
NO_BAND = "This model version has no totals pool (trained before totals): no band."


def cents(values: np.ndarray) -> list[float | None]:
    """Euros rounded to the cent; NaN becomes null."""
    return nullable(np.round(values, 2))


def totals_document(table: TotalsTable, servable: Any, request: TotalsRequest) -> dict[str, Any]:
    """The response body (:class:`~forecast_api.schemas.TotalsResponse`) as plain values."""
    rows = []
    sales, lower, upper, last_year = (cents(a) for a in (table.totals.sales.ravel(), table.totals.lower.ravel(),
                                                        table.totals.upper.ravel(), table.last_year.ravel()))
    dates = np.datetime_as_string(table.dates).tolist()
    opened = table.totals.open_store_days.ravel().tolist()
    i = 0
    for g, group in enumerate(table.groups):
        for period in table.periods:
            rows.append({"group": group.label, "period": period.label, "first_day": dates[period.first],
                         "last_day": dates[period.last], "stores": int(table.stores[g]), "open_store_days": opened[i],
                         "sales": sales[i], "lower": lower[i], "upper": upper[i], "last_year_sales": last_year[i]})
            i += 1
    level = servable.version.manifest.totals.level if table.banded else None
    return {"model": table.model, "model_version": servable.version.name, "origin": str(servable.origin),
            "group_by": request.group_by, "period": request.period, "start": dates[0], "horizon_days": len(dates),
            "interval_level": level, "band": BAND if table.banded else NO_BAND, "totals": rows}


@router.post("/totals", response_model=TotalsResponse, responses={k: ERRORS[k] for k in (404, 413, 415, 503)})
def create_totals(request: TotalsRequest, model: ServableDep) -> Response:
    """Totals of the chain, federal states, store types, assortments, each store or one list of stores, per day,
    ISO week, calendar month or the whole window, with a 90 % band and the actual sales 52 weeks earlier."""
    start = None if request.start is None else np.datetime64(request.start, "D")
    with answering("body"):
        table = forecast_totals(model, request.group_by, request.period, start, request.horizon_days, request.model,
                                to_overrides(request.covariates), request.stores)
    record_forecast(int(table.stores.sum()), table.totals.sales.size)
    return Response(to_json(totals_document(table, model, request)), media_type="application/json")
