"""Intervals pooled with the interval window: the forest's residuals on the forecast days a year earlier."""

import numpy as np

from conftest import TINY_FOREST
from rossmann_core import HORIZON_DAYS
from rossmann_core.features.tabular import FeatureBuilder
from training.calibration import EarlierResiduals, calibrate
from training.config import MIN_HISTORY_DAYS
from training.data import Dataset
from training.rf.interval_windows import SEASON_LAG_DAYS, interval_origins, totals_origins, window_residuals
from training.train import history_until
from training.tree_rows import training_rows


def residuals_of(dataset: Dataset, scale: float, first: int, days: int = HORIZON_DAYS) -> tuple[np.ndarray, np.ndarray]:
    """Interval-window residuals of the synthetic history with the sales of days first..first+days-1
    (indices from the history's end, 1 = the last day) multiplied by ``scale``."""
    history = history_until(dataset, None)
    start = history.n_days - first
    history.sales[:, start : start + days] *= scale
    builder = FeatureBuilder(history, dataset.stores)
    train_idx = training_rows(history, history.n_days - 1 - HORIZON_DAYS)
    origins = interval_origins(history.n_days - 1)
    residuals, leads, _, _ = window_residuals(history, builder, TINY_FOREST, train_idx, builder.build(*train_idx),
                                              origins)
    return residuals, leads


def test_the_interval_window_is_the_forecast_days_a_year_earlier() -> None:
    # GIVEN cutoffs with two years, a few months and too little history
    # THEN the window is a year back when it can be, the previous window when it cannot, else none
    assert interval_origins(700) == [700 - SEASON_LAG_DAYS]
    assert interval_origins(MIN_HISTORY_DAYS + 3 * HORIZON_DAYS) == [MIN_HISTORY_DAYS + HORIZON_DAYS]
    assert interval_origins(MIN_HISTORY_DAYS + 2 * HORIZON_DAYS) == []


def test_the_totals_windows_are_further_back_and_never_repeat_the_interval_window() -> None:
    # GIVEN two years of history, then only enough for the windows nearest the cutoff
    taken = interval_origins(700)
    # THEN each further window starts its weeks back, and those without history for their forest are left out
    assert totals_origins(700, (12, 26, 39), taken) == [700 - 84, 700 - 182, 700 - 273]
    assert totals_origins(700, (52,), taken) == [], "the year-ago window is the interval window already"
    near = MIN_HISTORY_DAYS + HORIZON_DAYS + 84
    assert totals_origins(near, (12, 26), interval_origins(near)) == []


def test_the_interval_window_sees_nothing_after_it(synthetic_dataset: Dataset) -> None:
    # GIVEN the interval window's residuals (the synthetic data end 2015-01-31: the window is a year back)
    residuals, leads = residuals_of(synthetic_dataset, 1.0, first=SEASON_LAG_DAYS - HORIZON_DAYS)
    # WHEN every sale from the day after the window to the end is doubled
    changed, changed_leads = residuals_of(synthetic_dataset, 2.0, first=SEASON_LAG_DAYS - HORIZON_DAYS,
                                          days=SEASON_LAG_DAYS - HORIZON_DAYS)
    # THEN the residuals are the same: no forest or feature saw those days
    np.testing.assert_array_equal(residuals, changed)
    np.testing.assert_array_equal(leads, changed_leads)
    # AND they hold leads of one window (up to 42), all finite
    assert leads.min() >= 1 and leads.max() == HORIZON_DAYS
    assert np.isfinite(residuals).all() and len(residuals) > HORIZON_DAYS


def test_the_interval_window_is_forecast_without_its_own_days(synthetic_dataset: Dataset) -> None:
    # GIVEN the interval window's residuals
    residuals, _ = residuals_of(synthetic_dataset, 1.0, first=SEASON_LAG_DAYS)
    # WHEN every sale of the window itself is doubled
    changed, _ = residuals_of(synthetic_dataset, 2.0, first=SEASON_LAG_DAYS)
    # THEN every residual grows by exactly log 2: its forecast is unchanged (its forest trained on earlier rows)
    np.testing.assert_allclose(changed - residuals, np.log(2.0), atol=1e-5)  # sales are float32


def test_pooled_residuals_set_the_interval(synthetic_dataset: Dataset) -> None:
    # GIVEN calibration residuals of a tight forecast and earlier residuals of a wide spread
    rng = np.random.default_rng(0)
    leads = np.tile(np.arange(1, HORIZON_DAYS + 1), 20)
    actual = np.exp(rng.normal(8.0, 0.01, leads.size))
    rows = np.zeros(2 * leads.size, dtype=np.int64)
    earlier = EarlierResiduals(rng.normal(0.0, 0.3, 2 * leads.size), np.tile(leads, 2), rows, rows)
    # WHEN the interval is calibrated with and without the earlier windows
    own = calibrate(actual, np.full(leads.size, 8.0), leads)["interval"]
    pooled = calibrate(actual, np.full(leads.size, 8.0), leads, earlier)["interval"]
    # THEN the pooled interval is the wider one in every lead week, and the correction is unchanged
    assert all(p > o for p, o in zip(pooled["upper_log"], own["upper_log"]))
    assert all(p < o for p, o in zip(pooled["lower_log"], own["lower_log"]))
    assert calibrate(actual, np.full(leads.size, 8.0), leads, earlier)["correction"] == calibrate(
        actual, np.full(leads.size, 8.0), leads)["correction"]
