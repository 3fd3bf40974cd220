"""Serving side of the LSTM: (-1, 1) scaling with the manifest's parameters, ONNX feed, log sales out.

Training fits the ranges (``training.lstm.scaling``) and stores them in the manifest; this module only
applies them, with numpy, so training and serving scale identically. The manifest's LSTM block is
parsed and checked against this code's channels by :mod:`rossmann_core.models.manifest`, at load.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import Panel
from rossmann_core.data.stores import StoreTable
from rossmann_core.features.history import OriginStats
from rossmann_core.features.sequences import (
    OUTPUT_NAME,
    PAST_CHANNELS,
    SequenceBuilder,
    SequenceInputs,
)

TARGET_CHANNEL = "sales_dev"
"""The past channel whose range also scales the target (log sales minus base)."""


class Session(Protocol):
    def run(self, output_names: list[str] | None, feed: dict[str, np.ndarray]) -> list[np.ndarray]: ...


@dataclass(frozen=True)
class ChannelRange:
    """Per-channel range mapped linearly onto (-1, 1); ``lo``/``hi`` float64 (n_channels,)."""

    names: tuple[str, ...]
    lo: np.ndarray
    hi: np.ndarray

    def _span(self) -> np.ndarray:
        return np.where(self.hi > self.lo, self.hi - self.lo, 1.0)

    def scale(self, values: np.ndarray, nan_to: float | None = 0.0) -> np.ndarray:
        """``values`` (..., n_channels) to [-1, 1] (clipped), float32; constant channels give 0."""
        scaled = np.clip(2.0 * (values - self.lo) / self._span() - 1.0, -1.0, 1.0)
        scaled = np.where(self.hi > self.lo, scaled, 0.0)
        if nan_to is not None:
            scaled = np.nan_to_num(scaled, nan=nan_to)
        return scaled.astype(np.float32)

    def unscale(self, scaled: np.ndarray, channel: str) -> np.ndarray:
        """Inverse of :meth:`scale` for one channel (no clipping), float64."""
        i = self.names.index(channel)
        return (np.asarray(scaled, dtype=np.float64) + 1.0) / 2.0 * self._span()[i] + self.lo[i]

    def to_manifest(self) -> dict[str, list]:
        return {"channels": list(self.names), "lo": self.lo.tolist(), "hi": self.hi.tolist()}


@dataclass(frozen=True)
class SequenceScaler:
    """Ranges of the three float inputs; the target shares the past ``sales_dev`` range."""

    past: ChannelRange
    future: ChannelRange
    static: ChannelRange

    def feed(self, inputs: SequenceInputs) -> dict[str, np.ndarray]:
        """ONNX feed: past packed to (n, weeks, 7 * channels), future, static (float32), store, calendar (int32)."""
        past = self.past.scale(inputs.past)
        n, days, channels = past.shape
        return {
            "past": past.reshape(n, days // 7, 7 * channels),
            "future": self.future.scale(inputs.future),
            "static": self.static.scale(inputs.static),
            "store": inputs.store,
            "calendar": inputs.calendar,
        }

    def scale_target(self, deviation: np.ndarray) -> np.ndarray:
        """log deviations (n, HORIZON_DAYS) to the model's output scale; NaN stays NaN."""
        i = PAST_CHANNELS.index(TARGET_CHANNEL)
        one = ChannelRange((TARGET_CHANNEL,), self.past.lo[i : i + 1], self.past.hi[i : i + 1])
        return one.scale(deviation[..., None], nan_to=None)[..., 0]

    def unscale_target(self, output: np.ndarray) -> np.ndarray:
        """Model output (n, HORIZON_DAYS) back to log deviations, float64."""
        return self.past.unscale(output, TARGET_CHANNEL)

    def to_manifest(self) -> dict[str, Any]:
        return {"past": self.past.to_manifest(), "future": self.future.to_manifest(),
                "static": self.static.to_manifest()}


@dataclass(frozen=True)
class SequenceSpec:
    """How a trained LSTM reads its inputs: weeks of history, its embedding's store order, the input ranges."""

    lookback_weeks: int
    embedding_store_ids: tuple[int, ...]
    scaler: SequenceScaler

    def builder(
        self, panel: Panel, stores: StoreTable, stats: Mapping[int, OriginStats] | None = None
    ) -> SequenceBuilder:
        """Window builder for ``panel`` (``stats``: its origin statistics computed elsewhere, by origin): store rows
        map to embedding indices by store id."""
        return SequenceBuilder(panel, stores, self.lookback_weeks, np.asarray(self.embedding_store_ids), stats)

    def to_manifest(self) -> dict[str, Any]:
        """The LSTM entry's ``lookback_weeks``, ``embedding_store_ids`` and ``scaler`` keys."""
        return {"lookback_weeks": self.lookback_weeks, "embedding_store_ids": list(self.embedding_store_ids),
                "scaler": self.scaler.to_manifest()}


def predict_log_sales(
    session: Session, spec: SequenceSpec, panel: Panel, stores: StoreTable, store_rows: np.ndarray, origin: int,
    stats: OriginStats | None = None,
) -> np.ndarray:
    """Uncorrected log sales of days origin+1..origin+HORIZON_DAYS, float64 (len(store_rows), HORIZON_DAYS);
    ``stats``: the panel's origin statistics at ``origin`` if already computed."""
    inputs = spec.builder(panel, stores, None if stats is None else {origin: stats}).build(
        store_rows, np.full(len(store_rows), origin)
    )
    scaler = spec.scaler
    output = session.run([OUTPUT_NAME], scaler.feed(inputs))[0]
    if output.shape != (len(store_rows), HORIZON_DAYS):
        raise ValueError(f"LSTM output has shape {output.shape}, expected ({len(store_rows)}, {HORIZON_DAYS})")
    return inputs.base + scaler.unscale_target(output)
