"""Lambda plumbing of the fanned-out night's three steps (:mod:`.fanout`), run by the Step Functions state machine.

Unlike :func:`nightly_batch.handler.handle`, a step that fails raises (after logging the reason at
ERROR and counting BatchFailures): Step Functions must see the task fail to retry it and then fail
the execution, which leaves no committed run and trips the state machine's alarm. After the commit
the accuracy monitor scores earlier runs, as the single function does.

Events: ``plan`` takes the schedule's event (or ``{"run_date": ...}``); ``shard`` one Map item of the
plan; ``commit`` the plan with the Map's results under ``parts`` (template.yaml's definition).
"""

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
from aws_lambda_powertools.metrics import MetricUnit

from nightly_batch.fanout import commit_run, plan_run, run_shard
from nightly_batch.handler import SERVICE, feed_metrics, score_earlier_runs
from nightly_batch.run import run_date_of
from rossmann_core.errors import RossmannError
from rossmann_core.models.version import ModelVersion
from rossmann_core.serving import logs
from rossmann_core.serving.model_cache import ModelCache
from rossmann_core.serving.settings import batch_settings, model_settings
from rossmann_core.storage import s3_client

log = logging.getLogger("nightly_batch.steps")
_cache: ModelCache[ModelVersion] = ModelCache(lambda version: version)
Result = TypeVar("Result")


def _step(name: str, request_id: str | None, work: Callable[[], Result]) -> Result:
    """Run one step; on failure log it at ERROR (traceback only for a bug), count it, and re-raise."""
    with logs.logger(SERVICE).append_context_keys(run_id=request_id, step=name):
        started = time.perf_counter()
        try:
            return work()
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"
            log.error("nightly %s step failed: %s", name, reason, exc_info=not isinstance(error, RossmannError),
                      extra={"event": "step_failed", "step": name, "error": reason,
                             "seconds": round(time.perf_counter() - started, 3)})
            logs.metrics(SERVICE).add_metric("BatchFailures", MetricUnit.Count, 1)
            raise


def plan(event: Mapping[str, Any], request_id: str | None = None,
         environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The plan of ``event``'s night: the latest model version pinned, state written, shard items."""
    def work() -> dict[str, Any]:
        run_date = run_date_of(event)
        version = _cache.get(model_settings(environ), follow_latest=True)
        result = plan_run(run_date, batch_settings(environ), s3_client(), version, request_id or "local")
        log.info("planned %s: %d shards", result["run_date"], len(result["shards"]),
                 extra={"event": "plan_done", "shards": len(result["shards"]), "seconds": result["plan_seconds"]})
        return result

    return _step("plan", request_id, work)


def shard(item: Mapping[str, Any], request_id: str | None = None,
          environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Forecast one shard with the plan's pinned model version; its part's figures."""
    def work() -> dict[str, Any]:
        pinned = dataclasses.replace(model_settings(environ), version=str(item["model_version"]))
        result = run_shard(dict(item), batch_settings(environ), s3_client(), _cache.get(pinned, follow_latest=False))
        log.info("shard %d done: %d rows", result["shard"], result["rows"], extra={"event": "shard_done", **result})
        return result

    return _step(f"shard {item.get('shard')}", request_id, work)


def commit(event: Mapping[str, Any], request_id: str | None = None,
           environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Verify every part and commit the night; the summary written, with ``status`` and ``accuracy``."""
    def work() -> dict[str, Any]:
        settings = batch_settings(environ)
        pinned = dataclasses.replace(model_settings(environ), version=str(event["summary"]["model_version"]))
        version = _cache.get(pinned, follow_latest=False)
        summary = commit_run(dict(event), list(event["parts"]), settings, s3_client(), version)
        accuracy = score_earlier_runs(np.datetime64(summary["run_date"], "D"), settings)
        metrics = logs.metrics(SERVICE)
        metrics.add_metric("BatchDuration", MetricUnit.Seconds, summary["duration_seconds"])
        metrics.add_metric("BatchRows", MetricUnit.Count, summary["rows"])
        metrics.add_metric("BatchStores", MetricUnit.Count, summary["stores"])
        feed_metrics(metrics, summary.get("data_feed"))
        log.info("nightly batch committed: %s, %d rows in %d parts", summary["run_date"], summary["rows"],
                 summary["shards"], extra={"event": "batch_done", "run_date": summary["run_date"],
                                           "rows": summary["rows"], "shards": summary["shards"]})
        return {"status": "ok", **summary, "accuracy": accuracy}

    return _step("commit", request_id, work)


def reset() -> None:
    """Forget the model in memory (tests; a new registry setting)."""
    _cache.clear()
