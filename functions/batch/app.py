"""Nightly batch Lambda (SAM: ``CodeUri: functions/batch/``, ``Handler: app.handler``): forecasts every
store 42 days ahead (plumbing in ``nightly_batch.handler``, the run in ``nightly_batch.run``).

The fanned-out night (a Step Functions state machine, ``nightly_batch.fanout``) runs the same code as three
functions: ``app.plan_handler``, ``app.shard_handler`` (one per shard) and ``app.commit_handler``; each
raises when its step fails, so Step Functions retries it and then fails the execution.

Event: an EventBridge scheduled event, or ``{"run_date": "YYYY-MM-DD"}`` by hand. Settings
(environment, see ``rossmann_core.serving.settings``): DATA_BUCKET, FORECAST_BUCKET, MODEL_REGISTRY,
optional DATA_PREFIX, FORECAST_PREFIX, MODEL_VERSION, MODEL_CACHE_DIR.
"""

from typing import Any

from nightly_batch import steps
from nightly_batch.handler import SERVICE, BatchFailedError, handle, is_scheduled
from rossmann_core.serving import logs

logger, metrics, tracer = logs.logger(SERVICE), logs.metrics(SERVICE), logs.tracer(SERVICE)


@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(log_event=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Run the night; a scheduled run that failed raises BatchFailedError (after logging it) so Lambda retries
    it and then sends the event to the dead-letter queue; a run by hand returns the failure."""
    result = handle(event, request_id=context.aws_request_id)
    if result["status"] == "failed" and is_scheduled(event):
        raise BatchFailedError(result["error"])
    return result


@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(log_event=True)
def plan_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """State machine, first step: the night's plan (pinned model version, state written, shard items)."""
    return steps.plan(event, request_id=context.aws_request_id)


@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(log_event=True)
def shard_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """State machine, one Map iteration: forecast one shard and write its part."""
    return steps.shard(event, request_id=context.aws_request_id)


@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(log_event=False)
def commit_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """State machine, last step: verify every part, commit the night, score earlier runs."""
    return steps.commit(event, request_id=context.aws_request_id)
