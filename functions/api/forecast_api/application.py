"""The FastAPI application: routes, store pages, the web page, request context and 422 errors.

``create_app()`` builds it without side effects, for tests, scripts and ``uvicorn --factory``; the Lambda
entry (``api_lambda``) wraps one instance with Mangum after its cold-start preparations.
"""

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from forecast_api import explain, page, stores, totals
from forecast_api.middleware import RequestContextMiddleware
from forecast_api.routes import router


async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
    """422 naming each field (``loc``) and reason (``msg``); the input itself is not echoed."""
    detail = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()]
    return JSONResponse(status_code=422, content={"detail": detail})


def create_app() -> FastAPI:
    """A new API application; the model and history state are process-wide (``forecast_api.model_state``)."""
    app = FastAPI(
        title="Rossmann sales forecasts",
        version="1.0.0",
        description="Daily sales forecasts with 90 % intervals for Rossmann's stores, up to 42 days ahead.",
    )
    app.include_router(router)
    app.include_router(stores.router)
    app.include_router(totals.router)
    app.include_router(explain.router)
    app.include_router(page.router)
    app.add_middleware(RequestContextMiddleware)
    app.add_exception_handler(RequestValidationError, validation_error)
    return app
