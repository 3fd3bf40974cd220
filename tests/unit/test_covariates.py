"""Known-future covariates: planted calendars, promo cycle and open patterns are learned and reproduced."""

from dataclasses import replace

import numpy as np
import pytest

from rossmann_core.covariates.assume import (
    COVARIATES,
    CovariateOverrides,
    apply_overrides,
    assume_covariates,
    fit_covariates,
)
from rossmann_core.covariates.fit import previous_year_same_week
from rossmann_core.covariates.holiday_calendars import calendar_names, holiday_codes, school_flags
from rossmann_core.data.dates import DAY, weekday
from rossmann_core.data.panel import empty_panel

STATES = ("BY+catholic", "NW", "SN+catholic", "BE", "HE")
"""One generated store per calendar; BE's school holidays tell it apart from HB/HH/NI/SH."""
SUNDAY_STORE, HOLIDAY_STORE, WEEKEND_SCHOOL_STORE = 2, 3, 5


def generated_panel(start: str, end: str, school_from_package: bool = True):
    """Stores 1..5 living by STATES' calendars: closed Sundays and holidays (store 2 opens Sundays,
    store 3 opens on holidays), chain promo Mon-Fri every other week, school holidays on weekdays
    (store 5 marks weekends too)."""
    panel = empty_panel(np.arange(1, len(STATES) + 1), np.datetime64(start), np.datetime64(end))
    dates = panel.dates
    dow = weekday(dates)
    state = np.stack([holiday_codes(name, dates) for name in STATES])
    school = np.stack([school_flags(name, dates) if school_from_package else np.zeros(len(dates)) for name in STATES])
    school = np.where((dow < 5) | (np.arange(1, 6) == WEEKEND_SCHOOL_STORE)[:, None], school, 0)
    week = (dates.astype(np.int64) + 3) // 7
    promo = np.broadcast_to(((week % 2 == 0) & (dow < 5)).astype(np.int8), state.shape)
    is_open = (dow < 6) | (np.arange(1, 6) == SUNDAY_STORE)[:, None]
    is_open &= (state == 0) | (np.arange(1, 6) == HOLIDAY_STORE)[:, None]
    return replace(
        panel, sales=np.where(is_open, 5000.0, 0.0).astype(np.float32), open=is_open.astype(np.int8),
        promo=promo.astype(np.int8), state_holiday=state, school_holiday=school.astype(np.int8),
    )


def test_history_of_a_year_reproduces_the_next_42_days_exactly() -> None:
    # GIVEN 372 days of history of stores living by known calendars
    full = generated_panel("2014-01-01", "2015-12-31")
    origin = np.datetime64("2015-07-20")
    model = fit_covariates(full.window(origin - 371 * DAY, origin))
    # THEN each store's state, the promo cycle and the open patterns are found
    assert model.calendar_of_store == list(STATES)
    assert model.promo_period == 14 and model.promo_on.tolist() == [True] * 5 + [False] * 9
    assert model.open_weekday[SUNDAY_STORE - 1].all() and not model.open_weekday[0, 6]
    assert model.closes_on_holidays.tolist() == [True, True, False, True, True]
    assert model.school_weekends.tolist() == [False] * 4 + [True]
    # WHEN the next 42 days (Assumption Day, school summer breaks) are assumed
    assumed = assume_covariates(model, origin + DAY, origin + 42 * DAY)
    actual = full.window(origin + DAY, origin + 42 * DAY)
    # THEN every covariate matches what the stores did
    for name in COVARIATES:
        np.testing.assert_array_equal(getattr(assumed, name), getattr(actual, name), err_msg=name)
    assert np.isnan(assumed.sales).all()
    assert assumed.state_holiday[0, int((np.datetime64("2015-08-15") - origin) / DAY) - 1] == 1


def test_a_store_open_on_one_holiday_last_year_is_assumed_open_on_it_again() -> None:
    # GIVEN a Bavarian store that closes on holidays but opened on Corpus Christi 2014
    full = generated_panel("2014-01-01", "2015-12-31")
    is_open = full.open.copy()
    is_open[0, full.day_index(np.datetime64("2014-06-19"))] = 1
    origin = np.datetime64("2015-05-20")
    model = fit_covariates(replace(full, open=is_open).window(origin - 371 * DAY, origin))
    # WHEN the weeks with Whit Monday and Corpus Christi 2015 are assumed
    assumed = assume_covariates(model, origin + DAY, origin + 42 * DAY)

    def day(text: str) -> int:
        return int((np.datetime64(text) - origin) / DAY) - 1

    # THEN it opens on Corpus Christi only; the other Corpus Christi store (HE) stays closed
    assert assumed.open[0, day("2015-06-04")] == 1 and assumed.open[0, day("2015-05-25")] == 0
    assert assumed.open[STATES.index("HE"), day("2015-06-04")] == 0


def test_promo_follows_the_cycle_for_two_weeks_then_last_years_calendar() -> None:
    # GIVEN a chain that ran an extra promo week last year, once within two weeks of the origin's
    # calendar position and once later
    full = generated_panel("2014-01-01", "2015-12-31")
    origin = np.datetime64("2015-07-19")
    near, far = np.datetime64("2015-07-20"), np.datetime64("2015-08-17")
    promo = full.promo.copy()
    for monday in previous_year_same_week(np.array([near, far])):
        assert not promo[:, full.day_index(monday)].any(), "the planted weeks must be off in the plain cycle"
        promo[:, full.day_index(monday) : full.day_index(monday) + 5] = 1
    model = fit_covariates(replace(full, promo=promo).window(origin - 371 * DAY, origin))
    # WHEN the next 42 days are assumed
    assumed = assume_covariates(model, origin + DAY, origin + 42 * DAY).promo[0]
    lead = {day: int((day - origin) / DAY) - 1 for day in (near, far)}
    # THEN the near week keeps the cycle (off) and the far week copies last year (on, Mon-Fri)
    assert assumed[lead[near] : lead[near] + 5].tolist() == [0] * 5
    assert assumed[lead[far] : lead[far] + 7].tolist() == [1] * 5 + [0] * 2


def test_a_gap_over_the_telling_holiday_breaks_the_tie_towards_more_holidays() -> None:
    # GIVEN a Bavarian store whose history has no rows around Assumption Day (like 180 real stores in 2014-H2)
    full = generated_panel("2014-06-01", "2015-06-19")
    gap = (full.dates >= np.datetime64("2014-07-01")) & (full.dates <= np.datetime64("2014-12-31"))
    state_holiday = full.state_holiday.copy()
    state_holiday[0, gap] = -1
    model = fit_covariates(replace(full, state_holiday=state_holiday))
    # THEN the catholic Bavarian calendar is chosen over the equally fitting plain BW/BY ones
    assert model.calendar_of_store[0] == "BY+catholic"
    assert model.calendar_ties[0] >= 1 and model.calendar_mismatches[0] == 0


def test_school_holidays_fall_back_to_last_years_iso_week_where_none_are_published() -> None:
    # GIVEN history in a year the holidays package publishes no school calendar for
    full = generated_panel("2089-01-01", "2090-12-31", school_from_package=False)
    school = full.school_holiday.copy()
    summer = (full.dates >= np.datetime64("2089-07-10")) & (full.dates <= np.datetime64("2089-08-20"))
    school[:, summer & (weekday(full.dates) < 5)] = 1
    full = replace(full, school_holiday=school)
    assert (school_flags("NW", full.dates) == -1).all()
    origin = np.datetime64("2090-06-30")
    model = fit_covariates(full.window(origin - 371 * DAY, origin))
    # WHEN July and August 2090 are assumed
    assumed = assume_covariates(model, origin + DAY, origin + 42 * DAY)
    # THEN each day takes the value of the same ISO week and weekday of 2089
    expected = full.window(origin + DAY, origin + 42 * DAY).dates
    reference = previous_year_same_week(expected)
    np.testing.assert_array_equal(assumed.school_holiday[1], school[1, full.day_index(reference[0]):][: len(reference)])


def test_previous_year_same_week_keeps_weekday_and_maps_week_53_to_52() -> None:
    dates = np.array(["2015-06-20", "2015-12-31", "2016-01-01"], dtype="datetime64[D]")
    expected = np.array(["2014-06-21", "2014-12-25", "2014-12-26"], dtype="datetime64[D]")
    np.testing.assert_array_equal(previous_year_same_week(dates), expected)


def test_given_values_win_and_a_given_holiday_closes_a_store_that_closes_on_holidays() -> None:
    full = generated_panel("2014-01-01", "2015-08-31")
    origin = np.datetime64("2015-07-20")
    model = fit_covariates(full.window(origin - 371 * DAY, origin))
    assumed = assume_covariates(model, origin + DAY, origin + 14 * DAY, np.array([4, 1]))
    monday = np.datetime64("2015-07-27")
    overrides = CovariateOverrides(
        store=np.array([1, 4, 4]), date=np.array([monday, monday, monday + DAY]),
        values={"state_holiday": np.array([1, -1, -1], dtype=np.int8), "promo": np.array([-1, 0, 1], dtype=np.int8),
                "open": np.array([-1, -1, 0], dtype=np.int8)},
    )
    result = apply_overrides(model, assumed, overrides)
    day = int((monday - assumed.start) / DAY)
    row_of = {int(s): i for i, s in enumerate(assumed.store_ids)}
    assert result.panel.state_holiday[row_of[1], day] == 1 and result.panel.open[row_of[1], day] == 0
    assert result.panel.promo[row_of[4], day] == 0 and result.panel.open[row_of[4], day + 1] == 0
    assert result.given.sum() == 4
    assert result.given[row_of[1], day].tolist() == [False, False, True, False]
    assert result.given[row_of[4], day + 1].tolist() == [True, True, False, False]


def test_unknown_store_or_date_outside_the_panel_is_refused() -> None:
    full = generated_panel("2014-06-01", "2015-06-30")
    model = fit_covariates(full)
    with pytest.raises(ValueError, match="store 9"):
        assume_covariates(model, np.datetime64("2015-07-01"), np.datetime64("2015-07-02"), np.array([9]))
    assumed = assume_covariates(model, np.datetime64("2015-07-01"), np.datetime64("2015-07-02"))
    late = CovariateOverrides(np.array([1]), np.array(["2015-07-05"], dtype="datetime64[D]"), {})
    with pytest.raises(ValueError, match="date outside"):
        apply_overrides(model, assumed, late)


def test_every_state_has_a_calendar_with_christmas_and_easter_codes() -> None:
    dates = np.array(["2015-04-03", "2015-04-06", "2015-12-25", "2015-10-03", "2015-07-01"], dtype="datetime64[D]")
    assert {"BY", "NW", "BE", "BY+catholic"} <= set(calendar_names())
    assert holiday_codes("NW", dates).tolist() == [2, 2, 3, 1, 0]
