"""Fuzzing the API from its own OpenAPI schema (schemathesis): no input may cause a server error,
and every answer must match the documented schema."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from schemathesis import Case, openapi
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api_support import serve_from
from forecast_api.application import create_app

schema = openapi.from_asgi("/openapi.json", create_app())


@pytest.fixture(scope="module")
def served(synthetic_version_dir: Path) -> Iterator[None]:
    patch = pytest.MonkeyPatch()
    serve_from(patch, synthetic_version_dir.parent)
    yield
    serve_from(patch, None)
    patch.undo()


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_causes_a_server_error(case: Case, served: None) -> None:
    case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
