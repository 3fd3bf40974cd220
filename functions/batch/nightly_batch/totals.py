"""The night's ``totals.csv``: the chain, each federal state and each store type per day, per ISO week and for
the window, with 90 % bands and last year's actuals, built from the committed ``forecasts.csv`` itself (its
cent-rounded sales), so one function and a fanned-out night write the same bytes and the API's POST /totals
gives the same figures (:func:`rossmann_core.serving.totals.aggregate`)."""

from dataclasses import dataclass

import numpy as np

from rossmann_core.data.dates import DAY
from rossmann_core.data.panel import Panel
from rossmann_core.data.stores import StoreTable, positions_of
from rossmann_core.models.version import ModelVersion
from rossmann_core.serving.totals import TotalsSource, TotalsTable, aggregate, store_groups_of
from rossmann_core.totals.groups import groups_of, periods_of

TOTALS_FILE = "totals.csv"
TOTALS_COLUMNS = ("group_by", "group", "period_kind", "period", "first_day", "last_day", "stores",
                  "open_store_days", "sales", "lower", "upper", "last_year_sales", "model", "model_version")
LEVELS = tuple((group, period) for group in ("chain", "state", "store_type") for period in ("day", "week", "window"))
"""What the night writes: (group kind, period kind)."""


def forecast_matrix(csv_bytes: bytes, history: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows of the forecast stores in ``history``, their days, sales (n_stores, n_days) euros) of a forecasts
    CSV (store-major, days ascending, every store the same days)."""
    table = np.loadtxt(csv_bytes.decode("ascii").splitlines()[1:], delimiter=",", dtype=str, ndmin=2)
    store = table[:, 0].astype(np.int64)
    stores = np.unique(store)
    n_days = len(store) // len(stores)
    dates = table[:n_days, 1].astype("datetime64[D]")
    return positions_of(history.store_ids, stores), dates, table[:, 3].astype(np.float64).reshape(-1, n_days)


def cell(value: float) -> str:
    """Euros to the cent; empty for NaN (no band, or last year outside the history)."""
    return "" if np.isnan(value) else f"{value:.2f}"


def table_lines(table: TotalsTable, group_by: str, period: str, version: str) -> list[str]:
    """CSV lines of one level."""
    dates = np.datetime_as_string(table.dates)
    lines = []
    for g, group in enumerate(table.groups):
        for p, span in enumerate(table.periods):
            t = table.totals
            lines.append(",".join([
                group_by, group.label, period, span.label, dates[span.first], dates[span.last], str(table.stores[g]),
                str(t.open_store_days[g, p]), cell(t.sales[g, p]), cell(t.lower[g, p]), cell(t.upper[g, p]),
                cell(table.last_year[g, p]), table.model, version]))
    return lines


@dataclass(frozen=True)
class NightTotals:
    """``totals.csv`` bytes and ``members``: the store ids of each state and store type (group_by -> label ->
    ids; the chain is every store of forecasts.csv), which the accuracy monitor sums actuals over."""

    csv: bytes
    members: dict[str, dict[str, list[int]]]


def totals_csv(csv_bytes: bytes, version: ModelVersion, history: Panel, stores: StoreTable, states: np.ndarray,
               model: str) -> NightTotals:
    """``totals.csv`` of a night's forecasts CSV; ``history`` and ``stores`` are the ones it forecast from and
    ``states`` (n_stores,) their federal states (``CovariateModel.state_of_store`` of a fit on ``history``)."""
    rows, dates, sales = forecast_matrix(csv_bytes, history)
    source = TotalsSource(history, states, version.manifest.horizon_days, version.totals.get(model))
    leads = ((dates - history.dates[-1]) // DAY).astype(np.int64)
    attributes = store_groups_of(stores, states, rows)
    lines = [",".join(TOTALS_COLUMNS)]
    members: dict[str, dict[str, list[int]]] = {}
    for group_by, period in LEVELS:
        groups = groups_of(group_by, attributes)
        table = aggregate(source, model, sales, dates, leads, rows, groups, periods_of(period, dates))
        lines += table_lines(table, group_by, period, version.name)
        if group_by != "chain":
            members[group_by] = {g.label: attributes.store_id[g.rows].astype(int).tolist() for g in groups}
    return NightTotals(("\n".join(lines) + "\n").encode("ascii"), members)
