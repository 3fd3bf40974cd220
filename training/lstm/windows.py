"""Which (store, origin) windows train and calibrate the LSTM, and their targets.

For a last training day T (= cutoff - 42): training origins step back from T - 42 by
``origin_stride_days`` (a stride coprime with 7 gives every origin weekday), so every training target
day is <= T; the calibration windows have origin T and targets T+1..cutoff.
"""

from dataclasses import dataclass

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.errors import DataRangeError
from rossmann_core.features.sequences import STATIC_FEATURES, SequenceBuilder, SequenceInputs

CHUNK_WINDOWS = 20_000
"""Windows built per call, to bound the float64 temporaries."""


@dataclass(frozen=True)
class Windows:
    """Unscaled inputs of n windows and their targets: log sales minus base, (n, HORIZON_DAYS) float32,
    NaN where the day is not scored (closed, unknown, zero sales)."""

    inputs: SequenceInputs
    target: np.ndarray
    origin: np.ndarray  # int64 (n,) panel day index

    def __len__(self) -> int:
        return len(self.origin)


def training_origins(last_train_day: int, lookback_days: int, stride: int) -> np.ndarray:
    """Origins last_train_day - HORIZON_DAYS, then every ``stride`` days back while a full lookback fits."""
    first = lookback_days - 1
    latest = last_train_day - HORIZON_DAYS
    if latest < first:
        raise DataRangeError(f"need at least {lookback_days + 2 * HORIZON_DAYS} days of history to train the LSTM")
    return np.arange(latest, first - 1, -stride)[::-1]


def targets(builder: SequenceBuilder, store: np.ndarray, origin: np.ndarray, base: np.ndarray) -> np.ndarray:
    """log sales of days origin+1..origin+HORIZON_DAYS minus their ``base`` (n, HORIZON_DAYS); float32, NaN unscored."""
    days = origin[:, None] + np.arange(1, HORIZON_DAYS + 1)
    return (builder.log_sales(store, days) - base).astype(np.float32)


def build_windows(
    builder: SequenceBuilder, store: np.ndarray, origin: np.ndarray, min_known_share: float | None = None
) -> Windows:
    """Inputs and targets of the (store row, origin) pairs, built in chunks; with ``min_known_share``
    only the :func:`trainable` windows are kept (filtered chunk by chunk to bound memory)."""
    parts = []
    for lo in range(0, len(store), CHUNK_WINDOWS):
        s, o = store[lo : lo + CHUNK_WINDOWS], origin[lo : lo + CHUNK_WINDOWS]
        inputs = builder.build(s, o)
        part = Windows(inputs, targets(builder, s, o, inputs.base), o)
        parts.append(part if min_known_share is None else subset(part, trainable(part, min_known_share)))
    inputs = SequenceInputs(**{
        name: np.concatenate([getattr(p.inputs, name) for p in parts]) for name in SequenceInputs.__dataclass_fields__
    })
    return Windows(inputs, np.concatenate([p.target for p in parts]), np.concatenate([p.origin for p in parts]))


def all_stores(n_stores: int, origins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(store row, origin) pairs of every store at every origin, origin-major."""
    return np.tile(np.arange(n_stores), len(origins)), np.repeat(origins, n_stores)


def trainable(windows: Windows, min_known_share: float) -> np.ndarray:
    """Mask of windows with enough valid lookback days and at least one scored target day."""
    known_share = windows.inputs.static[:, STATIC_FEATURES.index("known_share")]
    return (known_share >= min_known_share) & np.isfinite(windows.target).any(axis=1)


def subset(windows: Windows, keep: np.ndarray | slice) -> Windows:
    """The windows selected by a mask, index array or slice."""
    inputs = SequenceInputs(**{
        name: getattr(windows.inputs, name)[keep] for name in SequenceInputs.__dataclass_fields__
    })
    return Windows(inputs, windows.target[keep], windows.origin[keep])
