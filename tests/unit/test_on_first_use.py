"""OnFirstUse: values built once, on first read, also when threads read at once."""

import threading
import time

import pytest

from rossmann_core.models.on_first_use import OnFirstUse


def test_each_value_is_built_once_on_first_read_and_names_build_nothing() -> None:
    calls: list[str] = []

    def builder(name: str):
        def build() -> str:
            calls.append(name)
            time.sleep(0.01)
            return name.upper()
        return build

    values = OnFirstUse({"rf": builder("rf"), "lstm": builder("lstm")})
    assert "rf" in values and "hgb" not in values and list(values) == ["rf", "lstm"] and len(values) == 2
    assert calls == [] and values.built == ()
    readers = [threading.Thread(target=lambda: values["lstm"]) for _ in range(8)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert calls == ["lstm"] and values.built == ("lstm",) and values["lstm"] == "LSTM"
    with pytest.raises(KeyError):
        values["hgb"]


def test_a_failed_build_is_raised_and_tried_again_on_the_next_read() -> None:
    attempts = []

    def flaky() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("first read fails")
        return 7

    values = OnFirstUse({"x": flaky})
    with pytest.raises(OSError, match="first read fails"):
        values["x"]
    assert values.built == () and values["x"] == 7 and len(attempts) == 2
