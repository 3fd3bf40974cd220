"""Date arithmetic on numpy ``datetime64[D]`` arrays (no pandas)."""

from functools import lru_cache

import numpy as np

DAY = np.timedelta64(1, "D")
WEEKDAY_YEAR_DAYS = 364
"""52 weeks: the day a year back that falls on the same weekday."""


def iso_day(text: str) -> np.datetime64 | None:
    """``YYYY-MM-DD`` as datetime64[D]; None for anything else (``2015-13-01``, ``2015-1-1``, ``20150101``)."""
    if len(text) != 10:
        return None
    try:
        return np.datetime64(text, "D")
    except ValueError:
        return None


def as_days(dates: np.ndarray) -> np.ndarray:
    """Cast any date-like array to ``datetime64[D]``."""
    return np.asarray(dates, dtype="datetime64[D]")


def weekday(dates: np.ndarray) -> np.ndarray:
    """Day of week, Monday = 0 ... Sunday = 6, int64 array shaped like ``dates``."""
    return (as_days(dates).astype(np.int64) + 3) % 7


def year(dates: np.ndarray) -> np.ndarray:
    return as_days(dates).astype("datetime64[Y]").astype(np.int64) + 1970


def month(dates: np.ndarray) -> np.ndarray:
    """Month 1..12."""
    return as_days(dates).astype("datetime64[M]").astype(np.int64) % 12 + 1


def day_of_month(dates: np.ndarray) -> np.ndarray:
    """Day of month 1..31."""
    days = as_days(dates)
    return (days - days.astype("datetime64[M]")).astype(np.int64) + 1


def day_of_year(dates: np.ndarray) -> np.ndarray:
    """Day of year 1..366."""
    days = as_days(dates)
    return (days - days.astype("datetime64[Y]")).astype(np.int64) + 1


def iso_week(dates: np.ndarray) -> np.ndarray:
    """ISO-8601 week number 1..53 (the week holding the date's Thursday)."""
    days = as_days(dates)
    thursday = days - weekday(days) + 3
    return (thursday - thursday.astype("datetime64[Y]")).astype(np.int64) // 7 + 1


@lru_cache(maxsize=512)
def easter_sunday(year_number: int) -> np.datetime64:
    """Gregorian Easter Sunday of a year (anonymous Gregorian algorithm)."""
    a = year_number % 19
    b, c = divmod(year_number, 100)
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month_number, day_number = divmod(h + l_ - 7 * m + 114, 31)
    return np.datetime64(f"{year_number:04d}-{month_number:02d}-{day_number + 1:02d}", "D")


def days_from_nearest_easter(dates: np.ndarray) -> np.ndarray:
    """Signed days from the nearest Easter Sunday (negative before it), int64."""
    days = as_days(dates)
    years = year(days)
    best = np.full(days.shape, 10_000, dtype=np.int64)
    for y in np.unique(years):
        for candidate in (y - 1, y, y + 1):
            offset = (days - easter_sunday(int(candidate))).astype(np.int64)
            closer = (years == y) & (np.abs(offset) < np.abs(best))
            best = np.where(closer, offset, best)
    return best


def _christmas_of_year(years_start: np.ndarray) -> np.ndarray:
    """25 December of the year that starts at ``years_start`` (datetime64[Y])."""
    return (years_start.astype("datetime64[M]") + 11).astype("datetime64[D]") + 24


def days_until_christmas(dates: np.ndarray) -> np.ndarray:
    """Days until the next 25 December (0 on the day), int64."""
    days = as_days(dates)
    this_year = days.astype("datetime64[Y]")
    xmas = _christmas_of_year(this_year)
    next_xmas = _christmas_of_year(this_year + 1)
    return np.where(days <= xmas, xmas - days, next_xmas - days).astype(np.int64)


def same_day_last_year(dates: np.ndarray, easter_span_days: int) -> np.ndarray:
    """The comparable day a year earlier, same weekday: within ``easter_span_days`` of Easter the
    day at the same offset from last year's Easter (Ascension, Pentecost move with it), else WEEKDAY_YEAR_DAYS
    (364) days back. datetime64[D] shaped like ``dates``."""
    days = as_days(dates)
    offset = days_from_nearest_easter(days)
    previous_easter = np.array([easter_sunday(int(y) - 1) for y in year(days).ravel()], dtype="datetime64[D]")
    aligned = previous_easter.reshape(days.shape) + offset
    return np.where(np.abs(offset) <= easter_span_days, aligned, days - np.timedelta64(WEEKDAY_YEAR_DAYS, "D"))
