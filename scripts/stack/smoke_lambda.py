"""Smoke test of the ``sam build`` output on Lambda's Python (3.12), standard library only.

Run by that interpreter in isolated mode (``python3.12 -I scripts/stack/smoke_lambda.py BUILD_DIR MODELS RUNTIME``):
puts the built function folders and layers on ``sys.path`` in Lambda's order (``/var/task`` then
``/opt/python``, then RUNTIME: a folder with boto3 and botocore, which Lambda's runtime provides and the
layers leave out), imports both handlers, and sends the API handler genuine HTTP API (payload 2.0)
events for ``/health``, ``POST /forecasts`` and the web page (``GET /``, with the charting library the
build shipped in ``web/vendor/``) served from the local model registry ``MODELS``.
Prints one JSON line; exits 1 on any failure.
"""

import json
import os
import sys
import time
from pathlib import Path


def http_event(method: str, path: str, body: dict | None = None) -> dict:
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "smoke.local"},
        "requestContext": {"http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                                    "userAgent": "smoke"}, "requestId": "smoke", "stage": "$default"},
        "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False,
    }


class Context:
    aws_request_id = "smoke"
    function_name = "smoke"
    memory_limit_in_mb = 2048
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:smoke"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 29_000


def main(build_dir: Path, models: Path, runtime: Path) -> dict:
    layers = [build_dir / "RuntimeLayer" / "python", build_dir / "CoreLayer" / "python"]
    sys.path[:0] = [str(build_dir / "ApiFunction"), *map(str, layers)]
    sys.path.append(str(runtime))  # what Lambda's runtime provides after the layers: boto3 and botocore
    os.environ.update(MODEL_REGISTRY=str(models), MODEL_CACHE_DIR=str(build_dir / ".smoke-cache"))
    started = time.perf_counter()
    import api_lambda  # the API function's handler module, as Lambda imports it

    import_seconds = time.perf_counter() - started
    health = api_lambda.handler(http_event("GET", "/health"), Context())
    forecast = api_lambda.handler(http_event("POST", "/forecasts", {"stores": [1], "horizon_days": 42}), Context())
    page = api_lambda.handler(http_event("GET", "/"), Context())
    sys.path.insert(1, str(build_dir / "BatchFunction"))
    import numpy
    import onnxruntime

    import batch_lambda

    return {
        "python": sys.version.split()[0], "numpy": numpy.__version__, "onnxruntime": onnxruntime.__version__,
        "api_import_seconds": round(import_seconds, 3), "health": health["statusCode"],
        "forecast": forecast["statusCode"], "forecast_days": len(json.loads(forecast["body"])["stores"][0]["date"]),
        "page": page["statusCode"], "page_inlines_uplot": "uPlot" in page["body"],
        "batch_handler": callable(batch_lambda.handler),
    }


if __name__ == "__main__":
    result = main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve())
    print(json.dumps(result))
    expected = (200, 200, 42, 200, True)
    found = tuple(result[k] for k in ("health", "forecast", "forecast_days", "page", "page_inlines_uplot"))
    sys.exit(0 if found == expected else 1)
