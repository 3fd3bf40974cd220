"""Lambda plumbing of the nightly batch: shared settings, the shared model cache, logs and metrics, failures as values.

``handle(event)`` never raises: a failed run returns ``{"status": "failed", "error": ...}`` and logs
the reason at ERROR (with a traceback only for an unexpected error, i.e. a bug); since nothing is
written before the forecast is complete, the previous output stays. The model comes through the
same :class:`~rossmann_core.serving.model_cache.ModelCache` and load-time checks as the API's, but
``latest.json`` is re-read on every run, so a newly published version is used the next night.

After its own commit the run scores earlier runs against the actuals that have arrived since
(:mod:`nightly_batch.monitor`); a failure there is logged at ERROR and reported under ``accuracy``,
but the committed forecasts stand. Metrics (namespace RossmannForecast, service nightly_batch):
BatchDuration, BatchRows, BatchStores (BatchFailures on a failure), and the accuracy figures
TrailingRmspe, TrailingCoverage90, TrailingBias, TrailingRowsScored, TrailingChainTotalsCoverage90 and the data
feed's DataFellBack, StoresMissingNewestDay, DaysWithoutRows, which template.yaml's alarms watch.
"""

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from aws_lambda_powertools.metrics import MetricUnit

from nightly_batch.monitor import monitor_accuracy
from nightly_batch.run import run_batch, run_date_of
from rossmann_core.errors import RossmannError
from rossmann_core.models.version import ModelVersion
from rossmann_core.serving import logs
from rossmann_core.serving.model_cache import ModelCache
from rossmann_core.serving.settings import BatchSettings, batch_settings, model_settings
from rossmann_core.storage import s3_client

SERVICE = "nightly_batch"
log = logging.getLogger("nightly_batch")

_cache: ModelCache[ModelVersion] = ModelCache(lambda version: version)

ACCURACY_METRICS = (
    ("TrailingRmspe", "rmspe", MetricUnit.NoUnit), ("TrailingCoverage90", "coverage_90", MetricUnit.NoUnit),
    ("TrailingBias", "bias", MetricUnit.NoUnit), ("TrailingRowsScored", "rows", MetricUnit.Count),
)
"""(metric, accuracy.json key, unit) emitted after each night's monitoring."""
CHAIN_TOTALS_LEVEL = "chain_day"
"""The totals level whose band coverage is emitted as TrailingChainTotalsCoverage90 (template.yaml alarms on it)."""


class BatchFailedError(RossmannError):
    """A scheduled night failed (raised by the Lambda entry so the event reaches the dead-letter queue)."""


def is_scheduled(event: Mapping[str, Any]) -> bool:
    """True for EventBridge's scheduled event (asynchronous: failures go to the dead-letter queue)."""
    return event.get("source") == "aws.events" and "run_date" not in event


def handle(event: Mapping[str, Any], request_id: str | None = None,
           environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Run the batch for ``event``; return the summary with ``status: ok`` (and ``accuracy``), or the failure.

    ``environ`` defaults to ``os.environ`` (see :mod:`rossmann_core.serving.settings`).
    """
    with logs.logger(SERVICE).append_context_keys(run_id=request_id):
        return _handle(event, request_id, environ)


def _handle(event: Mapping[str, Any], request_id: str | None, environ: Mapping[str, str] | None) -> dict[str, Any]:
    started = time.perf_counter()
    run_date = None
    try:
        run_date = run_date_of(event)
        settings, models = batch_settings(environ), model_settings(environ)
        summary = run_batch(run_date, settings, s3_client(), lambda: _cache.get(models, follow_latest=True),
                            run_id=request_id)
    except Exception as error:
        failure = {
            "status": "failed",
            "run_date": None if run_date is None else str(run_date),
            "error": f"{type(error).__name__}: {error}",
            "request_id": request_id,
            "seconds": round(time.perf_counter() - started, 3),
        }
        log.error("nightly batch failed: %s", failure["error"], exc_info=not isinstance(error, RossmannError),
                  extra={"event": "batch_failed", **failure})
        logs.metrics(SERVICE).add_metric("BatchFailures", MetricUnit.Count, 1)
        return failure
    accuracy = score_earlier_runs(run_date, settings)
    result = {"status": "ok", **summary, "accuracy": accuracy, "seconds": round(time.perf_counter() - started, 3)}
    metrics = logs.metrics(SERVICE)
    metrics.add_metric("BatchDuration", MetricUnit.Seconds, result["seconds"])
    metrics.add_metric("BatchRows", MetricUnit.Count, result["rows"])
    metrics.add_metric("BatchStores", MetricUnit.Count, result["stores"])
    feed_metrics(metrics, result.get("data_feed"))
    metrics.add_metadata("model_version", result["model_version"])
    log.info("nightly batch done: %s, %d rows", result["run_date"], result["rows"],
             extra={"event": "batch_done", **{k: v for k, v in result.items() if k not in ("data", "accuracy")}})
    return result


def feed_metrics(metrics: Any, feed: Mapping[str, Any] | None) -> None:
    """The data feed's completeness as metrics: DataFellBack (1 when the newest day was not used; an alarm watches
    it), StoresMissingNewestDay and DaysWithoutRows."""
    if feed is None:
        return
    metrics.add_metric("DataFellBack", MetricUnit.Count, int(feed["fell_back"]))
    metrics.add_metric("StoresMissingNewestDay", MetricUnit.Count, feed["stores_missing_newest_day"])
    metrics.add_metric("DaysWithoutRows", MetricUnit.Count, len(feed["days_without_rows"]))


@logs.tracer(SERVICE).capture_method(capture_response=False)
def score_earlier_runs(run_date: np.datetime64, settings: BatchSettings) -> dict[str, Any]:
    """The monitor's figures (and their metrics), or ``{"status": "failed", "error"}`` logged at ERROR."""
    try:
        report = monitor_accuracy(run_date, settings, s3_client())
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        log.error("accuracy monitoring failed (the forecasts are committed): %s", reason,
                  exc_info=not isinstance(error, RossmannError), extra={"event": "monitor_failed"})
        return {"status": "failed", "error": reason}
    summary = {key: report[key] for key in ("uri", "window", "rows", "rmspe", "coverage_90", "bias")}
    metrics = logs.metrics(SERVICE)
    for name, key, unit in ACCURACY_METRICS:
        if report[key] is not None:
            metrics.add_metric(name, unit, report[key])
    chain = report["totals"].get(CHAIN_TOTALS_LEVEL)
    if chain is not None:
        metrics.add_metric("TrailingChainTotalsCoverage90", MetricUnit.NoUnit, chain["coverage_90"])
    summary["totals"] = report["totals"]
    log.info("accuracy of earlier runs: %s rows, rmspe %s, coverage %s", report["rows"], report["rmspe"],
             report["coverage_90"], extra={"event": "accuracy", **summary, "lead_weeks": report["lead_weeks"],
                                           "runs_scored": len(report["runs"]), "runs_skipped": report["runs_skipped"]})
    return {"status": "ok", **summary}


def reset() -> None:
    """Forget the model in memory (tests; a new registry setting)."""
    _cache.clear()
