"""Intervals pooled over earlier windows: the forest residuals of the windows before the calibration window."""

from dataclasses import replace

import numpy as np

from conftest import TINY_FOREST
from rossmann_core import HORIZON_DAYS
from rossmann_core.features.tabular import FeatureBuilder
from training.calibration import EarlierResiduals, calibrate
from training.data import Dataset
from training.rf.interval_windows import earlier_window_residuals
from training.rf.rows import training_rows
from training.train import history_until

SETTINGS = replace(TINY_FOREST, interval_windows=3, interval_trees=2)


def residuals_of(dataset: Dataset, scale: float, windows_back: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Earlier-window residuals with the sales of one 42-day window multiplied by ``scale``: the calibration
    window (``windows_back`` 0) or the ``windows_back``-th window before it."""
    history = history_until(dataset, None)
    first = history.n_days - HORIZON_DAYS * (windows_back + 1)
    history.sales[:, first : first + HORIZON_DAYS] *= scale
    builder = FeatureBuilder(history, dataset.stores)
    train_idx = training_rows(history, history.n_days - 1 - HORIZON_DAYS)
    return earlier_window_residuals(history, builder, SETTINGS, train_idx, builder.build(*train_idx))


def test_earlier_windows_see_nothing_of_the_calibration_window(synthetic_dataset: Dataset) -> None:
    # GIVEN the residuals of the two windows before the calibration window (the last 42 days)
    residuals, leads = residuals_of(synthetic_dataset, 1.0)
    # WHEN every sale of the calibration window is doubled
    changed, changed_leads = residuals_of(synthetic_dataset, 2.0)
    # THEN the earlier windows' residuals are the same: no forest or feature saw those days
    np.testing.assert_array_equal(residuals, changed)
    np.testing.assert_array_equal(leads, changed_leads)
    # AND they hold leads 1..42 of two windows, all finite
    assert leads.min() >= 1 and leads.max() == HORIZON_DAYS
    assert np.isfinite(residuals).all() and len(residuals) > 2 * HORIZON_DAYS


def test_an_earlier_window_is_forecast_without_its_own_days(synthetic_dataset: Dataset) -> None:
    # GIVEN the earlier-window residuals
    residuals, _ = residuals_of(synthetic_dataset, 1.0)
    # WHEN every sale of the first window before the calibration window is doubled
    changed, _ = residuals_of(synthetic_dataset, 2.0, windows_back=1)
    # THEN that window's residuals grow by exactly log 2 (its forecast is unchanged: its forest trained on earlier
    # rows only) and the window before it is untouched
    shift = changed - residuals
    moved = ~np.isclose(shift, 0.0, atol=1e-5)
    np.testing.assert_allclose(shift[moved], np.log(2.0), atol=1e-5)  # sales are float32
    assert 0 < moved.sum() < len(shift)


def test_pooled_residuals_set_the_interval(synthetic_dataset: Dataset) -> None:
    # GIVEN calibration residuals of a tight forecast and earlier residuals of a wide spread
    rng = np.random.default_rng(0)
    leads = np.tile(np.arange(1, HORIZON_DAYS + 1), 20)
    actual = np.exp(rng.normal(8.0, 0.01, leads.size))
    earlier = EarlierResiduals(rng.normal(0.0, 0.3, 2 * leads.size), np.tile(leads, 2))
    # WHEN the interval is calibrated with and without the earlier windows
    own = calibrate(actual, np.full(leads.size, 8.0), leads)["interval"]
    pooled = calibrate(actual, np.full(leads.size, 8.0), leads, earlier)["interval"]
    # THEN the pooled interval is the wider one in every lead week, and the correction is unchanged
    assert all(p > o for p, o in zip(pooled["upper_log"], own["upper_log"]))
    assert all(p < o for p, o in zip(pooled["lower_log"], own["lower_log"]))
    assert calibrate(actual, np.full(leads.size, 8.0), leads, earlier)["correction"] == calibrate(
        actual, np.full(leads.size, 8.0), leads)["correction"]
