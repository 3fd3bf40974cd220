"""The blend-weight study's grid and choice, on made-up member forecasts of known quality."""

import numpy as np
import pytest

from scripts.studies.blend_weights_study import study, weight_grid


def test_the_grid_holds_every_weighting_that_sums_to_one() -> None:
    grid = weight_grid(["a", "b", "c"], 0.5)
    assert sorted(grid) == sorted([(0, 0, 1), (0, 0.5, 0.5), (0, 1, 0), (0.5, 0, 0.5), (0.5, 0.5, 0), (1, 0, 0)])
    assert len(weight_grid(["a", "b", "c"], 0.05)) == 231


def test_two_members_erring_in_opposite_directions_are_blended_half_and_half() -> None:
    # GIVEN two windows where member "up" forecasts 10 % high and "down" 10 % low on every row, and "noise"
    # is unbiased but noisy
    rng = np.random.default_rng(0)
    windows = []
    for cutoff in ("2015-05-08", "2015-02-13"):
        actual = rng.uniform(3000, 9000, size=500)
        logs = {"up": np.log(actual * 1.1), "down": np.log(actual / 1.1),
                "noise": np.log(actual) + rng.normal(0, 0.3, size=500)}
        windows.append((cutoff, actual, logs))
    result = study(windows, 0.05)
    # THEN the best blend is up/down half and half (exact in log space) and beats every member on both windows
    best = result["best"][0]
    assert best["weights"] == {"up": 0.5, "down": 0.5, "noise": 0.0}
    assert best["rmspe"] == best["rmspe_without_worst_row"] == [0.0, 0.0]
    assert best["windows_better_than_every_member"] == 2
    assert result["members_rmspe_without_worst_row"]["up"] == [pytest.approx(0.1, abs=1e-4)] * 2
    assert [r["held_out_rmspe_without_worst_row"] for r in result["leave_one_window_out"]] == [0.0, 0.0]
