"""Nightly batch Lambda entry (SAM: ``CodeUri: functions/batch/``, ``Handler: batch_lambda.handler``): forecasts
every store 42 days ahead (plumbing in ``nightly_batch.handler``, the run in ``nightly_batch.run``).

The fanned-out night (a Step Functions state machine, ``functions/batch/statemachine.asl.json``) runs the same
code as three functions: ``batch_lambda.plan_handler``, ``batch_lambda.shard_handler`` (one per shard) and
``batch_lambda.commit_handler``; each raises when its step fails, so Step Functions retries it and then fails
the execution.

Event: an EventBridge scheduled event, or ``{"run_date": "YYYY-MM-DD"}`` by hand. Settings: the batch's table
in docs/operations.md ("Settings", generated from ``rossmann_core.serving.settings``).
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
