"""Groups and periods of totals: labels, rows, ISO weeks across a year's end, and bad input named by field."""

import numpy as np
import pytest

from rossmann_core.errors import ForecastRequestError
from rossmann_core.totals.groups import GROUP_KINDS, PERIOD_KINDS, StoreGroups, groups_of, periods_of

STORES = StoreGroups(np.array([1, 2, 3, 7]), np.array([0, 1, 0, 3], np.int8), np.array([0, 0, 2, 1], np.int8),
                     np.array(["NW", "BY", "NW", "HE"]))


def test_every_group_kind_cuts_the_stores() -> None:
    assert [(g.label, g.rows.tolist()) for g in groups_of("chain", STORES)] == [("chain", [0, 1, 2, 3])]
    assert [(g.label, g.rows.tolist()) for g in groups_of("state", STORES)] == [("BY", [1]), ("HE", [3]),
                                                                                ("NW", [0, 2])]
    assert [g.label for g in groups_of("store_type", STORES)] == ["a", "b", "d"]
    assert [g.label for g in groups_of("assortment", STORES)] == ["a", "b", "c"]
    assert [g.label for g in groups_of("store", STORES)] == ["1", "2", "3", "7"]
    assert groups_of("stores", STORES, [7, 1])[0].rows.tolist() == [0, 3]
    assert set(GROUP_KINDS) == {"chain", "state", "store_type", "assortment", "store", "stores"}


@pytest.mark.parametrize(("kind", "stores", "field", "text"), [
    ("district", None, "group_by", "not one of"), ("stores", [], "stores", "non-empty"),
    ("stores", [1, 4], "stores", "store(s) 4"),
])
def test_bad_groups_name_the_field(kind: str, stores: list[int] | None, field: str, text: str) -> None:
    with pytest.raises(ForecastRequestError) as error:
        groups_of(kind, STORES, stores)
    assert error.value.loc == (field,) and text in error.value.reason


def test_periods_follow_iso_weeks_and_calendar_months_inside_the_days() -> None:
    dates = np.datetime64("2014-12-27") + np.arange(10)  # Sat 27 Dec .. Mon 5 Jan
    weeks = periods_of("week", dates)
    assert [(p.label, p.first, p.last) for p in weeks] == [("2014-W52", 0, 1), ("2015-W01", 2, 8), ("2015-W02", 9, 9)]
    assert [p.label for p in periods_of("month", dates)] == ["2014-12", "2015-01"]
    assert [p.label for p in periods_of("window", dates)] == ["2014-12-27..2015-01-05"]
    assert len(periods_of("day", dates)) == 10 and set(PERIOD_KINDS) == {"day", "week", "month", "window"}
    with pytest.raises(ForecastRequestError) as error:
        periods_of("quarter", dates)
    assert error.value.loc == ("period",)
