"""Kaggle's RMSPE and the figures derived from it, on hand-computed rows."""

import numpy as np
import pytest

from training.metrics import coverage, rmspe, rmspe_correction, rmspe_without_worst_row


def test_rmspe_scores_only_rows_with_sales() -> None:
    actual = np.array([100.0, 200.0, 0.0])
    predicted = np.array([110.0, 150.0, 999.0])
    assert rmspe(actual, predicted) == pytest.approx(np.sqrt((0.1**2 + 0.25**2) / 2))


def test_without_worst_row_drops_exactly_the_largest_error() -> None:
    actual = np.array([100.0, 200.0, 46.0, 50.0, 0.0])
    predicted = np.array([110.0, 150.0, 4803.0, 55.0, 7.0])
    assert rmspe(actual, predicted) > 50
    assert rmspe_without_worst_row(actual, predicted) == pytest.approx(np.sqrt((0.1**2 + 0.25**2 + 0.1**2) / 3))


def test_without_worst_row_needs_two_rows() -> None:
    with pytest.raises(ValueError, match="at least two rows"):
        rmspe_without_worst_row(np.array([100.0, 0.0]), np.array([90.0, 5.0]))


def test_correction_minimises_rmspe() -> None:
    actual = np.array([100.0, 200.0, 50.0, 80.0])
    predicted = np.array([120.0, 190.0, 70.0, 85.0])
    factor = rmspe_correction(actual, predicted)
    best = rmspe(actual, factor * predicted)
    assert best < rmspe(actual, predicted)
    assert best <= min(rmspe(actual, f * predicted) for f in (factor - 0.01, factor + 0.01))


def test_one_store_day_far_below_its_forecast_does_not_set_the_trimmed_correction() -> None:
    rng = np.random.default_rng(0)
    actual = rng.uniform(3000.0, 9000.0, 2000)
    predicted = actual * 1.05
    actual[7], predicted[7] = 46.0, 4800.0
    assert rmspe_correction(actual, predicted) < 0.5
    assert rmspe_correction(actual, predicted, trim=0.001) == pytest.approx(1 / 1.05)


def test_trim_leaves_out_the_share_of_rows_rounded_down() -> None:
    actual = np.array([100.0, 100.0, 100.0, 100.0, 10.0])
    predicted = np.array([110.0, 90.0, 100.0, 100.0, 100.0])
    assert rmspe_correction(actual, predicted, trim=0.1) == rmspe_correction(actual, predicted)
    assert rmspe_correction(actual, predicted, trim=0.2) == rmspe_correction(actual[:4], predicted[:4])


def test_coverage_counts_bounds_as_inside() -> None:
    actual = np.array([100.0, 200.0, 300.0, 0.0])
    assert coverage(actual, np.array([100.0, 210.0, 250.0, 5.0]), np.array([120.0, 260.0, 300.0, 9.0])) == 2 / 3
