"""What a store-day without a row most likely was: open or closed.

A day without a row is unknown, not closed: a late region's newest day or a day lost in a feed would otherwise
count as a closure, and features built on closures (days since and until the store was closed) would move the
forecasts of the days after it (issue 25). An unknown day counts as the store's Open on the nearest known day of the
same weekday before it that was not a state holiday (its weekly habit: a store closed on New Year's Day is not closed
the Thursday after), closed when there is none. A run of more than REFURBISHMENT_RUN_DAYS
unknown days stays closed: in the Kaggle data such runs are stores closed for refurbishment (180 stores,
2014-07-01..2014-12-31), and the days after them behave like reopenings.
"""

import numpy as np

REFURBISHMENT_RUN_DAYS = 14
"""Longest run of unknown days that counts as the store's weekly habit; longer runs count as closed."""

WEEK_DAYS = 7


def unknown_run_lengths(unknown: np.ndarray) -> np.ndarray:
    """(n_stores, n_days) int64: the length of the run of consecutive True days each True day of ``unknown``
    belongs to (along axis 1), 0 on False days."""
    n_stores, n_days = unknown.shape
    padded = np.zeros((n_stores, n_days + 2), dtype=np.int8)
    padded[:, 1:-1] = unknown
    step = np.diff(padded, axis=1)
    start_rows, start_cols = np.nonzero(step == 1)
    _, end_cols = np.nonzero(step == -1)
    lengths = end_cols - start_cols
    lengths_of_cells = np.zeros((n_stores, n_days), dtype=np.int64)
    rows = np.repeat(start_rows, lengths)
    cols = np.repeat(start_cols, lengths) + np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths,
                                                                                  lengths)
    lengths_of_cells[rows, cols] = np.repeat(lengths, lengths)
    return lengths_of_cells


def weekly_habit(open_flags: np.ndarray, state_holiday: np.ndarray) -> np.ndarray:
    """(n_stores, n_days) bool: whether the store was open on the nearest known day of the same weekday at or
    before each day that was not a state holiday (False when there is none); ``open_flags`` and ``state_holiday``
    int8 (n_stores, n_days), -1 where unknown."""
    habit = np.zeros(open_flags.shape, dtype=bool)
    ordinary = (open_flags >= 0) & (state_holiday == 0)
    for first in range(min(WEEK_DAYS, open_flags.shape[1])):
        same_weekday = open_flags[:, first::WEEK_DAYS]
        known = ordinary[:, first::WEEK_DAYS]
        positions = np.where(known, np.arange(same_weekday.shape[1]), -1)
        latest = np.maximum.accumulate(positions, axis=1)
        rows = np.arange(len(same_weekday))[:, None]
        habit[:, first::WEEK_DAYS] = (latest >= 0) & (same_weekday[rows, np.maximum(latest, 0)] == 1)
    return habit


def likely_open(open_flags: np.ndarray, state_holiday: np.ndarray) -> np.ndarray:
    """(n_stores, n_days) bool: Open == 1 on known days; on unknown days (-1) the store's weekly habit, or closed
    inside a run of more than REFURBISHMENT_RUN_DAYS unknown days. Arrays as :func:`weekly_habit`'s."""
    unknown = open_flags < 0
    habit_counts = unknown & (unknown_run_lengths(unknown) <= REFURBISHMENT_RUN_DAYS)
    return np.where(habit_counts, weekly_habit(open_flags, state_holiday), open_flags == 1)
