"""Handler settings: every environment variable of both Lambda functions (:data:`SETTINGS`), read here and only
when asked.

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
MODEL_VERSION_ENV = "MODEL_VERSION"
MODEL_CACHE_DIR_ENV = "MODEL_CACHE_DIR"
DATA_BUCKET_ENV = "DATA_BUCKET"
DATA_PREFIX_ENV = "DATA_PREFIX"
FORECAST_BUCKET_ENV = "FORECAST_BUCKET"
FORECAST_PREFIX_ENV = "FORECAST_PREFIX"
SHARD_STORES_ENV = "SHARD_STORES"
STATE_REFRESH_SECONDS_ENV = "STATE_REFRESH_SECONDS"
WEB_SIGNIN_DOMAIN_ENV = "WEB_SIGNIN_DOMAIN"
WEB_CLIENT_ID_ENV = "WEB_CLIENT_ID"
S3_ENDPOINT_ENV = "AWS_ENDPOINT_URL_S3"
MAX_MISSING_SHARE_ENV = "MAX_MISSING_NEWEST_SHARE"
DEFAULT_MODEL_CACHE_DIR = Path("/tmp/models")
DEFAULT_FORECAST_PREFIX = "forecasts"
DEFAULT_STATE_REFRESH_SECONDS = 300.0
SERVING_ONNX_THREADS = 1
"""Intra-op threads of each ONNX session both handlers serve with. One: a Lambda of 2048 MB has ~1.2 vCPU and
uvicorn runs one worker per core, so more threads only spin against each other (docs/decisions/013-one-onnx-thread.md);
with one thread the forest sums its trees in the same order for any batch, so a store's forecast is the
same bit for bit alone or among all stores (with two, onnxruntime splits a large batch's trees)."""
DEFAULT_MAX_MISSING_SHARE = 0.1
"""Share of the stores open a week earlier that may lack the newest day before the batch forecasts from an earlier
day (nightly_batch.completeness)."""
DEFAULT_SHARD_STORES = 1_500
"""Stores per shard of a fanned-out night (why this size: docs/scaling.md)."""
MAX_SHARD_STORES = 100_000


@dataclass(frozen=True)
class Setting:
    """One environment variable: who reads it (``api``, ``batch``), whether that reader needs it, its default
    and what it means. :data:`SETTINGS` is the one list; docs/operations.md's table is generated from it."""

    name: str
    readers: tuple[str, ...]
    required_by: tuple[str, ...]
    default: str
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting(MODEL_REGISTRY_ENV, ("api", "batch"), ("api", "batch"), "",
            "A local folder or `s3://bucket/prefix` holding `<version>/` folders and `latest.json`."),
    Setting(MODEL_VERSION_ENV, ("api", "batch"), (), "the registry's `latest.json`",
            "A pinned model version (its UTC timestamp name)."),
    Setting(MODEL_CACHE_DIR_ENV, ("api", "batch"), (), str(DEFAULT_MODEL_CACHE_DIR),
            "Where versions fetched from S3 are cached (in Lambda only /tmp is writable)."),
    Setting(DATA_BUCKET_ENV, ("batch",), ("batch",), "", "The bucket holding `store.csv` and the history: "
            "`train.csv` and/or `daily/date=YYYY-MM-DD.csv` deltas (docs/batch.md)."),
    Setting(DATA_PREFIX_ENV, ("batch",), (), "none", "Key prefix of the data files."),
    Setting(FORECAST_BUCKET_ENV, ("api", "batch"), ("batch",), "unset (API: the version's own state)",
            "Batch: the bucket the nightly forecasts and history state are committed to. API: where it reads the "
            "newest published history state; without it the model version's own state serves."),
    Setting(FORECAST_PREFIX_ENV, ("api", "batch"), (), DEFAULT_FORECAST_PREFIX,
            "Key prefix of the forecast partitions and the state pointer."),
    Setting(SHARD_STORES_ENV, ("batch",), (), str(DEFAULT_SHARD_STORES),
            f"Fanned-out night (plan step): stores per shard, 1..{MAX_SHARD_STORES}."),
    Setting(MAX_MISSING_SHARE_ENV, ("batch",), (), f"{DEFAULT_MAX_MISSING_SHARE:g}",
            "Share (0..1) of the stores open a week earlier that may lack the newest day; above it the night "
            "forecasts from the last complete day and says so."),
    Setting(STATE_REFRESH_SECONDS_ENV, ("api",), (), f"{DEFAULT_STATE_REFRESH_SECONDS:g}",
            "A warm container checks the state pointer at most this often, in seconds (0: on every request)."),
    Setting(WEB_SIGNIN_DOMAIN_ENV, ("api",), (), "unset (local: no sign-in)",
            "Base URL of the Cognito domain the web page signs in at (`https://….amazoncognito.com`)."),
    Setting(WEB_CLIENT_ID_ENV, ("api",), (), "unset (local: no sign-in)",
            "The Cognito app client id of the web page (public client, code flow with PKCE)."),
    Setting(S3_ENDPOINT_ENV, ("api", "batch"), (), "AWS's endpoint",
            "Read by boto3, not by this code: an S3-API server for local emulation only; absent in AWS."),
)


@dataclass(frozen=True)
class ModelSettings:
    """Where the served model comes from: ``registry`` (folder or s3:// URI), optional pinned ``version``,
    and the local ``cache_dir`` for versions fetched from S3; ``onnx_threads`` per ONNX session."""

    registry: str
    version: str | None
    cache_dir: Path
    onnx_threads: int = SERVING_ONNX_THREADS


@dataclass(frozen=True)
class BatchSettings:
    """Where the nightly batch reads and writes: bucket names and key prefixes (no outer slashes)."""

    data_bucket: str
    forecast_bucket: str
    data_prefix: str = ""
    forecast_prefix: str = DEFAULT_FORECAST_PREFIX
    horizon_days: int = HORIZON_DAYS
    shard_stores: int = DEFAULT_SHARD_STORES
    max_missing_share: float = DEFAULT_MAX_MISSING_SHARE


@dataclass(frozen=True)
class StateSettings:
    """API: where the nightly batch publishes its history state (bucket, prefix) and how often, in seconds,
    a warm container looks for a newer one."""

    bucket: str
    prefix: str = DEFAULT_FORECAST_PREFIX
    refresh_seconds: float = DEFAULT_STATE_REFRESH_SECONDS


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
        shard_stores=_shard_stores(environ.get(SHARD_STORES_ENV, "").strip()),
        max_missing_share=_share(environ.get(MAX_MISSING_SHARE_ENV, "").strip()),
    )


def _share(text: str) -> float:
    """MAX_MISSING_NEWEST_SHARE as a number in 0..1 (default when empty)."""
    if not text:
        return DEFAULT_MAX_MISSING_SHARE
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise SettingsError(f"{MAX_MISSING_SHARE_ENV}={text!r} is not a share in 0..1")
    return value


def _shard_stores(text: str) -> int:
    """SHARD_STORES as a whole number of stores in 1..MAX_SHARD_STORES (default when empty)."""
    if not text:
        return DEFAULT_SHARD_STORES
    if not text.isdigit() or not 1 <= int(text) <= MAX_SHARD_STORES:
        raise SettingsError(f"{SHARD_STORES_ENV}={text!r} is not a number of stores in 1..{MAX_SHARD_STORES}")
    return int(text)


def state_settings(environ: Mapping[str, str] | None = None) -> StateSettings | None:
    """The API's history-state settings from ``environ`` (default ``os.environ``); None without FORECAST_BUCKET
    (e.g. a local model folder and no bucket): then the model version's own state serves."""
    environ = _environ(environ)
    bucket = environ.get(FORECAST_BUCKET_ENV, "").strip()
    if not bucket:
        return None
    text = environ.get(STATE_REFRESH_SECONDS_ENV, "").strip()
    try:
        refresh = DEFAULT_STATE_REFRESH_SECONDS if not text else float(text)
    except ValueError:
        refresh = -1.0
    if not 0 <= refresh <= 86_400:
        raise SettingsError(f"{STATE_REFRESH_SECONDS_ENV}={text!r} is not a number of seconds in 0..86400")
    return StateSettings(
        bucket=bucket, prefix=environ.get(FORECAST_PREFIX_ENV, DEFAULT_FORECAST_PREFIX).strip("/"),
        refresh_seconds=refresh,
    )


@dataclass(frozen=True)
class SigninSettings:
    """API, in AWS: where the web page's sign-in goes (``domain`` base URL, no trailing slash) and as which client."""

    domain: str
    client_id: str


def signin_settings(environ: Mapping[str, str] | None = None) -> SigninSettings | None:
    """The web page's sign-in settings from ``environ`` (default ``os.environ``); None when neither is set (local)."""
    environ = _environ(environ)
    domain = environ.get(WEB_SIGNIN_DOMAIN_ENV, "").strip().rstrip("/")
    client_id = environ.get(WEB_CLIENT_ID_ENV, "").strip()
    if not domain and not client_id:
        return None
    if not domain.startswith("https://") or "/" in domain.removeprefix("https://"):
        raise SettingsError(f"{WEB_SIGNIN_DOMAIN_ENV}={domain!r} is not an https:// base URL")
    if not client_id:
        raise SettingsError(f"{WEB_CLIENT_ID_ENV} is not set: give the web page's Cognito app client id")
    return SigninSettings(domain=domain, client_id=client_id)
