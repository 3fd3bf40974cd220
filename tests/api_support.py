"""Helpers for the handler tests: point the API at a registry, genuine sample events, Lambda contexts, and the
session's S3 server holding a published model."""

import contextlib
import copy
import gc
import importlib
import json
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient

from forecast_api import model_state
from forecast_api.application import create_app
from rossmann_core.serving.settings import MODEL_CACHE_DIR_ENV, MODEL_REGISTRY_ENV, MODEL_VERSION_ENV

EVENTS = Path(__file__).resolve().parent.parent / "events"


def serve_from(monkeypatch: pytest.MonkeyPatch, registry: str | Path | None, cache_dir: Path | None = None,
               version: str | None = None) -> None:
    """Set the API's settings (None removes MODEL_REGISTRY) and forget any loaded model."""
    for name, value in ((MODEL_REGISTRY_ENV, registry), (MODEL_VERSION_ENV, version), (MODEL_CACHE_DIR_ENV, cache_dir)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(value))
    model_state.reset()


@contextlib.contextmanager
def serving(monkeypatch: pytest.MonkeyPatch, registry: str | Path, cache_dir: Path | None = None
            ) -> Iterator[TestClient]:
    """The API app (``create_app()``) through TestClient, serving ``registry``; the settings removed after."""
    serve_from(monkeypatch, registry, cache_dir)
    with TestClient(create_app()) as client:
        yield client
    serve_from(monkeypatch, None)


def api_lambda_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The API's Lambda entry (``api_lambda.handler``), imported as Lambda imports it; the garbage collector's
    freeze that the entry applies for a cold start is undone, so the rest of the test session collects as usual."""
    entry = importlib.import_module("api_lambda")
    gc.unfreeze()
    return entry.handler


def event(name: str) -> dict[str, Any]:
    """A fresh copy of a sample event from events/."""
    return copy.deepcopy(json.loads((EVENTS / name).read_text()))


class LambdaContext:
    """The attributes of the Lambda runtime's context object that handlers (and Powertools) read;
    the API function's by default, the batch's with :func:`batch_context`."""

    def __init__(self, aws_request_id: str = "8f5c2d4e-0d43-4c3b-9a43-3d2f4bd0c001",
                 function_name: str = "rossmann-forecast-api", memory_limit_in_mb: int = 2048) -> None:
        self.aws_request_id = aws_request_id
        self.function_name = function_name
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invoked_function_arn = f"arn:aws:lambda:eu-central-1:123456789012:function:{function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def batch_context(aws_request_id: str = "test-request") -> LambdaContext:
    """The nightly batch function's context (memory as in template.yaml)."""
    return LambdaContext(aws_request_id, "rossmann-forecast-batch", 3538)


def reset_s3(endpoint: str) -> None:
    """Empty the S3 server at ``endpoint`` (moto's reset API): every bucket and object goes."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()


@contextlib.contextmanager
def s3_stack(
    endpoint: str, buckets: dict[str, str], version_dir: Path, env: dict[str, str] | None = None,
    data_files: tuple[Path, ...] = (),
) -> Iterator[Any]:
    """The session's S3 server at ``endpoint`` (fixture ``s3_endpoint``), emptied, boto3 pointed at it (plus
    ``env``), the ``buckets`` created, ``version_dir`` published under ``models/`` of ``buckets["models"]`` with
    its latest.json and ``data_files`` uploaded by name to ``buckets["data"]``; yields the client and empties the
    server again after."""
    reset_s3(endpoint)
    patch = pytest.MonkeyPatch()
    settings = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "eu-central-1", **(env or {})}
    for name, value in settings.items():
        patch.setenv(name, value)
    try:
        client = boto3.client("s3")
        for bucket in buckets.values():
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        for path in version_dir.iterdir():
            client.upload_file(str(path), buckets["models"], f"models/{version_dir.name}/{path.name}")
        client.put_object(Bucket=buckets["models"], Key="models/latest.json",
                          Body=json.dumps({"version": version_dir.name}).encode())
        for path in data_files:
            client.upload_file(str(path), buckets["data"], path.name)
        yield client
    finally:
        patch.undo()
        reset_s3(endpoint)
