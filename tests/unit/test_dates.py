"""numpy calendar arithmetic against Python's datetime."""

import datetime as dt

import numpy as np

from rossmann_core.data import dates

DATES = np.arange(np.datetime64("2012-12-20"), np.datetime64("2016-01-10"))


def test_calendar_matches_datetime() -> None:
    python_dates = [dt.date.fromisoformat(str(d)) for d in DATES]
    assert dates.weekday(DATES).tolist() == [d.weekday() for d in python_dates]
    assert dates.iso_week(DATES).tolist() == [d.isocalendar()[1] for d in python_dates]
    assert dates.day_of_year(DATES).tolist() == [d.timetuple().tm_yday for d in python_dates]
    assert dates.month(DATES).tolist() == [d.month for d in python_dates]
    assert dates.day_of_month(DATES).tolist() == [d.day for d in python_dates]


def test_easter_and_christmas() -> None:
    assert [str(dates.easter_sunday(y)) for y in (2013, 2014, 2015)] == ["2013-03-31", "2014-04-20", "2015-04-05"]
    days = np.array(["2015-04-03", "2015-04-06", "2015-12-25", "2015-12-26"], dtype="datetime64[D]")
    assert dates.days_from_nearest_easter(days).tolist() == [-2, 1, -93, -92]
    assert dates.days_until_christmas(days).tolist() == [266, 263, 0, 365]
