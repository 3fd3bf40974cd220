"""What this container serves: a model version, loaded on first use and kept for the container's life,
and the history it forecasts from, the newest state the nightly batch published (checked at most
every STATE_REFRESH_SECONDS, switched atomically), else the model's own.

Loading goes through the shared :class:`~rossmann_core.serving.model_cache.ServableCache` (whose
model cache the batch uses too). Any failure to load the model (missing setting, unreadable registry,
a file whose sha256 differs from the manifest, a model built for other features) is logged once per
attempt and raised as :class:`ModelUnavailableError`, answered 503; the next request tries again. A
history state that cannot be used never fails a request: the last good one (or the model's) serves.
"""

import contextlib
import logging
import os
import threading

from rossmann_core.errors import (
    ArtifactIntegrityError,
    ManifestError,
    ModelError,
    RegistryError,
    RossmannError,
    SettingsError,
)
from rossmann_core.models.manifest import Manifest
from rossmann_core.models.registry import list_versions, object_name, read_json
from rossmann_core.models.version import MANIFEST_FILE
from rossmann_core.serving.model_cache import ServableCache
from rossmann_core.serving.servable import Servable
from rossmann_core.serving.settings import ModelSettings, StateSettings, model_settings, state_settings
from rossmann_core.storage import s3_client

log = logging.getLogger("forecast_api.model")

INITIALIZATION_TYPE_ENV = "AWS_LAMBDA_INITIALIZATION_TYPE"
SNAP_START = "snap-start"

_cache = ServableCache()
_manifests: dict[tuple[str, str], Manifest] = {}


class ModelUnavailableError(RossmannError):
    """No model version can be served; the message says why."""


def settings() -> ModelSettings:
    try:
        return model_settings()
    except SettingsError as error:
        log.error("model settings are incomplete: %s", error, extra={"event": "settings_error"})
        raise ModelUnavailableError(str(error)) from None


def history_settings() -> StateSettings | None:
    try:
        return state_settings()
    except SettingsError as error:
        log.error("history state settings are malformed: %s", error, extra={"event": "settings_error"})
        raise ModelUnavailableError(str(error)) from None


def get_servable() -> Servable:
    """The model and history to answer one request with, loading them on first use (thread-safe for
    uvicorn's worker threads); take it once per request."""
    config = settings()
    try:
        return _cache.get(config, history_settings())
    except ArtifactIntegrityError as error:
        log.error("refusing model: integrity check failed: %s", error, extra={"event": "integrity_error"})
        raise ModelUnavailableError(f"the model version failed its integrity check: {error}") from None
    except ModelError as error:
        log.error("refusing model from %s: %s", config.registry, error, extra={"event": "model_error"})
        raise ModelUnavailableError(str(error)) from None
    except Exception as error:
        log.exception("cannot load model from %s", config.registry, extra={"event": "model_load_error"})
        raise ModelUnavailableError(f"the model cannot be loaded ({type(error).__name__})") from None


def preload() -> None:
    """Start loading the model in a background thread when the settings are complete.

    Called at import, during Lambda's init phase: onnxruntime releases the GIL while it builds the
    forest, so the load overlaps the web framework's imports. With a forecast bucket set, a second
    thread builds the S3 client (boto3's import and service model) meanwhile, so reading the history
    state after the model costs only its two GETs (docs/decisions/010-cold-start-gc-and-preload.md). A
    failure is logged by the thread and the first request tries again and answers 503 with the reason.
    Under SnapStart (``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``) the model loads before import returns,
    with what every forecast reads (:meth:`Servable.warm`; docs/decisions/020-snapstart.md), so Lambda's
    snapshot holds them and a restored container answers without loading or computing anything; otherwise
    the first forecast computes those (computed here beside the first request, they would compete with it
    for the CPU).
    """
    try:
        model_settings()
        states = state_settings()
    except SettingsError:
        return

    def load() -> None:
        with contextlib.suppress(ModelUnavailableError):
            get_servable()

    if os.environ.get(INITIALIZATION_TYPE_ENV) == SNAP_START:
        with contextlib.suppress(ModelUnavailableError):
            get_servable().warm()  # the snapshot taken after init then holds the loaded model
        return
    if states is not None:
        threading.Thread(target=s3_client, name="s3-client-preload", daemon=True).start()
    threading.Thread(target=load, name="model-preload", daemon=True).start()


def loaded_version() -> str | None:
    """Name of the version in memory, None before the first successful load."""
    loaded = _cache.loaded
    return None if loaded is None else loaded.version.name


def registry_manifests() -> list[Manifest]:
    """Validated manifests of every complete version in the registry, oldest first (immutable, so cached).

    A version folder without a readable manifest (an upload in progress, a truncated or unreadable object)
    or with one this code cannot serve (:meth:`Manifest.from_dict` fails) is skipped with a warning; only
    a registry that cannot be listed fails the call.
    """
    registry = settings().registry
    try:
        names = list_versions(registry)
        for name in names:
            if (registry, name) not in _manifests:
                try:
                    raw = read_json(registry, name, MANIFEST_FILE)
                    _manifests[registry, name] = Manifest.from_dict(raw, object_name(registry, name, MANIFEST_FILE))
                except RegistryError as error:
                    log.warning("skipping version %s: %s", name, error, extra={"event": "incomplete_version"})
                except ManifestError as error:
                    log.warning("skipping version %s: %s", name, error, extra={"event": "invalid_manifest"})
    except RegistryError as error:
        log.error("cannot list model registry: %s", error, extra={"event": "registry_error"})
        raise ModelUnavailableError(str(error)) from None
    except Exception as error:
        log.exception("cannot list model registry %s", registry, extra={"event": "registry_error"})
        raise ModelUnavailableError(f"the model registry cannot be read ({type(error).__name__})") from None
    return [_manifests[registry, name] for name in names if (registry, name) in _manifests]


def reset() -> None:
    """Forget the loaded model and cached manifests (tests; a new registry setting)."""
    _cache.clear()
    _manifests.clear()
