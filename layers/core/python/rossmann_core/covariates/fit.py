"""Learning the covariate patterns of a history panel; :mod:`.covariates` assumes the future from them.

Each function reads a :class:`~rossmann_core.data.panel.Panel` (n_stores, n_days) and returns per-store
or chain-wide arrays; see :class:`~rossmann_core.covariates.assume.CovariateModel` for their meaning.
"""

import datetime as dt

import numpy as np

from rossmann_core.covariates.holiday_calendars import calendar_matrix, calendar_names, holiday_names, school_matrix
from rossmann_core.data.dates import DAY, WEEKDAY_YEAR_DAYS, as_days, weekday
from rossmann_core.data.panel import UNKNOWN, Panel

PROMO_PERIODS = range(7, 36)
"""Candidate promo cycle lengths, days."""


def fit_open(history: Panel) -> tuple[np.ndarray, np.ndarray]:
    """(open_weekday, closes_on_holidays) from the last WEEKDAY_YEAR_DAYS days."""
    recent = history.window(history.dates[-1] - (WEEKDAY_YEAR_DAYS - 1) * DAY, history.dates[-1])
    known = recent.open >= 0
    holiday = recent.state_holiday > 0
    ordinary = known & ~holiday
    opened = (recent.open == 1) & ordinary
    dow = weekday(recent.dates)
    share = np.stack([opened[:, dow == d].sum(1) / np.maximum(ordinary[:, dow == d].sum(1), 1) for d in range(7)], 1)
    seen = np.stack([ordinary[:, dow == d].any(1) for d in range(7)], 1)
    chain = share.sum(0) / np.maximum(seen.sum(0), 1)
    open_weekday = np.where(seen, share, chain) >= 0.5
    holiday_known = known & holiday & (dow < 6)
    closed_share = ((recent.open == 0) & holiday_known).sum(1) / np.maximum(holiday_known.sum(1), 1)
    return open_weekday, np.where(holiday_known.any(1), closed_share >= 0.5, True)


def _mismatches(observed: np.ndarray, known: np.ndarray, candidate: np.ndarray) -> np.ndarray:
    """Days each candidate (n_candidates, n_days) of 0/1 disagrees with each store's known 0/1 values."""
    observed, known = observed * known, known.astype(np.float64)
    return np.rint(observed.sum(1)[:, None] - 2 * observed @ candidate.T + known @ candidate.T).astype(np.int64)


def fit_calendars(history: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(calendar, its StateHoliday mismatching days, its SchoolHoliday ones, equally good calendars) per store.

    Calendars are ranked by StateHoliday mismatches, then SchoolHoliday mismatches on weekdays the
    package covers (stores differ in marking weekends), then by more holidays: a tie usually means
    the days that tell calendars apart are missing from the store's history (e.g. Assumption Day in
    a closed period).
    """
    codes = calendar_matrix(history.dates)
    state = _mismatches(
        (history.state_holiday > 0).astype(np.float64), history.state_holiday >= 0, (codes > 0).astype(np.float64)
    )
    school_codes = school_matrix(history.dates)
    comparable = (history.school_holiday >= 0) & (school_codes >= 0).all(0) & (weekday(history.dates) < 5)
    school = _mismatches(
        (history.school_holiday == 1).astype(np.float64), comparable, (school_codes == 1).astype(np.float64)
    )
    n = history.n_days + 1
    score = (state * n + school) * n - (codes > 0).sum(1)
    best = score.argmin(1)
    rows = np.arange(len(best))
    ties = ((state == state[rows, best][:, None]) & (school == school[rows, best][:, None])).sum(1) - 1
    return best, state[rows, best], school[rows, best], ties


def fit_holiday_open(history: Panel, calendar: np.ndarray) -> dict[str, np.ndarray]:
    """Open per store on the last Mon-Sat occurrence of each named holiday of its calendar."""
    names = calendar_names()
    habits: dict[str, np.ndarray] = {}
    weekdays = weekday(history.dates) < 6
    for group in np.unique(calendar):
        rows = np.flatnonzero(calendar == group)
        day_names = holiday_names(names[group], history.dates)
        for day in np.flatnonzero((day_names != "") & weekdays):
            habit = habits.setdefault(day_names[day], np.full(len(calendar), UNKNOWN, dtype=np.int8))
            seen = history.open[rows, day]
            habit[rows] = np.where(seen >= 0, seen, habit[rows])
    return habits


def fit_school_weekends(history: Panel, calendar: np.ndarray) -> np.ndarray:
    """Whether each store marks the weekends inside its state's school holidays, bool (n_stores,)."""
    weekend = weekday(history.dates) >= 5
    published = school_matrix(history.dates[weekend])[calendar] == 1
    seen = published & (history.school_holiday[:, weekend] >= 0)
    marked = seen & (history.school_holiday[:, weekend] == 1)
    return 2 * marked.sum(1) > np.maximum(seen.sum(1), 1)


def chain_promo(history: Panel) -> np.ndarray:
    """Chain-wide promo per day: 1 where most stores with a known value run it, -1 if none known; (n_days,)."""
    known = (history.promo >= 0).sum(0)
    on = (history.promo == 1).sum(0)
    return np.where(known > 0, (2 * on > known).astype(np.int8), UNKNOWN).astype(np.int8)


def fit_promo(history: Panel) -> tuple[int, np.ndarray, np.datetime64]:
    """(period, days on after a run start, last run start) of the chain-wide promo cycle."""
    chain = chain_promo(history)
    best_period, best_agreement = PROMO_PERIODS[0], -1.0
    for period in PROMO_PERIODS:
        both = (chain[period:] >= 0) & (chain[:-period] >= 0)
        agreement = float((chain[period:] == chain[:-period])[both].mean()) if both.any() else 0.0
        if agreement > best_agreement + 1e-9:
            best_period, best_agreement = period, agreement
    starts = np.flatnonzero((chain[1:] == 1) & (chain[:-1] == 0)) + 1
    if starts.size == 0:
        return best_period, np.zeros(best_period, dtype=bool), history.dates[-1]
    offsets = starts[:, None] + np.arange(best_period)
    inside = offsets < len(chain)
    values = np.where(inside, chain[np.minimum(offsets, len(chain) - 1)], UNKNOWN)
    promo_on = 2 * (values == 1).sum(0) > (values >= 0).sum(0)
    return best_period, promo_on, history.dates[starts[-1]]


def previous_year_same_week(dates: np.ndarray) -> np.ndarray:
    """The day with the same ISO weekday in the same ISO week (week 52 for 53) of the previous ISO year."""
    out = []
    for day in as_days(dates).astype(dt.date):
        iso_year, week, iso_weekday = day.isocalendar()
        try:
            out.append(dt.date.fromisocalendar(iso_year - 1, week, iso_weekday))
        except ValueError:
            out.append(dt.date.fromisocalendar(iso_year - 1, week - 1, iso_weekday))
    return np.array(out, dtype="datetime64[D]").reshape(np.shape(dates))
