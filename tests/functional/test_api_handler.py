"""The Lambda handler invoked in-process with genuine API Gateway events (HTTP API 2.0, REST API 1.0)."""

import base64
import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api_support import EVENTS, LambdaContext, api_lambda_handler, event, serve_from
from rossmann_core.serving import logs

REPO = Path(__file__).resolve().parents[2]
HEAVY_MODULES = ("pandas", "sklearn", "tensorflow", "keras", "skl2onnx", "tf2onnx")


@pytest.fixture()
def served(synthetic_version_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    serve_from(monkeypatch, synthetic_version_dir.parent)
    yield
    serve_from(monkeypatch, None)


def invoke(evt: dict[str, Any], request_id: str = "8f5c2d4e-0d43-4c3b-9a43-3d2f4bd0c001") -> tuple[int, dict, Any]:
    """(status, headers, decoded JSON body) of a handler call."""
    response = api_lambda_handler()(evt, LambdaContext(request_id))
    body = response["body"]
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return response["statusCode"], response["headers"], json.loads(body)


@pytest.mark.parametrize("name", sorted(p.name for p in EVENTS.glob("api_*.json")))
def test_every_sample_event_is_answered_with_the_invocation_request_id(served: None, name: str) -> None:
    status, headers, body = invoke(event(name), request_id=f"req-{name}")
    assert status == 200, body
    assert headers["x-request-id"] == f"req-{name}"
    assert headers["content-type"] == "application/json"


def test_http_api_forecast_event_applies_its_covariates(served: None) -> None:
    status, _, body = invoke(event("api_http_forecasts.json"))
    assert status == 200
    stores = {s["store"]: s for s in body["stores"]}
    assert sorted(stores) == [1, 2] and all(len(s["date"]) == 42 for s in stores.values())
    monday = stores[1]["date"].index("2015-02-02")
    assert stores[1]["covariates"]["promo"][monday] == 0 and stores[1]["assumed"]["promo"][monday] is False
    assert stores[2]["assumed"]["promo"][monday] is True


def test_rest_api_event_reads_its_query_string(served: None) -> None:
    status, _, body = invoke(event("api_rest_store_forecast.json"))
    assert status == 200 and body["horizon_days"] == 14 and [s["store"] for s in body["stores"]] == [1]


def test_a_base64_body_is_decoded(served: None) -> None:
    status, _, body = invoke(event("api_http_forecasts_base64.json"))
    assert status == 200 and body["horizon_days"] == 7 and body["stores"][0]["store"] == 3


def test_client_mistakes_in_events_are_4xx_never_500(served: None) -> None:
    unknown = event("api_http_store_forecast.json")
    unknown["rawPath"] = unknown["requestContext"]["http"]["path"] = "/stores/999/forecast"
    assert invoke(unknown)[0] == 404
    broken = event("api_http_forecasts.json")
    broken["body"] = '{"stores": [1], "horizon_days": 7'
    assert invoke(broken)[0] == 422
    huge = event("api_rest_forecasts.json")
    huge["body"] = json.dumps({"stores": [1], "pad": "x" * (1 << 20)})
    for headers in (huge["headers"], huge["multiValueHeaders"]):
        headers.pop("Content-Length")
    status, _, body = invoke(huge)
    assert status == 413 and "larger than 1048576 bytes" in body["detail"]


def test_logs_are_powertools_json_lines_carrying_the_request_ids(served: None, capsys: pytest.CaptureFixture) -> None:
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logs.logger("forecast_api").registered_formatter)
    logger = logging.getLogger()  # the handler's own loggers and the shared model cache's
    logger.addHandler(capture)
    try:
        invoke(event("api_http_health.json"), request_id="log-test-id")
    finally:
        logger.removeHandler(capture)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [line for line in lines if line.get("event") == "request"]
    assert access and access[-1]["request_id"] == "log-test-id" and access[-1]["status"] == 200
    assert access[-1]["path"] == "/health" and access[-1]["correlation_id"] == "JKJaXmPLvHcESHA="
    assert access[-1]["function_request_id"] == "log-test-id" and access[-1]["service"] == "forecast_api"
    assert access[-1]["level"] == "INFO" and isinstance(access[-1]["cold_start"], bool)
    assert any(line.get("event") == "model_loaded" and line["request_id"] == "log-test-id" for line in lines)
    # the request's metrics leave as one CloudWatch EMF document on stdout, with the model version dimension
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    request = [doc for doc in emf if "RequestLatency" in doc]
    assert request and request[-1]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "RossmannForecast"
    assert request[-1]["model_version"] == logs_version() and request[-1]["service"] == "forecast_api"


def logs_version() -> str:
    from forecast_api import model_state

    return model_state.loaded_version() or "none"


def test_a_missing_setting_fails_in_the_handler_not_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    serve_from(monkeypatch, None)
    status, _, body = invoke(event("api_http_health.json"))
    assert status == 503 and "MODEL_REGISTRY" in body["detail"]


def test_a_fresh_process_serves_without_pandas_sklearn_or_tensorflow(synthetic_version_dir: Path) -> None:
    # GIVEN a new interpreter laid out like Lambda (function folder first on the path)
    script = f"""
import json, sys
import api_lambda
evt = json.load(open({str(EVENTS / "api_http_store_forecast.json")!r}))
class Context:
    aws_request_id = "subprocess"
    function_name = "rossmann-forecast-api"
    memory_limit_in_mb = 3538
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:rossmann-forecast-api"
response = api_lambda.handler(evt, Context())
print(json.dumps({{"status": response["statusCode"],
                   "heavy": [m for m in {HEAVY_MODULES!r} if m in sys.modules]}}))
"""
    env = {**os.environ, "MODEL_REGISTRY": str(synthetic_version_dir.parent)}
    env.pop("MODEL_VERSION", None)
    # WHEN it imports the handler, loads the model and answers a forecast
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    # THEN none of the training stack was imported
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"status": 200, "heavy": []}


def test_the_model_starts_loading_at_import_when_settings_are_present(synthetic_version_dir: Path) -> None:
    # GIVEN a new interpreter with the registry set, as in Lambda's init phase
    script = """
import sys, threading
import api_lambda
from forecast_api import model_state
for thread in threading.enumerate():
    if thread.name == "model-preload":
        thread.join()
print(model_state.loaded_version())
"""
    env = {**os.environ, "MODEL_REGISTRY": str(synthetic_version_dir.parent)}
    env.pop("MODEL_VERSION", None)
    # WHEN it only imports the handler (no request)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    # THEN the model version is already in memory
    assert result.stdout.strip().splitlines()[-1] == synthetic_version_dir.name
