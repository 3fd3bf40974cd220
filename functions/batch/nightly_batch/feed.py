"""The night's data: the whole history file, or only new days appended to the last committed history state.

A night's data arrive under the data prefix in one of two shapes:

- **full**: ``train.csv`` holds the history, at least the days the model's state needs (455);
- **delta**: ``daily/date=YYYY-MM-DD.csv`` files (``.csv.gz`` too), one per delivery, each holding that day's rows
  and any corrections of earlier days; or a ``train.csv`` that holds only recent days. Their rows are appended to
  the history state the last committed run published (its bytes verified against the state pointer's sha256): the
  history is the state's rows with every store-day a delta holds replaced by the delta's row, delivery by delivery
  in date order. Only daily files dated after the committed origin are listed and read, so a night's cost grows
  with the new days, not with the history (docs/scaling.md). A newest day the committed run could not use (it fell
  back) is after that origin, so its file is read again the next night.

The result is the rows a full file with the same days would have given (``tests/functional/test_delta_feed.py``),
so everything after (completeness, the panel, the forecast) is the same code for both shapes. A delta that cannot
be appended (no committed state, days missing between the state and the delta, a state of other stores) is refused
with the reason; nothing is written.
"""

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from rossmann_core.data.daily_csv import HISTORY_COLUMNS, DailyRows, parse_daily_bytes
from rossmann_core.data.dates import DAY
from rossmann_core.data.panel import Panel
from rossmann_core.errors import RossmannError
from rossmann_core.features.history import FEATURE_HISTORY_DAYS
from rossmann_core.models.version import ModelVersion
from rossmann_core.serving.history_state import StatePointer, StateRejectedError, load_state, read_pointer
from rossmann_core.serving.settings import BatchSettings
from rossmann_core.storage import object_bytes, s3_key, sha256_hex

HISTORY_FILE = "train.csv"
STORE_FILE = "store.csv"
DAILY_FOLDER = "daily"
DAILY_KEY = re.compile(r"date=\d{4}-\d{2}-\d{2}\.csv(?:\.gz)?")
"""A delivery's name under ``<data prefix>/daily/``; the date is the delivery's day."""
FULL, DELTA = "full", "delta"
CELL_DAYS = 1_000_000
"""Days per store in a store-day's number (dates are days since 1970, far fewer)."""


class FeedRefusedError(RossmannError):
    """The night's data cannot be used as delivered (the reason says why and what to deliver); nothing was
    written."""


@dataclass(frozen=True)
class Feed:
    """The rows the night forecasts from and where they came from: ``mode`` FULL or DELTA, ``files`` (data file
    key -> sha256 of the bytes read, store.csv included) and, for a delta, ``base_state`` (the committed state's
    ``key``, ``sha256`` and ``origin`` the delta was appended to)."""

    rows: DailyRows
    stores_bytes: bytes
    mode: str
    files: dict[str, str]
    base_state: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The summary's ``data`` fields (besides its URI)."""
        return {"mode": self.mode, "sha256": dict(self.files), "base_state": self.base_state}


def rows_of_state(history: Panel, source: str) -> DailyRows:
    """The rows a state holds: every store-day with a known Open and sales, store-major (customers unknown, -1)."""
    store, day = np.nonzero((history.open >= 0) & np.isfinite(history.sales))
    return DailyRows(
        source=source, store=history.store_ids[store].astype(np.int32), date=history.dates[day],
        sales=history.sales[store, day].astype(np.int64), customers=np.full(len(store), -1, dtype=np.int64),
        open=history.open[store, day], promo=history.promo[store, day],
        state_holiday=history.state_holiday[store, day], school_holiday=history.school_holiday[store, day],
        line=np.zeros(len(store), dtype=np.int64),
    )


def concatenated(parts: list[DailyRows], source: str) -> DailyRows:
    """The rows of ``parts`` one after another."""
    names = [name for name in DailyRows.__dataclass_fields__ if name != "source"]
    return DailyRows(source, *(np.concatenate([getattr(part, name) for part in parts]) for name in names))


def cells(rows: DailyRows) -> np.ndarray:
    """One int64 per row naming its store-day."""
    return rows.store.astype(np.int64) * CELL_DAYS + rows.date.astype("datetime64[D]").astype(np.int64)


def appended(base: DailyRows, delta: DailyRows) -> DailyRows:
    """``base`` with every store-day ``delta`` holds replaced by ``delta``'s row, plus ``delta``'s new store-days (a
    file never holds a store-day twice: :func:`~rossmann_core.data.daily_csv.parse_daily_bytes` refuses that)."""
    kept = ~np.isin(cells(base), cells(delta))
    return concatenated([base.take(kept), delta], delta.source)


def daily_prefix(settings: BatchSettings) -> str:
    return s3_key(settings.data_prefix, DAILY_FOLDER) + "/"


def daily_keys_after(client: Any, settings: BatchSettings, origin: np.datetime64) -> list[str]:
    """Keys of the daily files dated after ``origin``, in date order (listed from there on: older files are not
    listed at all)."""
    prefix = daily_prefix(settings)
    keys, token = [], None
    while True:
        page = client.list_objects_v2(Bucket=settings.data_bucket, Prefix=prefix, StartAfter=f"{prefix}date={origin}.~",
                                      **({"ContinuationToken": token} if token else {}))
        keys += [item["Key"] for item in page.get("Contents", []) if DAILY_KEY.fullmatch(item["Key"][len(prefix):])]
        if not page.get("IsTruncated"):
            return sorted(keys)
        token = page["NextContinuationToken"]


def data_object(client: Any, bucket: str, key: str) -> bytes | None:
    """The data file's bytes, None when it does not exist; FeedRefusedError naming it when it cannot be read."""
    return object_bytes(client, bucket, key, FeedRefusedError)


def committed_base(client: Any, settings: BatchSettings, version: ModelVersion, pointer: StatePointer | None,
                   why: str) -> tuple[DailyRows, dict[str, str]]:
    """The rows of the committed state ``pointer`` names and its description; FeedRefusedError saying ``why`` a
    delta needs it when there is none or it cannot be used."""
    if pointer is None:
        raise FeedRefusedError(f"{why}, and no run has committed a history state to append it to: deliver the full "
                               f"history as {HISTORY_FILE} once")
    where = f"s3://{settings.forecast_bucket}/{pointer.key}"
    try:
        state = load_state(client, settings.forecast_bucket, pointer, version)
    except StateRejectedError as error:
        raise FeedRefusedError(f"{why}, and the committed history state cannot take it ({error}): deliver the full "
                               f"history as {HISTORY_FILE}") from None
    return (rows_of_state(state.history, where),
            {"key": pointer.key, "sha256": pointer.sha256, "origin": str(pointer.origin)})


def check_joins(delta: DailyRows, base_origin: str, what: str) -> None:
    """FeedRefusedError when ``delta`` starts more than a day after the committed state's last day."""
    first = delta.date.min()
    if first > np.datetime64(base_origin) + DAY:
        raise FeedRefusedError(
            f"{what} starts {first}, but the committed history state ends {base_origin}: the days between are "
            f"missing; deliver them (or the full history as {HISTORY_FILE})")


def read_feed(client: Any, settings: BatchSettings, version: ModelVersion) -> Feed:
    """The night's rows (see the module docstring): new daily files appended to the committed state, else
    ``train.csv`` (appended to the committed state when it holds fewer days than the model's state needs)."""
    bucket = settings.data_bucket
    stores_key = s3_key(settings.data_prefix, STORE_FILE)
    stores_bytes = data_object(client, bucket, stores_key)
    if stores_bytes is None:
        raise FeedRefusedError(f"s3://{bucket}/{stores_key} does not exist")
    files = {STORE_FILE: sha256_hex(stores_bytes)}
    pointer = read_pointer(client, settings.forecast_bucket, settings.forecast_prefix)
    daily = [] if pointer is None else daily_keys_after(client, settings, pointer.origin)
    history_key = s3_key(settings.data_prefix, HISTORY_FILE)
    if daily:
        base, base_state = committed_base(client, settings, version, pointer, f"{len(daily)} daily files arrived")
        rows = base
        for key in daily:
            data = data_object(client, bucket, key)
            if data is None:
                raise FeedRefusedError(f"s3://{bucket}/{key} was listed but no longer exists")
            delta = parse_daily_bytes(data, f"s3://{bucket}/{key}", HISTORY_COLUMNS)
            check_joins(delta, str(rows.date.max()), f"s3://{bucket}/{key}")
            rows = appended(rows, delta)
            files[key.removeprefix(s3_key(settings.data_prefix) + "/")] = sha256_hex(data)
        return Feed(rows, stores_bytes, DELTA, files, base_state)
    data = data_object(client, bucket, history_key)
    if data is None:
        if pointer is not None and client.list_objects_v2(Bucket=bucket, Prefix=daily_prefix(settings),
                                                          MaxKeys=1).get("KeyCount", 0):
            base, base_state = committed_base(client, settings, version, pointer, "no daily file arrived")
            return Feed(base, stores_bytes, DELTA, files, base_state)
        raise FeedRefusedError(f"s3://{bucket}/{history_key} does not exist")
    source = f"s3://{bucket}/{history_key}"
    rows = parse_daily_bytes(data, source, HISTORY_COLUMNS)
    files[HISTORY_FILE] = sha256_hex(data)
    first, newest = rows.date.min(), rows.date.max()
    if first <= newest - (FEATURE_HISTORY_DAYS - 1) * DAY:
        return Feed(rows, stores_bytes, FULL, files)
    why = (f"{source} holds only {first}..{newest} ({int((newest - first) / DAY) + 1} days; the features need "
           f"{FEATURE_HISTORY_DAYS})")
    base, base_state = committed_base(client, settings, version, pointer, why)
    check_joins(rows, base_state["origin"], source)
    return Feed(appended(base, rows), stores_bytes, DELTA, files, base_state)
