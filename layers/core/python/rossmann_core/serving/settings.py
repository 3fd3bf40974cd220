"""Serving settings: the environment variable names, read in one place and only when asked.

An explicit argument beats the environment; a missing setting raises :class:`SettingsError` with a
message naming the variable, so a handler can answer 503 instead of failing at import.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

MODEL_REGISTRY_ENV = "MODEL_REGISTRY"
"""A local folder or ``s3://bucket/prefix`` holding ``<version>/`` folders and ``latest.json``."""
MODEL_VERSION_ENV = "MODEL_VERSION"
"""Optional pinned version; default: the registry's ``latest.json``."""
MODEL_CACHE_DIR_ENV = "MODEL_CACHE_DIR"
"""Where versions fetched from S3 are cached (Lambda: only /tmp is writable)."""
DEFAULT_MODEL_CACHE_DIR = Path("/tmp/models")


class SettingsError(RuntimeError):
    """A required setting is missing or malformed."""


@dataclass(frozen=True)
class ServingSettings:
    registry: str
    version: str | None
    cache_dir: Path


def serving_settings(environ: Mapping[str, str] | None = None, registry: str | None = None) -> ServingSettings:
    """Settings from ``registry`` if given, else ``environ`` (default ``os.environ``)."""
    environ = os.environ if environ is None else environ
    registry = (registry or environ.get(MODEL_REGISTRY_ENV, "")).strip()
    if not registry:
        raise SettingsError(f"{MODEL_REGISTRY_ENV} is not set: give a model folder or s3://bucket/prefix")
    if registry.startswith("s3://") and not registry.removeprefix("s3://").split("/", 1)[0]:
        raise SettingsError(f"{MODEL_REGISTRY_ENV}={registry!r} names no bucket")
    version = environ.get(MODEL_VERSION_ENV, "").strip() or None
    if version is not None and ("/" in version or version.startswith(".")):
        raise SettingsError(f"{MODEL_VERSION_ENV}={version!r} is not a version name")
    cache_dir = Path(environ.get(MODEL_CACHE_DIR_ENV, "").strip() or DEFAULT_MODEL_CACHE_DIR)
    return ServingSettings(registry=registry, version=version, cache_dir=cache_dir)
