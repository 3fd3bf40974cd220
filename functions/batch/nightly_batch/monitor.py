"""Accuracy of live forecasts: earlier committed runs scored against the actual days that have since arrived.

Run by the handler after the night's own commit. The scored window is the last ``WINDOW_DAYS`` (7) days
of actuals in the history state the newest committed run published (the data that run used, whether it arrived as
the whole ``train.csv`` or as deltas: :mod:`.feed`); every committed partition with a run date before
tonight's that forecast any of those days contributes its (store, date) rows, matched to the actual
of the same store and date (``read_committed``: a partition whose CSV does not match its summary is
skipped and listed, never scored). As in Kaggle's RMSPE, only actual open days with sales > 0 count.
A day is forecast by up to 42 runs, one per lead: ``lead_weeks`` splits the figures by
``ceil((date - origin) / 7)``.

Figures (``accuracy.json`` at ``monitoring/run_date=YYYY-MM-DD/``): ``rows``, ``rmspe``
(sqrt(mean(((a - f) / a)²))), ``coverage_90`` (share of rows with lower ≤ a ≤ upper), ``bias``
(mean((f - a) / a): > 0 means forecasts too high), the same per lead week, and the ``worst_stores``
(10 highest RMSPE, with rows and bias); ``totals``: the same figures of the runs' totals per level
(:mod:`.monitor_totals`).
"""

import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from nightly_batch import output as batch_output
from nightly_batch.feed import rows_of_state
from nightly_batch.monitor_totals import day_grid, known_grid, score_run, totals_report
from rossmann_core.data.daily_csv import DailyRows
from rossmann_core.data.dates import DAY
from rossmann_core.errors import RossmannError
from rossmann_core.serving.history_state import StatePointer, fetch_state, read_pointer
from rossmann_core.serving.settings import BatchSettings
from rossmann_core.storage import s3_key

WINDOW_DAYS = 7
WORST_STORES = 10
MONITORING_PREFIX = "monitoring"
ACCURACY_FILE = "accuracy.json"
_PARTITION = re.compile(r"run_date=(\d{4}-\d{2}-\d{2})/$")
_CSV_DTYPE = np.dtype([("store", "i4"), ("date", "datetime64[D]"), ("version", "U32"),
                       ("sales", "f8"), ("lower", "f8"), ("upper", "f8")])


class MonitorError(RossmannError):
    """The monitor has nothing to score against (no committed run yet)."""


@dataclass(frozen=True)
class Scored:
    """Matched rows, one per (run, store, date) with an open actual day > 0: arrays of equal length."""

    store: np.ndarray  # int32
    lead_week: np.ndarray  # int8, 1..6
    actual: np.ndarray  # float64, euros
    sales: np.ndarray  # float64, euros
    lower: np.ndarray
    upper: np.ndarray


def figures(rows: Scored, mask: np.ndarray | None = None) -> dict[str, Any]:
    """``rows``, ``rmspe``, ``coverage_90``, ``bias`` of the rows in ``mask`` (all by default); None when empty."""
    mask = np.ones(len(rows.actual), bool) if mask is None else mask
    actual, sales = rows.actual[mask], rows.sales[mask]
    if not len(actual):
        return {"rows": 0, "rmspe": None, "coverage_90": None, "bias": None}
    error = (sales - actual) / actual
    covered = (rows.lower[mask] <= actual) & (actual <= rows.upper[mask])
    return {"rows": len(actual), "rmspe": round(float(np.sqrt(np.mean(error**2))), 6),
            "coverage_90": round(float(covered.mean()), 6), "bias": round(float(error.mean()), 6)}


def accuracy_report(rows: Scored) -> dict[str, Any]:
    """Overall figures, ``lead_weeks`` (str(week) -> figures) and the ``worst_stores``."""
    stores = np.unique(rows.store)
    per_store = [{"store": int(s), **figures(rows, rows.store == s)} for s in stores.tolist()]
    worst = sorted(per_store, key=lambda f: (-f["rmspe"], f["store"]))[:WORST_STORES]
    weeks = {str(w): figures(rows, rows.lead_week == w) for w in np.unique(rows.lead_week).tolist()}
    return {**figures(rows), "lead_weeks": weeks, "worst_stores": worst}


def parse_forecasts(csv_bytes: bytes) -> np.ndarray:
    """A committed ``forecasts.csv`` as a structured array (store, date, version, sales, lower, upper)."""
    return np.loadtxt(io.BytesIO(csv_bytes), dtype=_CSV_DTYPE, delimiter=",", skiprows=1, ndmin=1)


def actual_grid(rows: DailyRows, first: np.datetime64, last: np.datetime64) -> tuple[np.ndarray, np.ndarray]:
    """(store ids (n,), sales (n, days) float64 for ``first..last``): NaN where no open day with sales > 0."""
    rows = rows.take((rows.date >= first) & (rows.date <= last) & (rows.open == 1) & (rows.sales > 0))
    return day_grid(rows, first, last, rows.sales)


def match(forecast: np.ndarray, origin: np.datetime64, stores: np.ndarray, grid: np.ndarray,
          first: np.datetime64) -> Scored:
    """The rows of one run's ``forecast`` whose (store, date) has an actual in ``grid``."""
    if not len(stores):
        return concat([])
    day = ((forecast["date"] - first) / DAY).astype(int)
    position = np.minimum(np.searchsorted(stores, forecast["store"]), len(stores) - 1)
    inside = (day >= 0) & (day < grid.shape[1]) & (stores[position] == forecast["store"])
    actual = np.full(len(forecast), np.nan)
    actual[inside] = grid[position[inside], day[inside]]
    keep = np.isfinite(actual)
    picked = forecast[keep]
    lead = ((picked["date"] - origin) / DAY).astype(int)
    return Scored(picked["store"], ((lead + 6) // 7).astype(np.int8), actual[keep], picked["sales"],
                  picked["lower"], picked["upper"])


def concat(parts: list[Scored]) -> Scored:
    """One Scored of all ``parts`` (empty arrays when there are none)."""
    names = ("store", "lead_week", "actual", "sales", "lower", "upper")
    empty = Scored(np.zeros(0, np.int32), np.zeros(0, np.int8), *(np.zeros(0) for _ in range(4)))
    return Scored(*(np.concatenate([getattr(p, n) for p in [empty, *parts]]) for n in names))


def partition_run_dates(client: Any, bucket: str, prefix: str) -> list[np.datetime64]:
    """Run dates that have a partition under ``prefix`` (committed or not: ``read_committed`` decides)."""
    dates, token = [], None
    while True:
        page = client.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/run_date=", Delimiter="/",
                                      **({"ContinuationToken": token} if token else {}))
        dates += [np.datetime64(m.group(1)) for p in page.get("CommonPrefixes", [])
                  if (m := _PARTITION.search(p["Prefix"]))]
        if not page.get("IsTruncated"):
            return sorted(dates)
        token = page["NextContinuationToken"]


def committed_actuals(client: Any, settings: BatchSettings) -> tuple[DailyRows, StatePointer]:
    """The actuals scored: the rows of the history state the newest committed run published (the data that run
    used, delivered whole or as deltas; its bytes verified against the pointer's sha256), and that pointer."""
    pointer = read_pointer(client, settings.forecast_bucket, settings.forecast_prefix)
    if pointer is None:
        raise MonitorError(f"no run has committed a history state under s3://{settings.forecast_bucket}/"
                           f"{settings.forecast_prefix}: nothing to score against")
    history, _ = fetch_state(client, settings.forecast_bucket, pointer)
    return rows_of_state(history, f"s3://{settings.forecast_bucket}/{pointer.key}"), pointer


def monitor_accuracy(run_date: np.datetime64, settings: BatchSettings, client: Any) -> dict[str, Any]:
    """Score earlier committed runs on the last WINDOW_DAYS actual days; write and return ``accuracy.json``."""
    actuals, pointer = committed_actuals(client, settings)
    last = actuals.date.max()
    first = last - (WINDOW_DAYS - 1) * DAY
    stores, grid = actual_grid(actuals, first, last)
    known_stores, known = known_grid(actuals, first, last)
    horizon = settings.horizon_days
    runs, skipped, parts, totals = [], [], [], []
    for date in partition_run_dates(client, settings.forecast_bucket, settings.forecast_prefix):
        if date >= run_date:
            continue
        partition = batch_output.partition_prefix(settings.forecast_prefix, date)
        try:
            summary, csv_bytes = batch_output.read_committed(client, settings.forecast_bucket, partition)
            totals_bytes = batch_output.read_committed_totals(client, settings.forecast_bucket, partition, summary)
        except (batch_output.CommitError, client.exceptions.NoSuchKey) as error:
            skipped.append({"run_date": str(date), "reason": f"{type(error).__name__}: {error}"})
            continue
        origin = np.datetime64(summary["origin"])
        if origin + horizon * DAY < first or origin >= last:
            continue
        forecast = parse_forecasts(csv_bytes)
        scored = match(forecast, origin, stores, grid, first)
        run_totals = [] if totals_bytes is None else score_run(totals_bytes, summary, np.unique(forecast["store"]),
                                                               known_stores, known, first)
        runs.append({"run_date": str(date), "origin": str(origin), "model_version": summary["model_version"],
                     "rows": len(scored.actual), "totals": len(run_totals)})
        parts.append(scored)
        totals += run_totals
    report = {
        "run_date": str(run_date),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "window": {"first_day": str(first), "last_day": str(last), "days": WINDOW_DAYS},
        "data": {"uri": actuals.source, "sha256": pointer.sha256},
        **accuracy_report(concat(parts)),
        "totals": totals_report(totals),
        "runs": runs,
        "runs_skipped": skipped,
    }
    key = s3_key(MONITORING_PREFIX, f"run_date={run_date}", ACCURACY_FILE)
    client.put_object(Bucket=settings.forecast_bucket, Key=key, ContentType="application/json",
                      Body=json.dumps(report, indent=2).encode())
    report["uri"] = f"s3://{settings.forecast_bucket}/{key}"
    return report
