"""A day without a row counts as what it most likely was: the store's weekly habit, closed in a refurbishment."""

import numpy as np

from rossmann_core.data.unknown_days import REFURBISHMENT_RUN_DAYS, likely_open, unknown_run_lengths

U = -1


def ordinary(flags: np.ndarray) -> np.ndarray:
    """No state holiday on known days, unknown where the row is missing."""
    return np.where(flags >= 0, 0, U).astype(np.int8)


def test_run_lengths_are_counted_per_store_and_run() -> None:
    unknown = np.array([[1, 1, 0, 1, 0], [0, 0, 0, 0, 1]], dtype=bool)
    assert unknown_run_lengths(unknown).tolist() == [[2, 2, 0, 1, 0], [0, 0, 0, 0, 1]]


def test_an_unknown_day_takes_the_same_weekday_a_week_earlier() -> None:
    # GIVEN a store open Monday-Saturday, closed Sundays, whose newest Monday and a Sunday have no row
    week = [1, 1, 1, 1, 1, 1, 0]
    flags = np.array([week * 2 + [U, 1, 1, 1, 1, 1, U]], dtype=np.int8)
    # THEN the Monday counts as open and the Sunday as closed, known days as they are
    assert likely_open(flags, ordinary(flags))[0].tolist() == [bool(v) for v in week * 3]


def test_a_day_with_no_earlier_same_weekday_counts_as_closed() -> None:
    flags = np.array([[U, 1, 1, 1, 1, 1, 1, 1]], dtype=np.int8)
    assert likely_open(flags, ordinary(flags))[0].tolist() == [False] + [True] * 7


def test_a_long_run_of_unknown_days_is_a_refurbishment_and_counts_as_closed() -> None:
    # GIVEN an always-open store with a run of REFURBISHMENT_RUN_DAYS unknown days and one a day longer
    short = np.array([[1] * 7 + [U] * REFURBISHMENT_RUN_DAYS + [1] * 7], dtype=np.int8)
    long = np.array([[1] * 7 + [U] * (REFURBISHMENT_RUN_DAYS + 1) + [1] * 7], dtype=np.int8)
    # THEN the short gap is open as usual, the long one closed
    assert likely_open(short, ordinary(short)).all()
    assert not likely_open(long, ordinary(long))[0, 7 : 7 + REFURBISHMENT_RUN_DAYS + 1].any()
    assert likely_open(long, ordinary(long))[0, -7:].all()


def test_a_state_holiday_a_week_earlier_does_not_set_the_habit() -> None:
    # GIVEN an always-open store closed on a state holiday the same weekday a week before its unknown day
    flags = np.array([[1] * 7 + [0] + [1] * 6 + [U]], dtype=np.int8)
    holidays = ordinary(flags)
    holidays[0, 7] = 1
    # THEN the unknown day counts as open (the ordinary week before the holiday), not closed like the holiday
    assert likely_open(flags, holidays)[0, -1]
    assert not likely_open(flags, ordinary(flags))[0, -1]
