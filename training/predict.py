"""Forecast the days of a ``test.csv``-shaped file (known-future covariates) with a model version.

Reads the file (validated: an unknown store, a bad date or flag stops with file, line and column),
checks its days lie within the version's ``horizon_days`` (42) days after its origin, forecasts through onnxruntime
and writes one CSV row per file row, in file order: Store, Date, Open, Sales, Lower, Upper (euros,
90 % interval, 0 on closed days).
"""

import csv
import io
import logging
import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from rossmann_core.data.daily_csv import read_future_csv
from rossmann_core.data.panel import attach_covariates, empty_panel, fill_panel
from rossmann_core.errors import DataValidationError
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.version import ModelVersion

log = logging.getLogger(__name__)

OUTPUT_COLUMNS = ("Store", "Date", "Open", "Sales", "Lower", "Upper")


def forecast_future_file(version: ModelVersion, future_path: Path, model: str) -> str:
    """CSV text of the forecasts for every row of ``future_path``."""
    future = read_future_csv(str(future_path))
    unknown_open = int((future.open == -1).sum())
    if unknown_open:
        log.warning("%s: %d rows with an empty Open, forecast as open (Kaggle's convention)", future_path, unknown_open)
        future = replace(future, open=np.where(future.open == -1, 1, future.open).astype(np.int8))
    origin = version.history.dates[-1]
    max_lead = version.manifest.horizon_days
    lead = ((future.date - origin) / np.timedelta64(1, "D")).astype(np.int64)
    outside = np.flatnonzero((lead < 1) | (lead > max_lead))
    if outside.size:
        i = int(outside[0])
        raise DataValidationError(
            str(future_path), int(future.line[i]), "Date",
            f"{future.date[i]} is not within the {max_lead} days after the model's last history day {origin}",
        )
    horizon = int(lead.max())
    covariates = fill_panel(
        empty_panel(version.history.store_ids, origin + 1, origin + horizon), future, with_sales=False
    )
    panel = attach_covariates(version.history, covariates)
    forecast = forecast_panel(version, panel, version.history.n_days - 1, horizon, model)
    row = version.stores.index_of(future.store) * horizon + (lead - 1)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    for i, r in enumerate(row):
        writer.writerow([
            int(future.store[i]), str(future.date[i]), int(forecast.open[r]),
            f"{forecast.sales[r]:.2f}", f"{forecast.lower[r]:.2f}", f"{forecast.upper[r]:.2f}",
        ])
    return buffer.getvalue()


def write_forecasts(version: ModelVersion, future_path: Path, model: str, out_path: Path) -> int:
    """Write the forecasts CSV atomically (temporary file, then rename); return the row count."""
    text = forecast_future_file(version, future_path, model)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = out_path.with_name(f".{out_path.name}.tmp")
    temporary.write_text(text)
    os.replace(temporary, out_path)
    rows = text.count("\n") - 1
    log.info(
        "wrote %d forecasts of %s (model %s, version %s) to %s", rows, future_path, model, version.name, out_path
    )
    return rows
