"""Handler settings: every environment variable name of both Lambda functions, read here and only when asked.

An explicit argument beats the environment; a missing or malformed setting raises
:class:`~rossmann_core.errors.SettingsError` naming the variable, so a handler answers 503 (API) or
reports a failed run (batch) instead of failing at import.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rossmann_core import HORIZON_DAYS
from rossmann_core.errors import SettingsError
from rossmann_core.storage import is_s3_uri, split_s3_uri

MODEL_REGISTRY_ENV = "MODEL_REGISTRY"
"""A local folder or ``s3://bucket/prefix`` holding ``<version>/`` folders and ``latest.json``."""
MODEL_VERSION_ENV = "MODEL_VERSION"
"""Optional pinned version; default: the registry's ``latest.json``."""
MODEL_CACHE_DIR_ENV = "MODEL_CACHE_DIR"
"""Where versions fetched from S3 are cached (Lambda: only /tmp is writable)."""
DATA_BUCKET_ENV = "DATA_BUCKET"
"""Batch: the bucket holding ``train.csv`` and ``store.csv``."""
DATA_PREFIX_ENV = "DATA_PREFIX"
"""Batch: optional key prefix of the data files."""
FORECAST_BUCKET_ENV = "FORECAST_BUCKET"
"""Batch: the bucket the nightly forecasts are committed to."""
FORECAST_PREFIX_ENV = "FORECAST_PREFIX"
"""Batch: key prefix of the forecast partitions (default ``forecasts``)."""
DEFAULT_MODEL_CACHE_DIR = Path("/tmp/models")
DEFAULT_FORECAST_PREFIX = "forecasts"


@dataclass(frozen=True)
class ModelSettings:
    """Where the served model comes from: ``registry`` (folder or s3:// URI), optional pinned ``version``,
    and the local ``cache_dir`` for versions fetched from S3."""

    registry: str
    version: str | None
    cache_dir: Path


@dataclass(frozen=True)
class BatchSettings:
    """Where the nightly batch reads and writes: bucket names and key prefixes (no outer slashes)."""

    data_bucket: str
    forecast_bucket: str
    data_prefix: str = ""
    forecast_prefix: str = DEFAULT_FORECAST_PREFIX
    horizon_days: int = HORIZON_DAYS


def _environ(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if environ is None else environ


def _required(environ: Mapping[str, str], name: str, what: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set: give {what}")
    return value


def model_settings(environ: Mapping[str, str] | None = None, registry: str | None = None) -> ModelSettings:
    """Settings from ``registry`` if given, else ``environ`` (default ``os.environ``)."""
    environ = _environ(environ)
    registry = (registry or "").strip() or _required(
        environ, MODEL_REGISTRY_ENV, "a model folder or s3://bucket/prefix"
    )
    if is_s3_uri(registry) and not split_s3_uri(registry)[0]:
        raise SettingsError(f"{MODEL_REGISTRY_ENV}={registry!r} names no bucket")
    version = environ.get(MODEL_VERSION_ENV, "").strip() or None
    if version is not None and ("/" in version or version.startswith(".")):
        raise SettingsError(f"{MODEL_VERSION_ENV}={version!r} is not a version name")
    cache_dir = Path(environ.get(MODEL_CACHE_DIR_ENV, "").strip() or DEFAULT_MODEL_CACHE_DIR)
    return ModelSettings(registry=registry, version=version, cache_dir=cache_dir)


def batch_settings(environ: Mapping[str, str] | None = None) -> BatchSettings:
    """The batch's buckets and prefixes from ``environ`` (default ``os.environ``)."""
    environ = _environ(environ)
    return BatchSettings(
        data_bucket=_required(environ, DATA_BUCKET_ENV, "the bucket holding train.csv and store.csv"),
        forecast_bucket=_required(environ, FORECAST_BUCKET_ENV, "the bucket the forecasts are written to"),
        data_prefix=environ.get(DATA_PREFIX_ENV, "").strip("/"),
        forecast_prefix=environ.get(FORECAST_PREFIX_ENV, DEFAULT_FORECAST_PREFIX).strip("/"),
    )
