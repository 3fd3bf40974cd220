"""Forecast API Lambda entry (SAM: ``CodeUri: functions/api/``, ``Handler: api_lambda.handler``).

Settings: the API's table in docs/operations.md ("Settings", generated from ``rossmann_core.serving.settings``).
The cold start is prepared here and only here (docs/decisions/010-cold-start-gc-and-preload.md):
- with the settings present at import, the model starts loading in a background thread right away, so the
  cold start pays for FastAPI's imports and the model load at once, not one after the other;
- Python's cyclic garbage collector is off while the imports build their objects, and those objects are then
  frozen: they live as long as the process, so no later collection scans them again.
Tests and scripts build the application with ``forecast_api.application.create_app()`` instead.
"""

import gc
from typing import Any

gc.disable()

from forecast_api import model_state  # noqa: E402

model_state.preload()

from aws_lambda_powertools.logging import correlation_paths  # noqa: E402
from mangum import Mangum  # noqa: E402  (after preload, so the two overlap)

from forecast_api.application import create_app  # noqa: E402
from forecast_api.middleware import SERVICE  # noqa: E402
from rossmann_core.serving import logs  # noqa: E402

logger, metrics = logs.logger(SERVICE), logs.metrics(SERVICE)
app = create_app()
asgi_handler = Mangum(app, lifespan="off")

gc.freeze()
gc.enable()


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry: Powertools adds the invocation's log keys (cold start, request ids) and flushes the
    request's metrics (RequestLatency, ForecastStores, ForecastRows; dimension model_version) as EMF.

    Traces are Lambda's own (active tracing in template.yaml); the API does not load the X-Ray SDK
    (docs/decisions/006-no-xray-sdk-in-api.md). The batch keeps the Tracer."""
    response = asgi_handler(event, context)
    metrics.add_dimension("model_version", model_state.loaded_version() or "none")
    return response
