"""Forecast results as JSON bytes shaped like :class:`~forecast_api.schemas.ForecastResponse`.

Built from numpy arrays with ``tolist`` and serialised once: validating tens of thousands of
floats through pydantic would cost more than the forecast itself. The schema tests and the
OpenAPI fuzzing check that this output matches the declared schema.
"""

import json
from typing import Any

import numpy as np

from rossmann_core.covariates.assume import COVARIATES
from rossmann_core.data.daily_csv import STATE_HOLIDAY_LETTERS
from rossmann_core.serving.servable import Servable, StoreForecasts

from .paging import Page

STATE_HOLIDAY_LETTER_OF_CODE = np.array(STATE_HOLIDAY_LETTERS)
"""Kaggle letter of each StateHoliday code 0..3, indexable by a code array."""


def forecast_document(servable: Servable, result: StoreForecasts, page: Page | None = None) -> dict[str, Any]:
    """The response body as plain Python values; stores in ascending id order. ``page``: which page of the
    requested stores ``result`` holds (default: all of them, one page)."""
    n_answered = result.covariates.open.shape[0]
    page = page or Page(1, 1, n_answered, n_answered)
    panel = result.covariates
    n_stores, n_days = panel.open.shape
    forecast = result.forecast

    def per_store(values: np.ndarray) -> list[list[Any]]:
        return np.asarray(values).reshape(n_stores, n_days).tolist()

    sales, lower, upper = (per_store(np.round(getattr(forecast, name), 2)) for name in ("sales", "lower", "upper"))
    values = {
        "open": per_store(panel.open), "promo": per_store(panel.promo),
        "state_holiday": per_store(STATE_HOLIDAY_LETTER_OF_CODE[panel.state_holiday]),
        "school_holiday": per_store(panel.school_holiday),
    }
    assumed = {name: per_store(~result.given[..., k]) for k, name in enumerate(COVARIATES)}
    dates = np.datetime_as_string(panel.dates).tolist()
    interval = servable.version.manifest.models[result.model].interval
    return {
        "model": result.model,
        "model_version": servable.version.name,
        "origin": str(servable.origin),
        "history_source": servable.state.source,
        "history_run_date": None if servable.state.run_date is None else str(servable.state.run_date),
        "start": str(result.start),
        "horizon_days": n_days,
        "interval_level": interval.level,
        **page.fields(),
        "stores": [
            {
                "store": int(store),
                "date": dates,
                "sales": sales[i],
                "lower": lower[i],
                "upper": upper[i],
                "covariates": {name: column[i] for name, column in values.items()},
                "assumed": {name: column[i] for name, column in assumed.items()},
            }
            for i, store in enumerate(panel.store_ids)
        ],
    }


def nullable(values: np.ndarray) -> list[float | None]:
    """``values`` as floats, NaN as null."""
    return [None if np.isnan(v) else v for v in values.tolist()]


def to_json(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; NaN or infinity is a bug and raises."""
    return json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
