"""Nightly batch Lambda (SAM: ``CodeUri: functions/batch/``, ``Handler: app.handler``): forecasts every
store 42 days ahead (plumbing in ``nightly_batch.handler``, the run in ``nightly_batch.run``).

Event: an EventBridge scheduled event, or ``{"run_date": "YYYY-MM-DD"}`` by hand. Settings
(environment, see ``rossmann_core.serving.settings``): DATA_BUCKET, FORECAST_BUCKET, MODEL_REGISTRY,
optional DATA_PREFIX, FORECAST_PREFIX, MODEL_VERSION, MODEL_CACHE_DIR.
"""

from typing import Any

from nightly_batch.handler import handle
from rossmann_core.serving.logs import configure_logging

configure_logging()


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, request_id=getattr(context, "aws_request_id", None))
