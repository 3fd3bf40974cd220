"""Fit the (-1, 1) input/target scaler on training windows only.

Unknown sales (closed, no row, zero sales) are NaN in the raw inputs, so they never enter a range.
Deviation-like channels are heavy-tailed (a half-closed day is a log deviation of -3), so their
range is the [TAIL, 1 - TAIL] quantile range and values beyond it are clipped; every other channel
(flags, calendar, distances, levels) uses its min and max.
"""

import numpy as np

from rossmann_core.features.sequences import FUTURE_CHANNELS, PAST_CHANNELS, STATIC_FEATURES, SequenceInputs
from rossmann_core.models.lstm_runtime import ChannelRange, SequenceScaler

TAIL = 0.001
MAX_SAMPLE = 2_000_000
"""Quantiles are taken on at most this many values per channel (evenly spaced rows)."""


def is_robust(name: str) -> bool:
    """Channels whose range comes from quantiles."""
    return "dev" in name or "lift" in name


def fit_range(values: np.ndarray, names: tuple[str, ...]) -> ChannelRange:
    """Ranges of ``values`` (..., n_channels), ignoring NaN."""
    flat = values.reshape(-1, values.shape[-1])
    step = max(1, len(flat) // MAX_SAMPLE)
    lo, hi = np.empty(len(names)), np.empty(len(names))
    for i, name in enumerate(names):
        column = flat[::step, i].astype(np.float64) if is_robust(name) else flat[:, i].astype(np.float64)
        column = column[np.isfinite(column)]
        if column.size == 0:
            lo[i] = hi[i] = 0.0
        elif is_robust(name):
            lo[i], hi[i] = np.quantile(column, [TAIL, 1 - TAIL])
        else:
            lo[i], hi[i] = column.min(), column.max()
    return ChannelRange(names, lo, hi)


def fit_scaler(inputs: SequenceInputs) -> SequenceScaler:
    """The scaler of the training windows' inputs (the target shares the past sales_dev range)."""
    return SequenceScaler(
        past=fit_range(inputs.past, PAST_CHANNELS),
        future=fit_range(inputs.future, FUTURE_CHANNELS),
        static=fit_range(inputs.static, STATIC_FEATURES),
    )
