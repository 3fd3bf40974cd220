"""The history forecasts start from, as the nightly batch publishes it for the API.

Format: the per-store arrays a model version stores as ``store_state.npz`` (``Panel.to_arrays`` and
``StoreTable.to_arrays`` in one uncompressed ``.npz``, readable with numpy alone): the model's stores in
its order, as many days as its own state (455), ending on the data's last day, the origin.

Layout under the forecast prefix (``FORECAST_PREFIX``, default ``forecasts``) of the forecast bucket:

    run_date=YYYY-MM-DD/history_state.npz   the history that run forecast from
    run_date=YYYY-MM-DD/summary.json        the run's commit marker, carrying the state's sha256
    state/latest.json                       the pointer to the newest committed run's state, written last

The pointer is PUT only after the run's summary, so it names committed runs only; a reader fetches
the state it names, verifies its sha256 against it and checks that it fits the model version
(:func:`load_state`). Errors: :class:`StateUnavailableError` (cannot be read now: try again later),
:class:`StateRejectedError` (bad input: corrupt, truncated, missing, other stores or shape),
:class:`StaleStateError` (ends before the model's origin: the model's own state is newer).
"""

import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from rossmann_core.data.dates import DAY
from rossmann_core.data.panel import PANEL_FIELDS, Panel
from rossmann_core.data.stores import ASSORTMENTS, STORE_TYPES, StoreTable
from rossmann_core.errors import RossmannError
from rossmann_core.models.version import ModelVersion
from rossmann_core.storage import object_bytes, s3_key, sha256_hex

HISTORY_STATE_FILE = "history_state.npz"
POINTER_FILE = "state/latest.json"
"""The pointer's key under the forecast prefix."""
MODEL_STATE = "model_state"
"""Source of a history that is the model version's own stored state."""
NIGHTLY_BATCH = "nightly_batch"
"""Source of a history published by a nightly batch run."""
PANEL_DTYPES = {"sales": np.float32, "open": np.int8, "promo": np.int8, "state_holiday": np.int8,
                "school_holiday": np.int8}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class StateError(RossmannError):
    """A published history state cannot be served; the message names the object and why."""


class StateUnavailableError(StateError):
    """The pointer or state cannot be read now (network, permissions): worth trying again later."""


class StateRejectedError(StateError):
    """The pointer or state is bad input: malformed, corrupt, truncated, missing, or not for this model."""


class StaleStateError(StateRejectedError):
    """The state ends before the model's origin: the model version's own state is newer."""


@dataclass(frozen=True)
class HistoryState:
    """A history to forecast from: ``history`` (n_stores, n_days), whose last day is the origin, and
    ``stores``, the same stores in the same order.

    ``source`` is MODEL_STATE (the version's own) or NIGHTLY_BATCH (published by the run of
    ``run_date``, an object with ``sha256``); ``stores_not_in_model`` are store ids of that run's data
    the model was not trained on (not forecast).
    """

    history: Panel
    stores: StoreTable
    source: str = MODEL_STATE
    run_date: np.datetime64 | None = None
    sha256: str | None = None
    stores_not_in_model: tuple[int, ...] = ()
    data_feed: Mapping[str, Any] = field(default_factory=dict)

    @property
    def origin(self) -> np.datetime64:
        return self.history.dates[-1]


def model_state(version: ModelVersion) -> HistoryState:
    """The version's own stored state."""
    return HistoryState(version.history, version.stores)


def state_bytes(history: Panel, stores: StoreTable) -> bytes:
    """``history`` and ``stores`` as an uncompressed ``.npz``: the format of a version's ``store_state.npz``."""
    buffer = io.BytesIO()
    np.savez(buffer, **history.to_arrays(), **stores.to_arrays())
    return buffer.getvalue()


def state_keys() -> list[str]:
    """Every array name the format holds."""
    panel = [f"panel_{name}" for name in (*PANEL_FIELDS, "store_ids", "start")]
    return panel + [f"store_{field.name}" for field in fields(StoreTable)]


def read_state(data: bytes, where: str) -> tuple[Panel, StoreTable]:
    """Parse and check state bytes; StateRejectedError names ``where`` and the first problem.

    Checks: a readable ``.npz`` without pickles, every array present, store ids ascending and unique,
    panel arrays (n_stores, n_days) of their dtypes, store-table arrays (n_stores, ...) for the same ids.
    """
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise StateRejectedError(f"{where} is not a readable .npz ({type(error).__name__}: {error})") from None
    missing = [key for key in state_keys() if key not in arrays]
    if missing:
        raise StateRejectedError(f"{where} lacks the array {missing[0]}")
    try:
        panel, stores = Panel.from_arrays(arrays), StoreTable.from_arrays(arrays)
    except (TypeError, ValueError) as error:
        raise StateRejectedError(f"{where}: panel_start is not a date ({error})") from None
    ids = panel.store_ids
    if ids.ndim != 1 or ids.size == 0 or ids.dtype.kind not in "iu" or np.any(np.diff(ids) <= 0):
        raise StateRejectedError(f"{where}: panel_store_ids must be ascending, unique integer ids")
    n_stores, n_days = len(ids), panel.sales.shape[-1] if panel.sales.ndim == 2 else -1
    for name, dtype in PANEL_DTYPES.items():
        values = getattr(panel, name)
        if values.shape != (n_stores, n_days) or n_days < 1 or values.dtype != dtype:
            raise StateRejectedError(
                f"{where}: panel_{name} is {values.dtype} {values.shape}, expected {np.dtype(dtype)} "
                f"({n_stores} stores, days)"
            )
    for column in fields(StoreTable):
        values = getattr(stores, column.name)
        if values.shape[:1] != (n_stores,) or (column.name == "promo2_months" and values.shape != (n_stores, 12)):
            raise StateRejectedError(f"{where}: store_{column.name} has shape {values.shape}, not {n_stores} stores")
    if not np.array_equal(stores.store_id, ids):
        raise StateRejectedError(f"{where}: store_store_id and panel_store_ids differ")
    return panel, stores


@dataclass(frozen=True)
class StatePointer:
    """``state/latest.json``: the newest committed run's state, ``key`` in the forecast bucket, its
    ``sha256`` and ``bytes``, its last day ``origin``, the ``model_version`` that run used, the
    store ids of its data the model was not trained on, and ``data_feed``: how complete that run's data was
    (``nightly_batch.completeness``; empty for a pointer written before it was measured)."""

    run_date: np.datetime64
    key: str
    sha256: str
    bytes: int
    origin: np.datetime64
    model_version: str
    stores_not_in_model: tuple[int, ...] = ()
    data_feed: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"run_date": str(self.run_date), "key": self.key, "sha256": self.sha256, "bytes": self.bytes,
                "origin": str(self.origin), "model_version": self.model_version,
                "stores_not_in_model": list(self.stores_not_in_model), "data_feed": dict(self.data_feed)}

    @classmethod
    def from_json(cls, body: bytes, where: str) -> "StatePointer":
        """Parse and validate; StateRejectedError names ``where``, the field and why."""
        try:
            raw = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise StateRejectedError(f"{where} is not JSON ({error})") from None
        if not isinstance(raw, dict):
            raise StateRejectedError(f"{where} is not a JSON object")

        def field(name: str, kind: type, check: Any = lambda _: True) -> Any:
            value = raw.get(name)
            if not isinstance(value, kind) or isinstance(value, bool) or not check(value):
                raise StateRejectedError(f"{where}: {name} is missing or invalid ({value!r})")
            return value

        def date(name: str) -> np.datetime64:
            return np.datetime64(field(name, str, lambda v: re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) is not None), "D")

        return cls(
            run_date=date("run_date"), key=field("key", str, lambda v: v.endswith(HISTORY_STATE_FILE)),
            sha256=field("sha256", str, lambda v: _SHA256.fullmatch(v) is not None),
            bytes=field("bytes", int, lambda v: v > 0), origin=date("origin"),
            model_version=field("model_version", str),
            stores_not_in_model=tuple(field("stores_not_in_model", list, lambda v: all(type(s) is int for s in v))),
            data_feed=feed_of(raw.get("data_feed", {}), where),
        )


FEED_FIELDS = {"newest_day": str, "origin": str, "fell_back": bool, "stores_missing_newest_day": int,
               "expected_newest_day": int, "stores_missing_newest_day_ids": list, "days_without_rows": list,
               "history_days": int, "history_days_needed": int}
"""The pointer's ``data_feed`` fields and their JSON types."""


def feed_of(raw: Any, where: str) -> dict[str, Any]:
    """The pointer's ``data_feed``: empty, or every FEED_FIELDS field of its type; StateRejectedError otherwise."""
    if raw == {}:
        return {}
    if not isinstance(raw, dict) or set(raw) != set(FEED_FIELDS) or not all(
            isinstance(raw[name], kind) and (kind is bool or not isinstance(raw[name], bool))
            for name, kind in FEED_FIELDS.items()):
        raise StateRejectedError(f"{where}: data_feed is invalid ({str(raw)[:200]})")
    return raw


def pointer_key(prefix: str) -> str:
    return s3_key(prefix, POINTER_FILE)


def read_pointer(client: Any, bucket: str, prefix: str) -> StatePointer | None:
    """The state pointer, None when none is published yet (no batch has run)."""
    key = pointer_key(prefix)
    body = object_bytes(client, bucket, key, StateUnavailableError)
    return None if body is None else StatePointer.from_json(body, f"s3://{bucket}/{key}")


MIN_STORES_WITH_RECENT_SALES = 0.5
"""Share of the stores that must have a sale in the state's last RECENT_DAYS days for the state to be served."""
RECENT_DAYS = 14
FLAG_RANGES = {"open": (-1, 1), "promo": (-1, 1), "school_holiday": (-1, 1), "state_holiday": (-1, 3)}
"""Allowed values of the state's covariates (-1 unknown); StateHoliday codes 0..3."""


def check_values(state: HistoryState, where: str) -> None:
    """Raise StateRejectedError unless every value can be served: sales finite and >= 0 or unknown (NaN), flags
    and codes in range, store codes in range, and at least MIN_STORES_WITH_RECENT_SALES of the stores with a
    sale in the last RECENT_DAYS days (an all-unknown state would answer every store with 404)."""
    history, stores = state.history, state.stores
    sales = history.sales
    bad = np.isinf(sales) | (sales < 0)
    if bad.any():
        store, day = np.argwhere(bad)[0]
        raise StateRejectedError(f"{where}: {int(bad.sum())} sales are negative or infinite (first: store "
                                 f"{history.store_ids[store]} on {history.dates[day]}: {sales[store, day]})")
    for name, (low, high) in FLAG_RANGES.items():
        values = getattr(history, name)
        outside = (values < low) | (values > high)
        if outside.any():
            raise StateRejectedError(f"{where}: {int(outside.sum())} {name} values outside {low}..{high}")
    for name, count in (("store_type", len(STORE_TYPES)), ("assortment", len(ASSORTMENTS))):
        codes = getattr(stores, name)
        if ((codes < 0) | (codes >= count)).any():
            raise StateRejectedError(f"{where}: store_{name} codes outside 0..{count - 1}")
    recent = np.isfinite(sales[:, -RECENT_DAYS:]).any(axis=1).mean()
    if recent < MIN_STORES_WITH_RECENT_SALES:
        raise StateRejectedError(f"{where}: only {recent:.0%} of the stores have a sale in its last {RECENT_DAYS} "
                                 f"days (at least {MIN_STORES_WITH_RECENT_SALES:.0%} needed)")


def check_fits(state: HistoryState, version: ModelVersion, where: str) -> None:
    """Raise StateRejectedError unless ``state`` holds exactly the version's stores, as many days as its own
    state and store metadata of the same dtypes, or StaleStateError if it ends before the version's origin."""
    model_ids, ids = version.stores.store_id, state.history.store_ids
    if not np.array_equal(ids, model_ids):
        extra, lacking = np.setdiff1d(ids, model_ids).tolist(), np.setdiff1d(model_ids, ids).tolist()
        raise StateRejectedError(
            f"{where} holds other stores than model version {version.name}: "
            f"{len(extra)} not in the model {extra[:5]}, {len(lacking)} missing {lacking[:5]}"
        )
    if state.history.n_days != version.history.n_days:
        raise StateRejectedError(
            f"{where} holds {state.history.n_days} days; model version {version.name} needs "
            f"{version.history.n_days}"
        )
    for column in fields(StoreTable):
        ours, model = getattr(state.stores, column.name).dtype, getattr(version.stores, column.name).dtype
        if ours != model:
            raise StateRejectedError(
                f"{where}: store_{column.name} is {ours}, model version {version.name} has {model}"
            )
    model_origin = version.history.dates[-1]
    if state.origin < model_origin:
        raise StaleStateError(
            f"{where} ends {state.origin}, before the origin {model_origin} of model version {version.name}"
        )
    check_values(state, where)


def fetch_state(client: Any, bucket: str, pointer: StatePointer) -> tuple[Panel, StoreTable]:
    """The history and stores of the state ``pointer`` names, its sha256, size and last day verified against the
    pointer; StateRejectedError naming the object otherwise."""
    where = f"s3://{bucket}/{pointer.key}"
    data = object_bytes(client, bucket, pointer.key, StateUnavailableError)
    if data is None:
        raise StateRejectedError(f"the state pointer names {where}, which does not exist")
    actual = sha256_hex(data)
    if actual != pointer.sha256 or len(data) != pointer.bytes:
        raise StateRejectedError(
            f"{where}: {len(data)} bytes with sha256 {actual}; the pointer says {pointer.bytes} bytes, "
            f"{pointer.sha256} (corrupt, truncated or replaced)"
        )
    history, stores = read_state(data, where)
    if history.dates[-1] != pointer.origin:
        raise StateRejectedError(f"{where} ends {history.dates[-1]}, the pointer says {pointer.origin}")
    return history, stores


def load_state(client: Any, bucket: str, pointer: StatePointer, version: ModelVersion) -> HistoryState:
    """Fetch the state ``pointer`` names (:func:`fetch_state`) and check it fits ``version`` (a pointer to a state
    older than the version is refused before anything is fetched)."""
    where = f"s3://{bucket}/{pointer.key}"
    model_origin = version.history.dates[-1]
    if pointer.origin < model_origin:
        raise StaleStateError(
            f"{where} ends {pointer.origin}, before the origin {model_origin} of model version {version.name}"
        )
    history, stores = fetch_state(client, bucket, pointer)
    state = HistoryState(history, stores, NIGHTLY_BATCH, pointer.run_date, pointer.sha256,
                         pointer.stores_not_in_model, pointer.data_feed)
    check_fits(state, version, where)
    return state


def published_state(run_date: np.datetime64, key: str, data: bytes, history: Panel, model_version: str,
                    stores_not_in_model: np.ndarray, data_feed: Mapping[str, Any] | None = None) -> StatePointer:
    """The pointer a batch run writes for ``data`` (:func:`state_bytes` of ``history``) stored at ``key``."""
    return StatePointer(
        run_date=np.datetime64(run_date, "D"), key=key, sha256=sha256_hex(data), bytes=len(data),
        origin=history.start + (history.n_days - 1) * DAY, model_version=model_version,
        stores_not_in_model=tuple(int(s) for s in stores_not_in_model), data_feed=dict(data_feed or {}),
    )
