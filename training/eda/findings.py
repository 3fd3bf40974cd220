"""All twelve findings computed from one :class:`EdaFrame`, each step logged with its timing."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from rossmann_core.data.daily_csv import DailyRows

from .calendar_effects import HolidayEffects, Seasonality, WeekBehaviour, holiday_effects, seasonality, week_behaviour
from .competition import CompetitionDistance, CompetitorOpenings, competition_distance, competitor_openings
from .frame import EdaFrame
from .promos import PromoCalendar, PromoEffect, PromoTargeting, promo_calendar, promo_effect, promo_targeting
from .quality import DataQuality, data_quality
from .store_profiles import (
    OpeningPattern,
    SalesCustomers,
    StoreFormats,
    opening_pattern,
    sales_customers,
    store_formats,
)

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Findings:
    """One attribute per question of the EDA issue, in its order."""

    quality: DataQuality  # 1
    calendar: PromoCalendar  # 2
    holidays: HolidayEffects  # 3
    seasons: Seasonality  # 4
    sales_customers: SalesCustomers  # 5
    promo_effect: PromoEffect  # 6
    targeting: PromoTargeting  # 7
    week: WeekBehaviour  # 8
    opening: OpeningPattern  # 9
    formats: StoreFormats  # 10
    distance: CompetitionDistance  # 11
    openings: CompetitorOpenings  # 12


def timed(name: str, compute: Callable[[], T]) -> T:
    """Run ``compute`` and log how long it took."""
    started = time.perf_counter()
    result = compute()
    log.info("computed %s in %.2f s", name, time.perf_counter() - started)
    return result


def compute_findings(frame: EdaFrame, future: DailyRows | None = None, future_name: str = "") -> Findings:
    """Every finding of the report; ``future`` (a test.csv-shaped file's rows) feeds question 2."""
    quality = timed("1 data quality", lambda: data_quality(frame))
    calendar = timed("2 promo calendar", lambda: promo_calendar(frame, future, future_name))
    holidays = timed("3 holiday effects", lambda: holiday_effects(frame))
    seasons = timed("4 seasonality", lambda: seasonality(frame))
    customers = timed("5 sales vs customers", lambda: sales_customers(frame))
    effect, lifts = timed("6 promo effect and per-store lifts", lambda: promo_effect(frame))
    return Findings(
        quality=quality,
        calendar=calendar,
        holidays=holidays,
        seasons=seasons,
        sales_customers=customers,
        promo_effect=effect,
        targeting=timed("7 promo lift per store", lambda: promo_targeting(frame, lifts)),
        week=timed("8 week and closures", lambda: week_behaviour(frame)),
        opening=timed("9 opening days", lambda: opening_pattern(frame)),
        formats=timed("10 store type and assortment", lambda: store_formats(frame)),
        distance=timed("11 competitor distance", lambda: competition_distance(frame)),
        openings=timed("12 competitor openings", lambda: competitor_openings(frame)),
    )
