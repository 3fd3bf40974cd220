"""A store-day without a row is unknown, not closed: the forecast after it stays what it was with the row."""

from dataclasses import replace

import numpy as np
import pytest

from conftest import HOLDOUT_CUTOFF, MISSING_ROW_TOLERANCE, TinyForest
from rossmann_core.data.panel import PANEL_FIELDS, UNKNOWN, Panel, attach_covariates
from rossmann_core.features.tabular import event_distances
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.version import ModelVersion, load_version
from training.data import Dataset

HORIZON = 21



def with_cells(history: Panel, store: int, days: list[int], open_value: int | None, sales_only: bool = False
               ) -> Panel:
    """``history`` with the store-days' rows removed (``open_value`` None), only their sales unknown
    (``sales_only``), or marked Open = ``open_value``."""
    arrays = {name: getattr(history, name).copy() for name in PANEL_FIELDS}
    for day in days:
        if sales_only:
            arrays["sales"][store, day] = np.nan
        elif open_value is None:
            arrays["sales"][store, day] = np.nan
            for name in PANEL_FIELDS[1:]:
                arrays[name][store, day] = UNKNOWN
        else:
            arrays["open"][store, day] = open_value
            arrays["sales"][store, day] = 0.0 if open_value == 0 else arrays["sales"][store, day]
    return replace(history, **arrays)


def store_forecast(version: ModelVersion, history: Panel, covariates: Panel, store: int) -> np.ndarray:
    """The served model's forecast of ``store`` for the HORIZON days after the history, euros (HORIZON,)."""
    panel = attach_covariates(history, covariates)
    return forecast_panel(version, panel, history.n_days - 1, HORIZON, store_rows=np.array([store])).sales


@pytest.fixture(scope="module")
def version(tiny_forest: TinyForest) -> ModelVersion:
    return load_version(tiny_forest(HOLDOUT_CUTOFF))


@pytest.mark.parametrize("days_back", [0, 2], ids=["newest day", "two days back"])
def test_a_missing_row_gives_the_forecast_the_store_had_with_it(
    version: ModelVersion, synthetic_dataset: Dataset, days_back: int,
) -> None:
    # GIVEN the stores open on a day of the history, and the real covariates of the days after it
    history = version.history
    day = history.n_days - 1 - days_back
    covariates = synthetic_dataset.panel.window(HOLDOUT_CUTOFF + 1, HOLDOUT_CUTOFF + HORIZON)
    opened = np.flatnonzero(history.open[:, day] == 1)
    assert opened.size, "the generated day has open stores"
    for store in opened:
        full = store_forecast(version, history, covariates, store)
        open_days = full > 0
        # WHEN the store's row of that day is missing, or (the old reading) taken as a closure
        missing = store_forecast(version, with_cells(history, store, [day], None), covariates, store)
        sales_unknown = store_forecast(version, with_cells(history, store, [day], None, sales_only=True), covariates,
                                       store)
        # THEN the forecast without the row is the one with it, within the tolerance, and the one of the day known
        # open with unknown sales to the cent
        change = np.abs(missing[open_days] / full[open_days] - 1)
        assert change.max() <= MISSING_ROW_TOLERANCE, f"store row {store}: a forecast moved {change.max():.2%}"
        np.testing.assert_allclose(missing, sales_unknown, atol=0.005)


@pytest.mark.parametrize("days_back", [0, 2], ids=["newest day", "two days back"])
def test_a_missing_row_leaves_the_closure_features_as_they_were(version: ModelVersion, days_back: int) -> None:
    # GIVEN a store open on a day of the history
    history = version.history
    day = history.n_days - 1 - days_back
    store = int(np.flatnonzero(history.open[:, day] == 1)[0])
    # WHEN its row of that day is missing, or (the old reading) taken as a closure
    features = {name: event_distances(panel) for name, panel in (
        ("full", history), ("missing", with_cells(history, store, [day], None)),
        ("closed", with_cells(history, store, [day], 0)))}
    # THEN the days since and until a closure are the ones with the row; the closure reading moves them
    for name in ("days_since_closed", "days_until_closed"):
        np.testing.assert_array_equal(features["missing"][name], features["full"][name], err_msg=name)
    assert features["closed"]["days_since_closed"][store, -1] == days_back
