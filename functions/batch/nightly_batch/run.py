"""Nightly batch: the newest data and the latest model in, 42-day forecasts for every store out.

Steps (each timed into the summary): resolve and load the model version; read the night's data from the data
bucket (:mod:`.feed`: the whole ``train.csv``, or only the new days appended to the last committed history state)
and ``store.csv``; build the history panel; assume the horizon's known-future covariates from it; forecast;
check; commit to S3 (:mod:`.output`): the forecasts, the history state they start from (which the API then forecasts
from, :mod:`rossmann_core.serving.history_state`), the summary, and the state pointer. Nothing is
written until the forecast is complete and checked. The pieces (:func:`prepare_run` for the whole fleet,
:func:`forecast_history` for any slice of it, :func:`run_summary`) are the same in the fanned-out night
(:mod:`.fanout`), which runs them as separate Lambda steps.

History: when the data's last day is at or after the model's origin, the panel is the data file's
last ``n`` days, ``n`` being the length of the model's stored state (455 days), with
``store.csv``'s metadata, so the forecast starts the day after the newest data without retraining. When the data
is older than the model (a stale bucket), the model's own stored state is used instead. Either way
the stores are the model's, in its order (models may index stores); stores it was not trained on
are listed in the summary, not forecast.
"""

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from nightly_batch import output as batch_output
from nightly_batch.completeness import DataFeed, measure
from nightly_batch.feed import STORE_FILE, read_feed
from nightly_batch.output import totals_fields
from nightly_batch.totals import totals_csv
from rossmann_core.covariates.assume import CovariateModel, assume_covariates, fit_covariates
from rossmann_core.data.daily_csv import DailyRows
from rossmann_core.data.dates import DAY, iso_day
from rossmann_core.data.encoding import text_of
from rossmann_core.data.panel import Panel, attach_covariates, empty_panel, fill_panel
from rossmann_core.data.stores import StoreTable, parse_store_text
from rossmann_core.errors import RossmannError
from rossmann_core.features.history import FEATURE_HISTORY_DAYS, has_recent_sales
from rossmann_core.models.forecast import Forecast, forecast_panel
from rossmann_core.models.version import ModelVersion
from rossmann_core.serving.history_state import (
    HISTORY_STATE_FILE,
    StatePointer,
    pointer_key,
    published_state,
    state_bytes,
)
from rossmann_core.serving.settings import DEFAULT_MAX_MISSING_SHARE, BatchSettings
from rossmann_core.storage import object_bytes, s3_key, sha256_hex

log = logging.getLogger(__name__)

MAX_DATA_AGE_DAYS = 366
"""A run date later than this after the data's last day is refused (the data stopped, or a mistyped year)."""


class BatchError(RossmannError):
    """The run cannot produce a complete, checked forecast; nothing was written."""


@dataclass(frozen=True)
class History:
    """The panel forecasts start from (its last day is the origin) and the store table matching it.

    Both hold the model's stores in the model's order; ``not_in_model`` (int32 ids) are stores of the
    data the model was not trained on, which are not forecast.
    """

    panel: Panel
    stores: StoreTable
    source: str  # "data" or "model_state"
    not_in_model: np.ndarray
    data_feed: DataFeed | None = None  # the feed's completeness (None when the model's own state serves)


def run_date_of(event: Mapping[str, Any]) -> np.datetime64:
    """The run date: ``event["run_date"]`` (by hand) or the UTC day of an EventBridge scheduled event."""
    if "run_date" in event:
        text = str(event["run_date"])
        day = iso_day(text)
        if day is None:
            raise BatchError(f"run_date {text!r} is not a YYYY-MM-DD date")
        return day
    if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
        return np.datetime64(str(event["time"])[:10], "D")
    raise BatchError("expected an EventBridge scheduled event or {\"run_date\": \"YYYY-MM-DD\"}")


def check_run_date(run_date: np.datetime64, history: Panel) -> None:
    """BatchError unless the history's first day <= ``run_date`` <= its last day + MAX_DATA_AGE_DAYS: an
    earlier date predates the data, a later one means the data stopped long ago (or a mistyped year)."""
    first, last = history.start, history.dates[-1]
    if run_date < first:
        raise BatchError(f"run_date {run_date} is before the history's first day {first}")
    if run_date > last + MAX_DATA_AGE_DAYS * DAY:
        raise BatchError(f"run_date {run_date} is more than {MAX_DATA_AGE_DAYS} days after the data's last day "
                         f"{last}: refusing to publish forecasts from data that old")


def read_object(client: Any, bucket: str, key: str) -> bytes:
    """The object's bytes; BatchError naming the URI if it is missing or unreadable."""
    data = object_bytes(client, bucket, key, BatchError)
    if data is None:
        raise BatchError(f"s3://{bucket}/{key} does not exist")
    return data


def aligned_stores(data: StoreTable, model: StoreTable) -> StoreTable:
    """``model``'s stores in its order, with ``data``'s metadata wherever ``data`` lists the store."""
    position = data.index_of(model.store_id)
    found = position >= 0
    columns = {}
    for field in fields(StoreTable):
        new, old = getattr(data, field.name)[np.maximum(position, 0)], getattr(model, field.name)
        mask = found.reshape(-1, *([1] * (old.ndim - 1)))
        columns[field.name] = np.where(mask, new, old).astype(old.dtype)
    return StoreTable(**columns)


def history_for(version: ModelVersion, rows: DailyRows, stores_bytes: bytes, source: str,
                max_missing_share: float = DEFAULT_MAX_MISSING_SHARE) -> History:
    """The history panel the forecast starts from (see the module docstring) for the feed's ``rows``
    (:mod:`nightly_batch.feed`); its origin is the data's newest day unless that day is too incomplete
    (:func:`nightly_batch.completeness.measure`)."""
    stores = parse_store_text(text_of(stores_bytes, f"{source}/{STORE_FILE}"), f"{source}/{STORE_FILE}")
    model_ids = version.stores.store_id
    not_in_model = np.setdiff1d(np.union1d(stores.store_id, rows.store), model_ids).astype(np.int32)
    last, model_origin = rows.date.max(), version.history.dates[-1]
    if last < model_origin:
        log.warning("data ends %s, before the model's origin %s: using the model's state", last, model_origin)
        return History(version.history, version.stores, "model_state", not_in_model)
    feed = measure(rows.take(np.isin(rows.store, model_ids)), model_ids, FEATURE_HISTORY_DAYS, max_missing_share)
    report_feed(feed)
    origin = feed.origin
    if origin < model_origin:
        log.warning("data complete up to %s, before the model's origin %s: using the model's state", origin,
                    model_origin)
        return History(version.history, version.stores, "model_state", not_in_model, feed)
    first = origin - (version.history.n_days - 1) * DAY
    recent = rows.take((rows.date >= first) & (rows.date <= origin) & np.isin(rows.store, model_ids))
    panel = fill_panel(empty_panel(model_ids, first, origin), recent, with_sales=True)
    return History(panel, aligned_stores(stores, version.stores), "data", not_in_model, feed)


def report_feed(feed: DataFeed) -> None:
    """Log the feed's gaps: a fallback to an earlier origin, stores missing on the newest day, days without rows."""
    figures = feed.to_dict()
    if feed.fell_back:
        log.warning("newest day %s lacks %d of its %d expected stores: forecasting from %s instead",
                    feed.newest_day, len(feed.stores_missing_newest_day), feed.expected_newest_day, feed.origin,
                    extra={"event": "data_fell_back", **figures})
    elif len(feed.stores_missing_newest_day) or len(feed.days_without_rows):
        log.warning("data gaps: %d stores missing on %s, %d days without rows", len(feed.stores_missing_newest_day),
                    feed.newest_day, len(feed.days_without_rows), extra={"event": "data_gaps", **figures})


def horizon_covariates(model: CovariateModel, horizon: int) -> Panel:
    """Open/Promo/holidays assumed for the ``horizon`` days after the history ``model`` was fitted on
    (:mod:`rossmann_core.covariates`, the same assumptions the API makes when a caller gives none)."""
    last = model.history.dates[-1]
    return assume_covariates(model, last + DAY, last + horizon * DAY)


def check_forecast(forecast: Forecast, n_stores: int, horizon: int) -> None:
    """Raise BatchError unless every store has ``horizon`` finite, ordered, non-negative rows."""
    if len(forecast.store) != n_stores * horizon:
        raise BatchError(f"forecast has {len(forecast.store)} rows, expected {n_stores} stores x {horizon} days")
    values = np.stack([forecast.lower, forecast.sales, forecast.upper])
    if not np.isfinite(values).all():
        raise BatchError("forecast holds non-finite values")
    if (values[0] < 0).any() or (np.diff(values, axis=0) < -1e-6).any():
        raise BatchError("forecast violates 0 <= lower <= sales <= upper")


@dataclass(frozen=True)
class Prepared:
    """Everything a run computes once for the whole fleet before any store is forecast.

    ``covariates`` is the horizon's assumed Open/Promo/holidays (n_stores, horizon), fitted on the whole
    history (some patterns are chain-wide, so a shard cannot fit them on its own stores); ``states`` (n_stores,)
    each store's federal state from the same fit (the totals' groups);
    ``has_history`` (n_stores,) marks the stores with sales in the history (the ones forecast);
    ``state`` is the history as ``history_state.npz`` bytes and ``pointer`` the state pointer naming it.
    """

    run_date: np.datetime64
    version: ModelVersion
    history: History
    covariates: Panel
    states: np.ndarray
    has_history: np.ndarray
    partition: str
    state: bytes
    pointer: StatePointer
    data: dict[str, Any]


Lap = Callable[[str], None]
"""Records the time since the previous lap under a stage name."""


def stopwatch(timings: dict[str, float]) -> Lap:
    """A lap function writing each stage's seconds into ``timings``."""
    mark = [time.perf_counter()]

    def lap(stage: str) -> None:
        now = time.perf_counter()
        timings[stage] = round(now - mark[0], 3)
        mark[0] = now

    return lap


def prepare_run(run_date: np.datetime64, settings: BatchSettings, client: Any, version: ModelVersion,
                lap: Lap) -> Prepared:
    """Read and parse the data, check the run date, assume the horizon's covariates, build the state."""
    data_uri = f"s3://{s3_key(settings.data_bucket, settings.data_prefix)}"
    delivered = read_feed(client, settings, version)
    lap("read_data")
    history = history_for(version, delivered.rows, delivered.stores_bytes, data_uri, settings.max_missing_share)
    lap("parse_data")
    check_run_date(run_date, history.panel)
    covariate_model = fit_covariates(history.panel)
    covariates = horizon_covariates(covariate_model, settings.horizon_days)
    lap("covariates")
    partition = batch_output.partition_prefix(settings.forecast_prefix, run_date)
    state = state_bytes(history.panel, history.stores)
    feed = None if history.data_feed is None else history.data_feed.to_dict()
    pointer = published_state(run_date, f"{partition}/{HISTORY_STATE_FILE}", state, history.panel, version.name,
                              history.not_in_model, feed)
    lap("history_state")
    return Prepared(run_date, version, history, covariates, covariate_model.state_of_store,
                    has_recent_sales(history.panel), partition, state, pointer,
                    {"uri": data_uri, **delivered.to_dict()})


def forecast_history(version: ModelVersion, history: Panel, stores: StoreTable, covariates: Panel,
                     horizon: int) -> Forecast:
    """Forecast, with the version's best model, every store of ``history`` that has sales in it, from its
    last day over ``covariates``' days; checked (:func:`check_forecast`). ``stores`` and ``covariates``
    hold the same stores in the same order as ``history`` (the whole fleet, or one shard of it)."""
    has_history = has_recent_sales(history)
    forecast = forecast_panel(
        replace(version, stores=stores), attach_covariates(history, covariates), origin=history.n_days - 1,
        horizon=horizon, model=version.best_model, store_rows=np.flatnonzero(has_history),
    )
    check_forecast(forecast, int(has_history.sum()), horizon)
    return forecast


def run_summary(prepared: Prepared, horizon: int, run_id: str | None) -> dict[str, Any]:
    """The summary fields every committed run carries, whether one function or shards forecast it."""
    history, version = prepared.history, prepared.version
    origin = history.panel.dates[-1]
    n_stores = int(prepared.has_history.sum())
    return {
        "run_date": str(prepared.run_date),
        "run_id": run_id or uuid.uuid4().hex,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "rows": n_stores * horizon,
        "stores": n_stores,
        "stores_without_history": history.panel.store_ids[~prepared.has_history].tolist(),
        "stores_not_in_model": history.not_in_model.tolist(),
        "horizon_days": horizon,
        "origin": str(origin),
        "first_date": str(origin + DAY),
        "last_date": str(origin + horizon * DAY),
        "data_age_days": int((prepared.run_date - origin) / DAY),
        "model_version": version.name,
        "model": version.best_model,
        "model_origin": str(version.history.dates[-1]),
        "history_source": history.source,
        "data_feed": None if history.data_feed is None else history.data_feed.to_dict(),
        "covariates": "assumed from the history (rossmann_core.covariates.assume)",
        "data": prepared.data,
        "history_state": {"file": HISTORY_STATE_FILE, "sha256": prepared.pointer.sha256,
                          "bytes": prepared.pointer.bytes, "first_date": str(history.panel.start),
                          "days": history.panel.n_days},
    }


def run_batch(
    run_date: np.datetime64, settings: BatchSettings, client: Any, load_model: Callable[[], ModelVersion],
    run_id: str | None = None,
) -> dict[str, Any]:
    """Forecast every store and commit the partition of ``run_date``; return the summary written."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    lap = stopwatch(timings)
    version = load_model()
    lap("load_model")
    prepared = prepare_run(run_date, settings, client, version, lap)
    history = prepared.history
    forecast = forecast_history(version, history.panel, history.stores, prepared.covariates, settings.horizon_days)
    lap("forecast")
    csv_bytes = batch_output.forecasts_csv(forecast, version.name)
    lap("format_output")
    night = totals_csv(csv_bytes, version, history.panel, history.stores, prepared.states, version.best_model)
    totals_bytes = night.csv
    lap("totals")
    summary = {
        **run_summary(prepared, settings.horizon_days, run_id),
        "forecasts_sha256": sha256_hex(csv_bytes),
        "forecasts_bytes": len(csv_bytes),
        **totals_fields(night.csv, night.members),
        "timings_seconds": timings,
    }
    summary["duration_seconds"] = round(time.perf_counter() - started, 3)
    summary["state_pointer"] = batch_output.pointer_move(client, settings.forecast_bucket, settings.forecast_prefix,
                                                         prepared.pointer)
    summary["output"] = batch_output.commit(
        client, settings.forecast_bucket, prepared.partition, csv_bytes, totals_bytes, prepared.state, summary,
        pointer_key(settings.forecast_prefix), prepared.pointer,
    )
    return summary
