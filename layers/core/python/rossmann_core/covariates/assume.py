"""Known-future covariates (Open, Promo, StateHoliday, SchoolHoliday) assumed from each store's history.

:func:`fit_covariates` learns, from a history panel (e.g. a model version's stored
history of 455 days):

- **Open**: each store's open share per weekday (state holidays left out), whether it closes on
  state holidays, and what it did on each named holiday last time (many Saxon stores open on
  Corpus Christi, a holiday only in some of Saxony's communities, while closing on the others).
- **Promo**: the chain-wide promo series (majority of stores per day), its cycle length (the lag
  of best self-agreement, 14 days in Rossmann's data), the days a cycle is on counted from a run
  start (Mon-Fri), and the phase from the last run start in the history. The cycle is assumed for
  the first PROMO_CYCLE_DAYS after the history; later days copy the chain's promo of the same ISO
  week and weekday last year: Rossmann shifts the cycle's phase every few months (double promo
  weeks, none at Christmas), and last year's calendar tracks those shifts better (real data, 52
  weekly origins: weekday agreement 83 % in week 1 and 52 % in week 6 for the cycle alone, 73 %
  from week 3 on for last year's weeks).
- **StateHoliday**: each store's federal state, as the ``holidays`` calendar that best matches its
  StateHoliday history, then its SchoolHoliday history (see :mod:`.holiday_calendars`).
- **SchoolHoliday**: the state's published school holidays (``holidays``, KMK); for years not
  published, the store's value on the same ISO week and weekday of the previous year (where that
  day is unknown, the majority of stores with the same calendar).

:func:`assume_covariates` then fills any days after the history; :func:`apply_overrides` lets the
caller's values win and records which values were given.
"""

from dataclasses import dataclass, replace

import numpy as np

from rossmann_core.covariates.fit import (
    chain_promo,
    fit_calendars,
    fit_holiday_open,
    fit_open,
    fit_promo,
    fit_school_weekends,
    previous_year_same_week,
)
from rossmann_core.covariates.holiday_calendars import (
    CATHOLIC_SUFFIX,
    calendar_names,
    holiday_codes,
    holiday_names,
    school_flags,
)
from rossmann_core.data.dates import DAY, as_days, weekday
from rossmann_core.data.panel import UNKNOWN, Panel, empty_panel
from rossmann_core.data.stores import positions_of
from rossmann_core.features.history import FEATURE_HISTORY_DAYS

COVARIATES = ("open", "promo", "state_holiday", "school_holiday")
"""Panel fields a caller can give per store and day; the last axis of ``given`` arrays."""
PROMO_CYCLE_DAYS = 14
"""Days after the history for which the learned cycle, not last year's calendar, gives Promo."""


@dataclass(frozen=True)
class CovariateModel:
    """What :func:`fit_covariates` learned; per-store arrays follow ``store_ids`` (n_stores,).

    ``open_weekday`` bool (n_stores, 7), Monday first; ``closes_on_holidays`` bool;
    ``holiday_open`` maps a holiday name to Open int8 (n_stores,) on its last Mon-Sat occurrence in
    the history for stores whose calendar has it (-1 unknown);
    ``calendar`` index into :func:`calendar_names`, ``calendar_mismatches`` and ``school_mismatches``
    the history days whose StateHoliday / SchoolHoliday flag it gets wrong, ``calendar_ties`` how
    many other calendars fit exactly as well; ``school_weekends`` whether the store marks the
    weekends inside school holidays (a few states' stores do);
    ``promo_on`` bool (promo_period,) days on after a run start at ``promo_anchor``; ``chain_promo``
    int8 (n_days,) the chain's promo per history day (-1 unknown).
    """

    history: Panel
    open_weekday: np.ndarray
    closes_on_holidays: np.ndarray
    holiday_open: dict[str, np.ndarray]
    calendar: np.ndarray
    calendar_mismatches: np.ndarray
    school_mismatches: np.ndarray
    calendar_ties: np.ndarray
    school_weekends: np.ndarray
    promo_period: int
    promo_on: np.ndarray
    promo_anchor: np.datetime64
    chain_promo: np.ndarray

    @property
    def store_ids(self) -> np.ndarray:
        return self.history.store_ids

    @property
    def calendar_of_store(self) -> list[str]:
        """Calendar name per store, e.g. ``"NW"`` or ``"BY+catholic"``."""
        names = calendar_names()
        return [names[i] for i in self.calendar]

    @property
    def state_of_store(self) -> np.ndarray:
        """Federal state per store (str array), e.g. ``"BY"``: the calendar without its Catholic suffix."""
        return np.array([name.removesuffix(CATHOLIC_SUFFIX) for name in self.calendar_of_store])


@dataclass(frozen=True)
class HorizonCovariates:
    """Covariates of the days after the history: ``panel`` for ``attach_covariates`` and ``given``,
    bool (n_stores, n_days, len(COVARIATES)), True where the caller gave the value."""

    panel: Panel
    given: np.ndarray


@dataclass(frozen=True)
class CovariateOverrides:
    """Caller values, arrays of shape (n,): ``store`` ids, ``date``, and per covariate int8 (-1 = not given)."""

    store: np.ndarray
    date: np.ndarray
    values: dict[str, np.ndarray]


def fit_covariates(history: Panel, days: int | None = FEATURE_HISTORY_DAYS) -> CovariateModel:
    """Learn the covariate patterns of every store from the last ``days`` days of ``history`` (None: all of them; at
    least a few weeks): by default the days the features read, whatever more the served state keeps."""
    if days is not None and history.n_days > days:
        history = history.window(history.dates[-days], history.dates[-1])
    open_weekday, closes_on_holidays = fit_open(history)
    calendar, mismatches, school_mismatches, ties = fit_calendars(history)
    period, promo_on, anchor = fit_promo(history)
    return CovariateModel(
        history=history, open_weekday=open_weekday, closes_on_holidays=closes_on_holidays,
        holiday_open=fit_holiday_open(history, calendar),
        calendar=calendar, calendar_mismatches=mismatches, school_mismatches=school_mismatches, calendar_ties=ties,
        school_weekends=fit_school_weekends(history, calendar),
        promo_period=period, promo_on=promo_on, promo_anchor=anchor, chain_promo=chain_promo(history),
    )


def _last_year_school(model: CovariateModel, dates: np.ndarray) -> np.ndarray:
    """SchoolHoliday int8 (n_stores, n_days): each store's value on the same ISO week and weekday of
    the previous year, else the majority that day of the stores with its calendar."""
    history = model.history
    index = ((previous_year_same_week(dates) - history.start) / DAY).astype(np.int64)
    inside = (index >= 0) & (index < history.n_days)
    last_year = np.full((len(model.store_ids), len(dates)), UNKNOWN, dtype=np.int8)
    last_year[:, inside] = history.school_holiday[:, index[inside]]
    for group in np.unique(model.calendar):
        rows = model.calendar == group
        known = last_year[rows] >= 0
        majority = 2 * (last_year[rows] == 1).sum(0) > known.sum(0)
        last_year[rows] = np.where(known, last_year[rows], majority)
    return last_year


def _school(model: CovariateModel, rows: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """SchoolHoliday int8 (len(rows), n_days): the state's published calendar, else last year's."""
    names = calendar_names()
    calendars = model.calendar[rows]
    marks_day = model.school_weekends[rows, None] | (weekday(dates) < 5)
    values = np.empty((len(rows), len(dates)), dtype=np.int8)
    fallback = None
    for group in np.unique(calendars):
        in_group = calendars == group
        flags = school_flags(names[group], dates)
        published = np.where(marks_day[in_group], flags, 0)
        if np.any(flags < 0):
            fallback = _last_year_school(model, dates) if fallback is None else fallback
            published = np.where(flags >= 0, published, fallback[rows[in_group]])
        values[in_group] = published
    return values


def _promo(model: CovariateModel, dates: np.ndarray) -> np.ndarray:
    """Chain promo int8 (n_days,): the cycle near the history, last year's same ISO week further out."""
    cycle_day = ((dates - model.promo_anchor) / DAY).astype(np.int64) % model.promo_period
    promo = model.promo_on[cycle_day].astype(np.int8)
    index = ((previous_year_same_week(dates) - model.history.start) / DAY).astype(np.int64)
    inside = (index >= 0) & (index < model.history.n_days)
    last_year = np.where(inside, model.chain_promo[np.clip(index, 0, model.history.n_days - 1)], UNKNOWN)
    far = dates > model.history.dates[-1] + PROMO_CYCLE_DAYS * DAY
    return np.where(far & (last_year >= 0), last_year, promo).astype(np.int8)


def _assumed_open(model: CovariateModel, rows: np.ndarray, dates: np.ndarray, state_holiday: np.ndarray) -> np.ndarray:
    """Open int8 (len(rows), n_days): the weekday profile; on a state holiday, what the store did on
    that holiday last time, else closed where the store closes on holidays."""
    by_weekday = model.open_weekday[rows][:, weekday(dates)]
    holiday = state_holiday > 0
    is_open = by_weekday & ~(holiday & model.closes_on_holidays[rows, None])
    names = calendar_names()
    calendars = model.calendar[rows]
    for group in np.unique(calendars):
        in_group = np.flatnonzero(calendars == group)
        day_names = holiday_names(names[group], dates)
        for day in np.flatnonzero(day_names != ""):
            habit = model.holiday_open.get(day_names[day])
            if habit is None:
                continue
            seen = habit[rows[in_group]]
            use = (seen >= 0) & holiday[in_group, day]
            is_open[in_group[use], day] = (seen[use] == 1) & by_weekday[in_group[use], day]
    return is_open.astype(np.int8)


def model_rows(model: CovariateModel, store_ids: np.ndarray) -> np.ndarray:
    """Rows of ``store_ids`` in the model (whose ids are sorted); raises ValueError naming an unknown store."""
    store_ids = np.asarray(store_ids)
    rows = positions_of(model.store_ids, store_ids)
    unknown = store_ids[rows < 0]
    if unknown.size:
        raise ValueError(f"store {unknown[0]} has no history")
    return rows


def assume_covariates(
    model: CovariateModel, first: np.datetime64, last: np.datetime64, store_ids: np.ndarray | None = None
) -> Panel:
    """Assumed covariates of days ``first``..``last`` for ``store_ids`` (default all, in model order)."""
    rows = np.arange(len(model.store_ids)) if store_ids is None else model_rows(model, store_ids)
    panel = empty_panel(model.store_ids[rows], first, last)
    dates = panel.dates
    names = calendar_names()
    state_holiday = np.empty(panel.open.shape, dtype=np.int8)
    for group in np.unique(model.calendar[rows]):
        state_holiday[model.calendar[rows] == group] = holiday_codes(names[group], dates)
    promo = np.broadcast_to(_promo(model, dates), panel.open.shape).copy()
    return replace(
        panel, open=_assumed_open(model, rows, dates, state_holiday), promo=promo,
        state_holiday=state_holiday, school_holiday=_school(model, rows, dates),
    )


def apply_overrides(model: CovariateModel, assumed: Panel, overrides: CovariateOverrides | None) -> HorizonCovariates:
    """``assumed`` with the caller's values written in; Open is re-derived where only StateHoliday was given.

    Raises ValueError for a store or date outside ``assumed``.
    """
    given = np.zeros((*assumed.open.shape, len(COVARIATES)), dtype=bool)
    if overrides is None or len(overrides.store) == 0:
        return HorizonCovariates(assumed, given)
    order = np.argsort(assumed.store_ids)
    rows = positions_of(assumed.store_ids[order], overrides.store)
    if np.any(rows < 0):
        raise ValueError("an override names a store outside the forecast")
    rows = order[rows]
    days = ((as_days(overrides.date) - assumed.start) / DAY).astype(np.int64)
    if np.any((days < 0) | (days >= assumed.n_days)):
        raise ValueError("an override names a date outside the forecast")
    arrays = {name: getattr(assumed, name).copy() for name in COVARIATES}
    for k, name in enumerate(COVARIATES):
        values = np.asarray(overrides.values.get(name, np.full(len(rows), UNKNOWN)), dtype=np.int8)
        has = values >= 0
        arrays[name][rows[has], days[has]] = values[has]
        given[rows[has], days[has], k] = True
    rederived = _assumed_open(model, model_rows(model, assumed.store_ids), assumed.dates, arrays["state_holiday"])
    arrays["open"] = np.where(given[..., 0], arrays["open"], rederived).astype(np.int8)
    return HorizonCovariates(replace(assumed, **arrays), given)
