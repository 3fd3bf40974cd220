"""The data feed's completeness on generated rows: a late region, a missing day and a thin newest day."""

import numpy as np
import pytest

from nightly_batch.completeness import IncompleteFeedError, measure
from rossmann_core.data.daily_csv import DailyRows

STORES = np.arange(1, 21)
LAST = np.datetime64("2015-06-19")


def rows(days: int = 60, drop: tuple[tuple[np.datetime64, np.ndarray], ...] = ()) -> DailyRows:
    """Every store open every day of the ``days`` days up to LAST, without the (day, stores) in ``drop``."""
    dates = LAST - np.arange(days)[::-1].astype("timedelta64[D]")
    store, date = (a.ravel() for a in np.meshgrid(STORES, dates, indexing="ij"))
    keep = np.ones(len(store), bool)
    for day, stores in drop:
        keep &= ~((date == day) & np.isin(store, stores))
    n = int(keep.sum())
    ones = np.ones(n, np.int8)
    return DailyRows("train.csv", store[keep].astype(np.int32), date[keep], np.full(n, 5000), np.full(n, 500), ones,
                     0 * ones, 0 * ones, 0 * ones, np.arange(n) + 2)


def test_a_complete_feed_forecasts_from_its_newest_day() -> None:
    feed = measure(rows(), STORES, 42, 0.1)
    assert (feed.origin, feed.fell_back, len(feed.stores_missing_newest_day)) == (LAST, False, 0)
    assert (feed.history_days, feed.history_days_needed, len(feed.days_without_rows)) == (42, 42, 0)


def test_a_late_region_makes_the_night_fall_back_and_names_the_stores() -> None:
    feed = measure(rows(drop=((LAST, STORES[8:]),)), STORES, 42, 0.1)
    assert (feed.origin, feed.fell_back) == (LAST - 1, True)
    assert feed.stores_missing_newest_day.tolist() == STORES[8:].tolist() and feed.expected_newest_day == 20
    assert feed.to_dict()["stores_missing_newest_day"] == 12


def test_a_small_gap_is_named_but_the_newest_day_is_used() -> None:
    feed = measure(rows(drop=((LAST, STORES[:1]),)), STORES, 42, 0.1)
    assert (feed.origin, feed.fell_back, feed.stores_missing_newest_day.tolist()) == (LAST, False, [1])


def test_a_missing_day_and_a_short_history_are_reported() -> None:
    feed = measure(rows(days=30, drop=((LAST - 2, STORES),)), STORES, 42, 0.1)
    assert feed.days_without_rows.tolist()[-1] == LAST - 2 and feed.history_days == 29
    assert feed.to_dict()["days_without_rows"][-1] == "2015-06-17"


def test_a_feed_with_no_complete_day_is_refused() -> None:
    days = tuple((LAST - k, STORES[5:]) for k in range(7))
    with pytest.raises(IncompleteFeedError, match="none of the data's last 7 days"):
        measure(rows(drop=days), STORES, 42, 0.1)
