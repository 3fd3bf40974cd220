"""German public-holiday calendars per federal state, as Kaggle StateHoliday codes (``holidays`` package).

A calendar is named by its subdivision (``"BY"``) or, where a state has holidays that only its
Catholic communities keep (Assumption Day in Bavaria), ``"BY+catholic"``. Codes follow
:data:`rossmann_core.data.daily_csv.STATE_HOLIDAY_CODES`: 1 public, 2 Easter (Good Friday, Easter
Sunday and Monday), 3 Christmas (25 and 26 December). School holidays come from the package's
``school`` category (KMK calendars, published a few years ahead); years it does not cover are -1.
"""

from functools import lru_cache

import holidays
import numpy as np

from rossmann_core.data.daily_csv import CHRISTMAS_HOLIDAY, EASTER_HOLIDAY, PUBLIC_HOLIDAY
from rossmann_core.data.dates import as_days, day_of_month, easter_sunday, month, year

CATHOLIC_SUFFIX = "+catholic"


@lru_cache(maxsize=1)
def calendar_names() -> tuple[str, ...]:
    """Every state calendar: the 16 federal states, then those with Catholic-only holidays."""
    states = tuple(sorted(s for s in holidays.Germany.subdivisions if len(s) == 2))
    catholic = tuple(
        s + CATHOLIC_SUFFIX
        for s in states
        if any(holidays.Germany(subdiv=s, years=y, categories=("catholic",)) for y in (2015, 2016))
    )
    return states + catholic


@lru_cache(maxsize=4096)
def _holidays(name: str, year_number: int) -> tuple[np.ndarray, np.ndarray]:
    """(sorted datetime64[D] days, their holiday names) of calendar ``name`` in one year."""
    state, catholic, _ = name.partition(CATHOLIC_SUFFIX)
    categories = ("public", "catholic") if catholic else ("public",)
    days = holidays.Germany(subdiv=state, years=year_number, categories=categories)
    ordered = sorted(days.items())
    return (np.array([d for d, _ in ordered], dtype="datetime64[D]"),
            np.array([n for _, n in ordered], dtype=object))


def _holiday_days(name: str, year_number: int) -> np.ndarray:
    return _holidays(name, year_number)[0]


def holiday_names(name: str, dates: np.ndarray) -> np.ndarray:
    """Name of calendar ``name``'s holiday on each date, "" on other days; object array like ``dates``."""
    dates = as_days(dates)
    years = year(dates)
    names = np.full(dates.shape, "", dtype=object)
    for y in np.unique(years):
        days, labels = _holidays(name, int(y))
        if len(days) == 0:
            continue
        position = np.clip(np.searchsorted(days, dates), 0, len(days) - 1)
        hit = (years == y) & (days[position] == dates)
        names[hit] = labels[position[hit]]
    return names


def holiday_codes(name: str, dates: np.ndarray) -> np.ndarray:
    """StateHoliday code (0 none) of calendar ``name`` for each date; int8 shaped like ``dates``."""
    dates = as_days(dates)
    years = year(dates)
    is_holiday = np.zeros(dates.shape, dtype=bool)
    easter = np.zeros(dates.shape, dtype=bool)
    for y in np.unique(years):
        in_year = years == y
        is_holiday |= in_year & np.isin(dates, _holiday_days(name, int(y)))
        offset = (dates - easter_sunday(int(y))).astype(np.int64)
        easter |= in_year & np.isin(offset, (-2, 0, 1))
    christmas = (month(dates) == 12) & np.isin(day_of_month(dates), (25, 26))
    codes = np.select([easter, christmas], [EASTER_HOLIDAY, CHRISTMAS_HOLIDAY], PUBLIC_HOLIDAY)
    return np.where(is_holiday, codes, 0).astype(np.int8)


def calendar_matrix(dates: np.ndarray) -> np.ndarray:
    """Codes of every calendar in :func:`calendar_names`; int8 (n_calendars, n_dates)."""
    return np.stack([holiday_codes(name, dates) for name in calendar_names()])


@lru_cache(maxsize=1024)
def _school_days(state: str, year_number: int) -> np.ndarray:
    """Sorted datetime64[D] school-holiday days of a state in one year (empty if not published)."""
    days = holidays.Germany(subdiv=state, years=year_number, categories=("school",))
    return np.array(sorted(days), dtype="datetime64[D]")


def school_flags(name: str, dates: np.ndarray) -> np.ndarray:
    """SchoolHoliday (1/0) of calendar ``name``'s state per date, -1 in years without published data."""
    dates = as_days(dates)
    years = year(dates)
    flags = np.full(dates.shape, -1, dtype=np.int8)
    state = name.partition(CATHOLIC_SUFFIX)[0]
    for y in np.unique(years):
        days = _school_days(state, int(y))
        if days.size:
            in_year = years == y
            flags[in_year] = np.isin(dates[in_year], days)
    return flags


def school_matrix(dates: np.ndarray) -> np.ndarray:
    """:func:`school_flags` of every calendar; int8 (n_calendars, n_dates)."""
    return np.stack([school_flags(name, dates) for name in calendar_names()])
