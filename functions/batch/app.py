"""Nightly batch Lambda: forecasts every store 42 days ahead (logic in ``nightly_batch.run``).

Event: an EventBridge scheduled event, or ``{"run_date": "YYYY-MM-DD"}`` by hand. Settings (set by
template.yaml): DATA_BUCKET, FORECAST_BUCKET, MODEL_REGISTRY, optional MODEL_VERSION.
"""

import logging
from typing import Any

from nightly_batch.handler import handle

logging.getLogger().setLevel(logging.INFO)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, request_id=getattr(context, "aws_request_id", None))
