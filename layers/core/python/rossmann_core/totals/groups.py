"""Groups of stores and periods of days a total is taken over.

A group is the chain, a federal state, a store type, an assortment, each store alone, or one list of stores; a
period is a day, an ISO week or a calendar month (the part of it inside the forecast days), or the whole window.
"""

from dataclasses import dataclass

import numpy as np

from rossmann_core.data.dates import as_days, iso_week, weekday, year
from rossmann_core.data.stores import ASSORTMENTS, STORE_TYPES, positions_of
from rossmann_core.errors import ForecastRequestError

GROUP_KINDS = ("chain", "state", "store_type", "assortment", "store", "stores")
PERIOD_KINDS = ("day", "week", "month", "window")


@dataclass(frozen=True)
class StoreGroups:
    """Store attributes a grouping reads, arrays of shape (n_stores,) in one store order: ids, store type and
    assortment codes (indices into STORE_TYPES / ASSORTMENTS) and federal state names."""

    store_id: np.ndarray
    store_type: np.ndarray
    assortment: np.ndarray
    state: np.ndarray


@dataclass(frozen=True)
class Group:
    """A group's ``label`` and its ``rows``: positions in the StoreGroups' store order (ascending)."""

    label: str
    rows: np.ndarray


@dataclass(frozen=True)
class Period:
    """A period's ``label`` and its days, the columns ``first``..``last`` (inclusive) of the forecast days."""

    label: str
    first: int
    last: int


def _by_label(labels: np.ndarray) -> list[Group]:
    return [Group(str(label), np.flatnonzero(labels == label)) for label in np.unique(labels)]


def groups_of(kind: str, stores: StoreGroups, store_list: list[int] | None = None) -> list[Group]:
    """The groups of ``kind`` (one of GROUP_KINDS) over ``stores``; ``store_list`` is the one group of
    ``stores``. Raises ForecastRequestError naming the field for an unknown kind or store, or an empty list."""
    if kind not in GROUP_KINDS:
        raise ForecastRequestError(("group_by",), f"{kind!r} is not one of {', '.join(GROUP_KINDS)}")
    if kind == "chain":
        return [Group("chain", np.arange(len(stores.store_id)))]
    if kind == "state":
        return _by_label(stores.state)
    if kind == "store_type":
        return _by_label(np.asarray(STORE_TYPES)[stores.store_type])
    if kind == "assortment":
        return _by_label(np.asarray(ASSORTMENTS)[stores.assortment])
    if kind == "store":
        return [Group(str(int(s)), np.array([i])) for i, s in enumerate(stores.store_id)]
    if not store_list:
        raise ForecastRequestError(("stores",), "group_by 'stores' needs a non-empty list of store ids")
    wanted = np.unique(np.asarray(store_list, dtype=np.int64))
    rows = positions_of(stores.store_id, wanted)
    unknown = wanted[rows < 0]
    if unknown.size:
        raise ForecastRequestError(("stores",), f"no forecast for store(s) {', '.join(map(str, unknown.tolist()))}")
    return [Group("stores", rows)]


def period_labels(kind: str, dates: np.ndarray) -> np.ndarray:
    """Label of each forecast day's period: ``2015-06-22``, ``2015-W26``, ``2015-06`` or ``first..last``."""
    dates = as_days(dates)
    if kind == "day":
        return np.datetime_as_string(dates)
    if kind == "week":
        thursday = dates - weekday(dates) + 3
        return np.array([f"{y}-W{w:02d}" for y, w in zip(year(thursday).tolist(), iso_week(dates).tolist())])
    if kind == "month":
        return np.datetime_as_string(dates.astype("datetime64[M]"))
    if kind == "window":
        return np.full(len(dates), f"{dates[0]}..{dates[-1]}")
    raise ForecastRequestError(("period",), f"{kind!r} is not one of {', '.join(PERIOD_KINDS)}")


def periods_of(kind: str, dates: np.ndarray) -> list[Period]:
    """The periods of ``kind`` (one of PERIOD_KINDS) over consecutive forecast ``dates``, in date order."""
    labels = period_labels(kind, dates)
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:] - 1, len(labels) - 1]
    return [Period(str(labels[a]), int(a), int(b)) for a, b in zip(starts, ends)]
