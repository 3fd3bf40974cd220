"""Lambda plumbing of the nightly batch: settings from the environment, one cached model, failures as values.

``handle(event)`` never raises: a failed run returns ``{"status": "failed", "error": ...}`` and logs
the reason; since nothing is written before the forecast is complete, the previous output stays.
"""

import json
import logging
import os
import time
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from nightly_batch.output import CommitError
from nightly_batch.run import BatchError, BatchSettings, run_batch, run_date_of
from rossmann_core.errors import DataValidationError
from rossmann_core.models.registry import RegistryError, fetch_version, latest_version
from rossmann_core.models.version import ArtifactIntegrityError, ModelVersion, load_version

log = logging.getLogger(__name__)

DATA_BUCKET_ENV = "DATA_BUCKET"
FORECAST_BUCKET_ENV = "FORECAST_BUCKET"
DATA_PREFIX_ENV = "DATA_PREFIX"
FORECAST_PREFIX_ENV = "FORECAST_PREFIX"
MODEL_REGISTRY_ENV = "MODEL_REGISTRY"
MODEL_VERSION_ENV = "MODEL_VERSION"
MODEL_CACHE_DIR_ENV = "MODEL_CACHE_DIR"
DEFAULT_MODEL_CACHE_DIR = "/tmp/models"

EXPECTED_ERRORS = (BatchError, CommitError, DataValidationError, RegistryError, ArtifactIntegrityError)
"""Failures with a message that says it all; anything else is logged with its traceback."""

_models: dict[str, ModelVersion] = {}


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise BatchError(f"environment variable {name} is not set")
    return value


def settings_from(environ: Mapping[str, str]) -> BatchSettings:
    return BatchSettings(
        data_bucket=_required(environ, DATA_BUCKET_ENV),
        forecast_bucket=_required(environ, FORECAST_BUCKET_ENV),
        data_prefix=environ.get(DATA_PREFIX_ENV, "").strip("/"),
        forecast_prefix=environ.get(FORECAST_PREFIX_ENV, "forecasts").strip("/"),
    )


def cached_model(environ: Mapping[str, str]) -> ModelVersion:
    """The pinned or latest version, loaded (and sha256-verified) once per version per process."""
    registry = _required(environ, MODEL_REGISTRY_ENV)
    version = environ.get(MODEL_VERSION_ENV) or latest_version(registry)
    if version not in _models:
        cache_dir = Path(environ.get(MODEL_CACHE_DIR_ENV) or DEFAULT_MODEL_CACHE_DIR)
        loaded = load_version(fetch_version(registry, version, cache_dir))
        _models.clear()
        _models[version] = loaded
    return _models[version]


@cache
def s3_client() -> Any:
    """One client per process; boto3 honours AWS_ENDPOINT_URL for a local S3-API server."""
    import boto3

    return boto3.client("s3")


def handle(event: Mapping[str, Any], request_id: str | None = None,
           environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """Run the batch for ``event``; return the summary with ``status: ok``, or the failure reason."""
    started = time.perf_counter()
    run_date = None
    try:
        run_date = run_date_of(event)
        settings = settings_from(environ)
        summary = run_batch(run_date, settings, s3_client(), lambda: cached_model(environ), run_id=request_id)
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"
        failure = {
            "status": "failed",
            "run_date": None if run_date is None else str(run_date),
            "error": reason,
            "request_id": request_id,
            "seconds": round(time.perf_counter() - started, 3),
        }
        log.error(json.dumps({"message": "nightly batch failed", **failure}),
                  exc_info=not isinstance(error, EXPECTED_ERRORS))
        return failure
    result = {"status": "ok", **summary, "seconds": round(time.perf_counter() - started, 3)}
    log.info(json.dumps({"message": "nightly batch done", **{k: v for k, v in result.items() if k != "data"}}))
    return result
