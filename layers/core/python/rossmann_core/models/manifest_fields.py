"""Typed reads of one JSON object of a manifest, each failing with the key path and the version.

:class:`Fields` wraps the object at ``path`` (e.g. ``models.lstm.interval``) of the manifest of
``version``; a missing key or a value of the wrong type raises one
:class:`~rossmann_core.errors.ManifestError` such as ``manifest of version 20260101T000000Z:
models.lstm.interval.lower_log is missing (in .../manifest.json)``.
"""

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from rossmann_core.errors import ManifestError


def frozen(value: Any) -> Any:
    """A read-only copy of a JSON value: objects become mapping proxies, arrays tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: frozen(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(frozen(item) for item in value)
    return value


def plain(value: Any) -> Any:
    """The JSON value of :func:`frozen` output: dicts and lists again."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def differences(found: Sequence[str], expected: Sequence[str], shown: int = 5) -> str:
    """Names in only one of the two sequences (at most ``shown``), or "their order"."""
    changed = sorted(set(found) ^ set(expected)) or ["their order"]
    return ", ".join(changed[:shown])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


class Fields:
    """The JSON object at ``path`` of the manifest of ``version``, read from ``source``."""

    def __init__(self, raw: Any, path: str, version: str, source: str) -> None:
        self.path, self.version, self.source = path, version, source
        if not isinstance(raw, Mapping):
            raise self.error("", f"must be a JSON object, got {_shown(raw)}")
        self.raw: Mapping[str, Any] = raw

    def where(self, key: str) -> str:
        return ".".join(part for part in (self.path, key) if part) or "the manifest"

    def error(self, key: str, reason: str) -> ManifestError:
        """The error for ``key`` of this object (``""``: the object itself)."""
        where = self.where(key)
        return ManifestError(f"manifest of version {self.version}: {where} {reason} (in {self.source})")

    def value(self, key: str) -> Any:
        if key not in self.raw:
            raise self.error(key, "is missing")
        return self.raw[key]

    def text(self, key: str) -> str:
        value = self.value(key)
        if not isinstance(value, str) or not value:
            raise self.error(key, f"must be a non-empty string, got {_shown(value)}")
        return value

    def integer(self, key: str, minimum: int = 1) -> int:
        value = self.value(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self.error(key, f"must be an integer >= {minimum}, got {_shown(value)}")
        return value

    def number(self, key: str, positive: bool = False) -> float:
        """A finite number (> 0 when ``positive``), as float."""
        value = self.value(key)
        if not _is_number(value) or not math.isfinite(value) or (positive and value <= 0):
            raise self.error(key, f"must be a finite {'positive ' if positive else ''}number, got {_shown(value)}")
        return float(value)

    def array(self, key: str, length: int | None = None) -> list[Any]:
        value = self.value(key)
        if not isinstance(value, list | tuple) or not value:
            raise self.error(key, f"must be a non-empty array, got {_shown(value)}")
        if length is not None and len(value) != length:
            raise self.error(key, f"must hold {length} values, got {len(value)}")
        return list(value)

    def numbers(self, key: str, length: int | None = None, finite: bool = True) -> tuple[float, ...]:
        """A non-empty array of numbers (finite unless ``finite`` is False), as floats."""
        values = self.array(key, length)
        for i, value in enumerate(values):
            if not _is_number(value) or (finite and not math.isfinite(value)):
                raise self.error(f"{key}[{i}]", f"must be a {'finite ' if finite else ''}number, got {_shown(value)}")
        return tuple(float(value) for value in values)

    def integers(self, key: str) -> tuple[int, ...]:
        values = self.array(key)
        for i, value in enumerate(values):
            if not isinstance(value, int) or isinstance(value, bool):
                raise self.error(f"{key}[{i}]", f"must be an integer, got {_shown(value)}")
        return tuple(values)

    def texts(self, key: str) -> tuple[str, ...]:
        values = self.array(key)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise self.error(f"{key}[{i}]", f"must be a string, got {_shown(value)}")
        return tuple(values)

    def child(self, key: str) -> "Fields":
        """The object under ``key``."""
        return Fields(self.value(key), self.where(key), self.version, self.source)

    def children(self, key: str) -> dict[str, "Fields"]:
        """The objects under each key of the object under ``key`` (which must not be empty)."""
        parent = self.child(key)
        if not parent.raw:
            raise self.error(key, "must not be empty")
        return {name: parent.child(name) for name in parent.raw}

    def rest(self, *typed: str) -> Mapping[str, Any]:
        """Every key but ``typed``, read-only and as written."""
        return frozen({key: value for key, value in self.raw.items() if key not in typed})
