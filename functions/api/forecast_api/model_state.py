"""The model version this container serves: loaded on first use, then kept for the container's life.

Any failure to load (missing setting, unreadable registry, a file whose sha256 differs from the
manifest) is logged once per attempt and raised as :class:`ModelUnavailableError`, answered 503;
the next request tries again.
"""

import contextlib
import logging
import threading
import time
from typing import Any

from rossmann_core.models.registry import RegistryError, list_versions, load_from_registry, read_json
from rossmann_core.models.version import MANIFEST_FILE, ArtifactIntegrityError
from rossmann_core.serving.servable import IncompatibleModelError, Servable, prepare
from rossmann_core.serving.settings import ServingSettings, SettingsError, serving_settings

log = logging.getLogger("forecast_api.model")

_lock = threading.Lock()
_servable: Servable | None = None
_manifests: dict[tuple[str, str], dict[str, Any]] = {}


class ModelUnavailableError(RuntimeError):
    """No model version can be served; the message says why."""


def settings() -> ServingSettings:
    try:
        return serving_settings()
    except SettingsError as error:
        log.error("model settings are incomplete: %s", error, extra={"event": "settings_error"})
        raise ModelUnavailableError(str(error)) from None


def _load() -> Servable:
    config = settings()
    started = time.perf_counter()
    try:
        version = load_from_registry(config.registry, config.version, config.cache_dir)
    except ArtifactIntegrityError as error:
        log.error("refusing model: integrity check failed: %s", error, extra={"event": "integrity_error"})
        raise ModelUnavailableError(f"the model version failed its integrity check: {error}") from None
    except RegistryError as error:
        log.error("cannot read model registry: %s", error, extra={"event": "registry_error"})
        raise ModelUnavailableError(str(error)) from None
    except Exception as error:
        log.exception("cannot load model from %s", config.registry, extra={"event": "model_load_error"})
        raise ModelUnavailableError(f"the model cannot be loaded ({type(error).__name__})") from None
    try:
        servable = prepare(version)
    except IncompatibleModelError as error:
        log.error("refusing model: %s", error, extra={"event": "incompatible_model"})
        raise ModelUnavailableError(str(error)) from None
    log.info(
        "serving model version %s (%s) from %s", version.version, ", ".join(version.models), config.registry,
        extra={"event": "model_loaded", "load_seconds": round(time.perf_counter() - started, 3)},
    )
    return servable


def get_servable() -> Servable:
    """The loaded model, loading it on first use (thread-safe for uvicorn's worker threads)."""
    global _servable
    if _servable is None:
        with _lock:
            if _servable is None:
                _servable = _load()
    return _servable


def preload() -> None:
    """Start loading the model in a background thread when the settings are complete.

    Called at import, during Lambda's init phase: onnxruntime releases the GIL while it builds the
    forest, so the load overlaps the web framework's imports. A failure is logged by the thread and
    the first request tries again and answers 503 with the reason.
    """
    try:
        serving_settings()
    except SettingsError:
        return

    def load() -> None:
        with contextlib.suppress(ModelUnavailableError):
            get_servable()

    threading.Thread(target=load, name="model-preload", daemon=True).start()


def loaded_version() -> str | None:
    """Name of the version in memory, None before the first successful load."""
    return None if _servable is None else _servable.version.version


def registry_manifests() -> list[dict[str, Any]]:
    """Manifests of every complete version in the registry, oldest first (immutable, so cached).

    A version folder without a readable manifest (an upload in progress) is skipped.
    """
    registry = settings().registry
    try:
        names = list_versions(registry)
        for name in names:
            if (registry, name) not in _manifests:
                try:
                    _manifests[registry, name] = read_json(registry, name, MANIFEST_FILE)
                except RegistryError as error:
                    log.warning("skipping version %s: %s", name, error, extra={"event": "incomplete_version"})
    except Exception as error:
        log.exception("cannot list model registry %s", registry, extra={"event": "registry_error"})
        raise ModelUnavailableError(f"the model registry cannot be read ({type(error).__name__})") from None
    return [_manifests[registry, name] for name in names if (registry, name) in _manifests]


def reset() -> None:
    """Forget the loaded model and cached manifests (tests; a new registry setting)."""
    global _servable
    with _lock:
        _servable = None
        _manifests.clear()
