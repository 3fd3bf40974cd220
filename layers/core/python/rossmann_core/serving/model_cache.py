"""The model a warm Lambda container keeps, shared by both handlers.

A version is fetched from the registry, its files verified against the manifest's sha256 and its
manifest validated (which refuses a model built for other features) by
:func:`~rossmann_core.models.registry.load_from_registry`, then turned into what the handler serves
by its ``prepare`` function, once per version. The API keeps the first version it loads for the
container's life; the batch asks again each run, so a newly published ``latest.json`` is picked up
without a restart (and the version in memory is reused while it stays the latest).

The API serves through :class:`ServableCache`: that version plus the newest usable history state
the nightly batch published (:mod:`.history_state`), checked again at most every
``STATE_REFRESH_SECONDS``.
"""

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Generic, TypeVar

from rossmann_core.models.registry import latest_version, load_from_registry
from rossmann_core.models.version import ModelVersion
from rossmann_core.serving.history_state import (
    StaleStateError,
    StatePointer,
    StateRejectedError,
    StateUnavailableError,
    load_state,
    read_pointer,
)
from rossmann_core.serving.servable import Servable, prepare
from rossmann_core.serving.settings import ModelSettings, StateSettings
from rossmann_core.storage import s3_client

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
                version = load_from_registry(settings.registry, key[1], settings.cache_dir, settings.onnx_threads)
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


class ServableCache:
    """The API's :class:`Servable`: one model version (kept for the container's life) and the newest usable
    history state, the pointer checked at most every ``refresh_seconds`` (one small GET).

    A newer state is fetched, verified and prepared whole, then swapped in with one assignment; a
    request takes the Servable once, so it never mixes two states. A state that cannot be used
    (unreadable, corrupt, not for this model, older than it) leaves the last good one serving, or the
    model's own before any, logged with the reason and said in ``Servable.note``. A refused or unreadable
    state is tried again at the next check (so a repaired object is picked up) and logged again while it
    stays bad; a pointer to a state older than the model (known from the pointer alone) is not.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._versions: ModelCache[ModelVersion] = ModelCache(lambda version: version)
        self._lock = threading.Lock()
        self._current: Servable | None = None
        self._checked_at = -math.inf
        self._seen: StatePointer | None = None

    @property
    def loaded(self) -> Servable | None:
        """What is served now, None before the first successful load."""
        return self._current

    def get(self, models: ModelSettings, states: StateSettings | None) -> Servable:
        """The Servable to answer one request with. Raises the model's loading errors before a first load;
        never a state's (the model's own state serves instead)."""
        current = self._current
        if current is not None and (states is None or self._clock() - self._checked_at < states.refresh_seconds):
            return current
        if current is not None and not self._lock.acquire(blocking=False):
            return current  # another thread is checking: keep answering from what is served
        if current is None:
            self._lock.acquire()
        try:
            if self._current is not current and self._current is not None:
                return self._current  # loaded by another thread meanwhile
            version = self._versions.get(models, follow_latest=False)
            if current is not None and current.version is not version:
                current, self._seen = None, None
            self._current = self._refresh(version, states, current)
            return self._current
        finally:
            self._lock.release()

    def _refresh(self, version: ModelVersion, states: StateSettings | None, current: Servable | None) -> Servable:
        """The Servable after one look at the pointer (``current`` if nothing newer can be served)."""
        if states is None:
            return current or prepare(version)
        self._checked_at = self._clock()
        try:
            client = s3_client()
            pointer = read_pointer(client, states.bucket, states.prefix)
            if pointer is None:
                if current is None:
                    log.info("no history state published in s3://%s/%s yet: the model's own state serves",
                             states.bucket, states.prefix, extra={"event": "state_not_published"})
                self._seen = None
                return _without_note(current) or prepare(version)
            if pointer == self._seen and current is not None:
                return current  # what it serves (and its note) already reflects this pointer
            state = load_state(client, states.bucket, pointer, version)
        except StaleStateError as error:
            return self._keep(version, current, pointer, f"{error}: the model's own state is newer", logging.WARNING,
                              "state_stale")
        except StateRejectedError as error:
            return self._keep(version, current, None, str(error), logging.ERROR, "state_rejected", degraded=True)
        except StateUnavailableError as error:
            return self._keep(version, current, None, str(error), logging.WARNING, "state_unavailable", degraded=True)
        started = self._clock()
        servable = prepare(version, state)
        self._seen = pointer
        log.info(
            "serving the history of nightly run %s (origin %s) with model version %s", pointer.run_date,
            state.origin, version.name,
            extra={"event": "state_loaded", "run_date": str(pointer.run_date), "origin": str(state.origin),
                   "sha256": pointer.sha256, "model_version": version.name,
                   "prepare_seconds": round(self._clock() - started, 3)},
        )
        return servable

    def _keep(self, version: ModelVersion, current: Servable | None, seen: StatePointer | None, reason: str,
              level: int, event: str, degraded: bool = False) -> Servable:
        """``current`` (else the model's own state) with ``reason`` as its note, logged at ``level``; ``seen``
        is the pointer not to look at again while it stays the same (None: try again at the next check);
        ``degraded`` when what serves is older than the published state it could not use."""
        self._seen = seen
        kept = current or prepare(version)
        what = f"the history of nightly run {kept.state.run_date}" if kept.state.run_date else "the model's own state"
        log.log(level, "history state not used: %s; serving %s", reason, what,
                extra={"event": event, "reason": reason, "origin": str(kept.origin), "model_version": version.name})
        return replace(kept, note=reason, degraded=degraded)

    def clear(self) -> None:
        """Forget the model and state in memory (tests; a new registry setting)."""
        with self._lock:
            self._versions.clear()
            self._current, self._seen, self._checked_at = None, None, -math.inf


def _without_note(servable: Servable | None) -> Servable | None:
    """``servable`` once what it serves is again the newest usable state (a refused newer one is gone)."""
    return servable if servable is None or servable.note is None else replace(servable, note=None, degraded=False)
