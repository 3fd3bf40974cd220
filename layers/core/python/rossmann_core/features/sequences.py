"""LSTM inputs for (store, origin) windows: the one implementation shared by training and serving.

A window is ``lookback_weeks * 7`` days of history ending at the origin and the HORIZON_DAYS days after
it. It reads sales of the year up to the origin and covariates up to origin + HORIZON_DAYS, nothing
later, so a window built from the serving state equals the one built in training from the full panel.

Sales enter as deviations from the store's ``base``: its mean log sales on the same weekday with the
same promo state over the year to the origin (:func:`.history.origin_stats`, the RF's baseline). The
weekly and promo cycles are thus removed from the sequence (see the diagnostics report) and the
model predicts the deviation of each of the HORIZON_DAYS target days from its base.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from rossmann_core import HORIZON_DAYS
from rossmann_core.data.daily_csv import CHRISTMAS_HOLIDAY, EASTER_HOLIDAY
from rossmann_core.data.dates import WEEKDAY_YEAR_DAYS, weekday
from rossmann_core.data.panel import UNKNOWN, Panel
from rossmann_core.data.stores import ASSORTMENTS, STORE_TYPES, StoreTable, positions_of, require_same_stores
from rossmann_core.data.unknown_days import likely_open
from rossmann_core.features.history import OriginStats, origin_stats
from rossmann_core.features.tabular import calendar_features, event_distances

NO_COMPETITOR_METRES = 100_000.0
SEQUENCE_EVENT_CAP_DAYS = 7
"""The LSTM sees event distances clipped to a week (the forest: ``tabular.EVENT_DISTANCE_CAP_DAYS``):
the effects sit within a few days of an event."""

PAST_CHANNELS = ("sales_dev", "sales_known", "open", "promo", "state_holiday", "school_holiday")
"""Per lookback day; the past input packs 7 consecutive days into one step: (weeks, 7 * channels)."""
EVENT_CHANNELS = (
    "days_since_closed", "days_until_closed", "days_since_promo_start", "days_until_promo",
    "days_since_state_holiday", "days_until_state_holiday",
    "days_since_school_holiday", "days_until_school_holiday",
)
FUTURE_CHANNELS = (
    "open", "promo", "state_holiday", "easter_holiday", "christmas_holiday", "school_holiday", "holiday_dev",
    *(f"weekday_{d}" for d in range(7)),
    "lead_days", "day_of_month", "day_of_year_sin", "day_of_year_cos",
    "days_until_christmas", "days_from_easter", *EVENT_CHANNELS,
    "last_year_dev", "last_year_known", "base_dev",
)
"""Per target day: known-future covariates, the store's holiday deviation on state holidays, calendar,
event distances, last year's deviation from this year's base, the base relative to the year mean."""
STATIC_FEATURES = (
    "year_mean", "year_std", "holiday_ratio", "recent_dev", "recent_28_dev", "known_share",
    *(f"origin_weekday_{d}" for d in range(7)), *(f"weekday_dev_{d}" for d in range(7)), "promo_dev",
    "last_year_window_dev",
    *(f"store_type_{t}" for t in STORE_TYPES), *(f"assortment_{a}" for a in ASSORTMENTS),
    "log_competition_distance", "promo2",
)
"""Per window: the store's year level and spread, recent deviations (all, last 28 days, by weekday,
on promo days), last year's target window, store metadata."""
CALENDAR_PARTS = MappingProxyType({"weekday": 7, "day_of_month": 31, "month": 12, "week_of_year": 53})
"""Per target day, the calendar parts the LSTM embeds: name -> number of codes (0..size-1)."""
INPUT_NAMES = ("past", "future", "static", "store", "calendar")
OUTPUT_NAME = "deviation"


@dataclass(frozen=True)
class SequenceInputs:
    """Unscaled inputs of n windows; float32 unless noted, NaN where a sales value is unknown.

    ``past`` (n, lookback_days, len(PAST_CHANNELS)), ``future`` (n, HORIZON_DAYS, len(FUTURE_CHANNELS)),
    ``static`` (n, len(STATIC_FEATURES)), ``store`` int32 (n, 1) the store's row in the embedding,
    ``calendar`` int32 (n, HORIZON_DAYS, len(CALENDAR_PARTS)) each target day's :func:`calendar_codes`,
    ``base`` float64 (n, HORIZON_DAYS): log sales base of each target day, what the deviations add to.
    """

    past: np.ndarray
    future: np.ndarray
    static: np.ndarray
    store: np.ndarray
    calendar: np.ndarray
    base: np.ndarray


def one_hot(codes: np.ndarray, n: int) -> np.ndarray:
    """float32 (..., n); codes outside 0..n-1 give all zeros."""
    return (np.asarray(codes)[..., None] == np.arange(n)).astype(np.float32)


def calendar_codes(cal: Mapping[str, np.ndarray]) -> np.ndarray:
    """int32 ``shape + (len(CALENDAR_PARTS),)`` from :func:`~.tabular.calendar_features` of dates of that shape:
    weekday 0..6 (Monday 0), day of month, month and ISO week, each counted from 0, in CALENDAR_PARTS' order."""
    codes = [cal["day_of_week"], cal["day_of_month"] - 1, cal["month"] - 1, cal["week_of_year"] - 1]
    return np.stack(codes, axis=-1).astype(np.int32)


def masked_mean(values: np.ndarray, mask: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mean of ``values`` where ``mask`` along ``axis``; 0 where nothing is masked in."""
    count = mask.sum(axis=axis)
    return np.where(mask, values, 0.0).sum(axis=axis) / np.maximum(count, 1)


class SequenceBuilder:
    """Builds :class:`SequenceInputs` for (store row, origin day index) pairs of one panel.

    ``panel.store_ids`` must equal ``stores.store_id``. ``embedding_store_ids`` (sorted) are the store
    ids in the order of the model's embedding rows (the training panel's stores; default this panel's),
    so a panel holding only some stores still feeds each store its own embedding row. ``stats`` may hold the
    panel's :func:`~rossmann_core.features.history.origin_stats` of some origins, computed once elsewhere.
    """

    def __init__(
        self, panel: Panel, stores: StoreTable, lookback_weeks: int, embedding_store_ids: np.ndarray | None = None,
        stats: Mapping[int, OriginStats] | None = None,
    ) -> None:
        require_same_stores(panel.store_ids, stores.store_id, "panel and store table")
        self.panel = panel
        self.stores = stores
        self._likely_open = likely_open(panel.open, panel.state_holiday).astype(np.int8)
        self._stats: Mapping[int, OriginStats] = stats or {}
        self.lookback_days = 7 * lookback_weeks
        ids = panel.store_ids if embedding_store_ids is None else np.asarray(embedding_store_ids)
        position = positions_of(ids, panel.store_ids)
        unknown = panel.store_ids[position < 0]
        if unknown.size:
            raise ValueError(f"stores {unknown[:5].tolist()} were not in the LSTM's training data")
        self.embedding_row = position.astype(np.int32)

    def _gather(self, name: str, store: np.ndarray, days: np.ndarray) -> np.ndarray:
        """``panel.<name>[store, days]`` for (n, m) day indices (``likely_open``: the panel's likely Open);
        unknown outside the panel."""
        values = self._likely_open if name == "likely_open" else getattr(self.panel, name)
        inside = (days >= 0) & (days < self.panel.n_days)
        out = values[store[:, None], np.clip(days, 0, self.panel.n_days - 1)]
        return np.where(inside, out, np.nan if name == "sales" else UNKNOWN).astype(values.dtype)

    def log_sales(self, store: np.ndarray, days: np.ndarray) -> np.ndarray:
        """log sales of valid days (open, sales > 0), NaN otherwise; float64 shaped like ``days``."""
        sales = self._gather("sales", store, days).astype(np.float64)
        valid = (self._gather("open", store, days) == 1) & np.isfinite(sales) & (sales > 0)
        return np.where(valid, np.log(np.where(valid, sales, 1.0)), np.nan)

    def build(self, store_rows: np.ndarray, origins: np.ndarray) -> SequenceInputs:
        """Inputs of windows ending at ``origins`` (panel day indices), int arrays of shape (n,)."""
        store = np.asarray(store_rows, dtype=np.int64)
        origin = np.asarray(origins, dtype=np.int64)
        lookback = self.lookback_days
        rel = np.arange(-lookback + 1, HORIZON_DAYS + 1)
        days = origin[:, None] + rel
        dates = self.panel.start + days.astype("timedelta64[D]")
        covariates = {name: self._gather(name, store, days) for name in ("open", "promo", "state_holiday",
                                                                          "school_holiday")}
        # Serving assumes an unknown future Open is open; a past unknown day counts as what it most likely was.
        unknown = covariates["open"] == UNKNOWN
        covariates["open"] = np.where(unknown & (rel > 0), 1, covariates["open"])
        covariates["open"] = np.where(unknown & (rel <= 0), self._gather("likely_open", store, days),
                                      covariates["open"])
        flags = {
            "open": covariates["open"] == 1,
            "promo": covariates["promo"] == 1,
            "state_holiday": covariates["state_holiday"] > 0,
            "school_holiday": covariates["school_holiday"] == 1,
        }
        year = self._year_stats(store, origin, weekday(dates), flags["promo"])
        base = year["base"]
        logs = self.log_sales(store, days[:, :lookback])
        known = np.isfinite(logs)
        dev = logs - base[:, :lookback]
        past = np.stack([dev, known, *(flags[name][:, :lookback] for name in PAST_CHANNELS[2:])], axis=-1)
        cal = calendar_features(dates[:, lookback:])
        future = self._future(store, covariates, flags, dates[:, lookback:], days[:, lookback:], year, cal)
        static = self._static(store, origin, dates[:, :lookback], dev, known, flags["promo"][:, :lookback],
                              future, year)
        return SequenceInputs(
            past=past.astype(np.float32),
            future=future.astype(np.float32),
            static=static.astype(np.float32),
            store=self.embedding_row[store][:, None],
            calendar=calendar_codes(cal),
            base=base[:, lookback:],
        )

    def _year_stats(
        self, store: np.ndarray, origin: np.ndarray, weekdays: np.ndarray, promo: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Year-to-origin statistics: ``base`` (n, days) for each window day's weekday and promo,
        ``mean``, ``std`` (n,) of log sales and ``holiday`` (n,), open state holidays' mean minus ``mean``."""
        out = {"base": np.empty(weekdays.shape), **{key: np.empty(len(store)) for key in ("mean", "std", "holiday")}}
        for o in np.unique(origin):
            rows = np.flatnonzero(origin == o)
            stats = self._stats.get(int(o)) or origin_stats(self.panel, int(o))
            s = store[rows]
            out["base"][rows] = stats.dow_promo_mean[s[:, None], weekdays[rows], promo[rows].astype(np.int64)]
            out["mean"][rows], out["std"][rows] = stats.mean_365[s], stats.std_365[s]
            out["holiday"][rows] = stats.holiday_ratio[s]
        return out

    def _future(
        self, store: np.ndarray, covariates: dict[str, np.ndarray], flags: dict[str, np.ndarray],
        dates: np.ndarray, days: np.ndarray, year: dict[str, np.ndarray], cal: dict[str, np.ndarray],
    ) -> np.ndarray:
        """(n, HORIZON_DAYS, len(FUTURE_CHANNELS)) float64; ``cal``: the target days' calendar features."""
        window = Panel(store_ids=np.arange(len(store)), start=self.panel.start,
                       sales=np.zeros(covariates["open"].shape, dtype=np.float32), **covariates)
        events = event_distances(window)
        angle = 2 * np.pi * (cal["day_of_year"] - 1) / 365.25
        base = year["base"][:, self.lookback_days :]
        last_year = self.log_sales(store, days - WEEKDAY_YEAR_DAYS) - base
        state_holiday = covariates["state_holiday"][:, self.lookback_days :]
        columns = [
            *(flags[name][:, self.lookback_days :] for name in ("open", "promo", "state_holiday")),
            state_holiday == EASTER_HOLIDAY, state_holiday == CHRISTMAS_HOLIDAY,
            flags["school_holiday"][:, self.lookback_days :],
            (state_holiday > 0) * year["holiday"][:, None],
            *np.moveaxis(one_hot(weekday(dates), 7), -1, 0),
            np.broadcast_to(np.arange(1, HORIZON_DAYS + 1), dates.shape),
            cal["day_of_month"], np.sin(angle), np.cos(angle),
            cal["days_until_christmas"], cal["days_from_easter"],
            *(np.minimum(events[name][:, self.lookback_days :], SEQUENCE_EVENT_CAP_DAYS) for name in EVENT_CHANNELS),
            np.nan_to_num(last_year), np.isfinite(last_year),
            base - year["mean"][:, None],
        ]
        return np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=-1)

    def _static(
        self, store: np.ndarray, origin: np.ndarray, past_dates: np.ndarray, dev: np.ndarray, known: np.ndarray,
        promo: np.ndarray, future: np.ndarray, year: dict[str, np.ndarray],
    ) -> np.ndarray:
        """(n, len(STATIC_FEATURES)) float64; deviations are 0 where no valid day backs them."""
        past_weekdays = weekday(past_dates)
        last_year_known = future[..., FUTURE_CHANNELS.index("last_year_known")] > 0
        distance = np.nan_to_num(self.stores.competition_distance[store], nan=NO_COMPETITOR_METRES)
        return np.column_stack([
            year["mean"],
            year["std"],
            year["holiday"],
            masked_mean(dev, known),
            masked_mean(dev[:, -28:], known[:, -28:]),
            known.mean(axis=1),
            one_hot(weekday(self.panel.start + origin), 7),
            *(masked_mean(dev, known & (past_weekdays == d)) for d in range(7)),
            masked_mean(dev, known & promo),
            masked_mean(future[..., FUTURE_CHANNELS.index("last_year_dev")], last_year_known),
            one_hot(self.stores.store_type[store], len(STORE_TYPES)),
            one_hot(self.stores.assortment[store], len(ASSORTMENTS)),
            np.log1p(distance),
            self.stores.promo2[store],
        ])
