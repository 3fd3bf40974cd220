"""Helpers for the forecast API tests: point the app at a registry, load genuine sample events."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from forecast_api import model_state
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


def event(name: str) -> dict[str, Any]:
    """A fresh copy of a sample event from events/."""
    return copy.deepcopy(json.loads((EVENTS / name).read_text()))


class LambdaContext:
    """The attributes of the Lambda runtime's context object that handlers read."""

    function_name = "rossmann-forecast-api"
    memory_limit_in_mb = 2048
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:rossmann-forecast-api"

    def __init__(self, aws_request_id: str = "8f5c2d4e-0d43-4c3b-9a43-3d2f4bd0c001") -> None:
        self.aws_request_id = aws_request_id

    def get_remaining_time_in_millis(self) -> int:
        return 29_000
