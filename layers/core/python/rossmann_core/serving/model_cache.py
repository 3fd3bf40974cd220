"""The model a warm Lambda container keeps, shared by both handlers.

A version is fetched from the registry, its files verified against the manifest's sha256 and its
manifest validated (which refuses a model built for other features) by
:func:`~rossmann_core.models.registry.load_from_registry`, then turned into what the handler serves
by its ``prepare`` function, once per version. The API keeps the first version it loads for the
container's life; the batch asks again each run, so a newly published ``latest.json`` is picked up
without a restart (and the version in memory is reused while it stays the latest).
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from rossmann_core.models.registry import latest_version, load_from_registry
from rossmann_core.models.version import ModelVersion
from rossmann_core.serving.settings import ModelSettings

log = logging.getLogger(__name__)

Prepared = TypeVar("Prepared")


class ModelCache(Generic[Prepared]):
    """``prepare(version)`` of one model version per process, keyed by registry and version name."""

    def __init__(self, prepare: Callable[[ModelVersion], Prepared]) -> None:
        self._prepare = prepare
        self._lock = threading.Lock()
        self._key: tuple[str, str] | None = None
        self._value: Prepared | None = None

    @property
    def loaded(self) -> Prepared | None:
        """What is in memory, None before the first successful load."""
        return self._value

    def get(self, settings: ModelSettings, follow_latest: bool) -> Prepared:
        """The pinned version, else the registry's latest: re-read from ``latest.json`` on every call when
        ``follow_latest``, else only until a version is in memory. Raises the errors of loading
        (:class:`~rossmann_core.errors.ModelError` for a registry, integrity or manifest problem)."""
        with self._lock:
            if self._value is not None and not follow_latest and self._holds(settings):
                return self._value
            key = (settings.registry, settings.version or latest_version(settings.registry))
            if key != self._key or self._value is None:
                started = time.perf_counter()
                version = load_from_registry(settings.registry, key[1], settings.cache_dir)
                self._value, self._key = self._prepare(version), key
                log.info(
                    "model version %s loaded from %s", key[1], key[0],
                    extra={"event": "model_loaded", "model_version": key[1],
                           "load_seconds": round(time.perf_counter() - started, 3)},
                )
            return self._value

    def _holds(self, settings: ModelSettings) -> bool:
        """Whether the version in memory came from ``settings``' registry and matches its pin, if any."""
        return self._key is not None and self._key[0] == settings.registry and settings.version in (None, self._key[1])

    def clear(self) -> None:
        """Forget the model in memory (tests; a new registry setting)."""
        with self._lock:
            self._key, self._value = None, None
