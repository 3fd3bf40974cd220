"""Forecast API Lambda (SAM: ``CodeUri: functions/api/``, ``Handler: app.handler``), also an ASGI app for uvicorn.

Settings (environment, see ``rossmann_core.serving.settings``): MODEL_REGISTRY (a folder or
s3://bucket/prefix), optional MODEL_VERSION and MODEL_CACHE_DIR; optional FORECAST_BUCKET,
FORECAST_PREFIX and STATE_REFRESH_SECONDS (where the nightly batch publishes the history to forecast
from, and how often to look for a newer one). The model loads on the first request (or at import,
see below) and stays for the container's life, the history follows the newest committed nightly
run; nothing heavier than numpy and onnxruntime is imported.
With the settings present at import, the model starts loading in the background right away, so
the cold start pays for FastAPI's imports and the model load at once, not one after the other.
Python's cyclic garbage collector is off while the imports build their objects (its passes over them
cost ~5 % of a cold start), and those objects are then frozen: they live as long as the process, so no
later collection scans them again (a full one otherwise pauses a request for tens of ms).
"""

import gc
from typing import Any

gc.disable()

from forecast_api import model_state  # noqa: E402

model_state.preload()

from aws_lambda_powertools.logging import correlation_paths  # noqa: E402
from fastapi import FastAPI, Request  # noqa: E402  (after preload, so the two overlap)
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from mangum import Mangum  # noqa: E402

from forecast_api import page, stores  # noqa: E402
from forecast_api.middleware import SERVICE, RequestContextMiddleware  # noqa: E402
from forecast_api.routes import router  # noqa: E402
from rossmann_core.serving import logs  # noqa: E402

logger, metrics = logs.logger(SERVICE), logs.metrics(SERVICE)

app = FastAPI(
    title="Rossmann sales forecasts",
    version="1.0.0",
    description="Daily sales forecasts with 90 % intervals for Rossmann's stores, up to 42 days ahead.",
)
app.include_router(router)
app.include_router(stores.router)
app.include_router(page.router)
app.add_middleware(RequestContextMiddleware)


@app.exception_handler(RequestValidationError)
async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
    """422 naming each field (``loc``) and reason (``msg``); the input itself is not echoed."""
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]
    return JSONResponse(status_code=422, content={"detail": detail})


asgi_handler = Mangum(app, lifespan="off")

gc.freeze()
gc.enable()


@metrics.log_metrics(capture_cold_start_metric=True)
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry: Powertools adds the invocation's log keys (cold start, request ids) and flushes the
    request's metrics (RequestLatency, ForecastStores, ForecastRows; dimension model_version) as EMF.

    Traces are Lambda's own (active tracing in template.yaml: each invocation's segment with its init, invoke
    and overhead times); the API does not load the X-Ray SDK (Powertools Tracer), whose import cost ~0.3 s of
    CPU on every cold start (docs/benchmarks.md, "Cold start"), so its traces lack the handler's subsegment and
    its S3 calls. The batch keeps the Tracer."""
    response = asgi_handler(event, context)
    metrics.add_dimension("model_version", model_state.loaded_version() or "none")
    return response
