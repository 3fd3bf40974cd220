"""A read-only mapping whose values are built on first access: what a cold start does not need waits for its use."""

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TypeVar

Value = TypeVar("Value")


class OnFirstUse(Mapping[str, Value]):
    """Values by name, each made by its builder the first time it is read (once, also under threads), then kept.
    Membership and iteration read only the names: they build nothing."""

    def __init__(self, builders: Mapping[str, Callable[[], Value]]) -> None:
        self._builders = dict(builders)
        self._built: dict[str, Value] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Value:
        if name in self._built:
            return self._built[name]
        builder = self._builders[name]
        with self._lock:
            if name not in self._built:
                self._built[name] = builder()
        return self._built[name]

    def __contains__(self, name: object) -> bool:
        return name in self._builders

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)

    @property
    def built(self) -> tuple[str, ...]:
        """Names whose values exist so far, in build order."""
        return tuple(self._built)
