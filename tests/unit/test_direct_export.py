"""The direct model's ONNX graph decides every float32 row as LightGBM does, even at a threshold between two
adjacent float32 values (LightGBM's thresholds are float64, the graph's float32)."""

import lightgbm
import numpy as np
import pytest

from training.direct.export import direct_to_onnx, float32_floor, float32_thresholds
from training.parity import onnx_output


def adjacent_values_booster() -> tuple[lightgbm.Booster, np.ndarray]:
    """One split between two adjacent float32 values, each with its own leaf (0 and 1), and those rows (400, 1)."""
    low = np.float32(8.123456)
    high = np.nextafter(low, np.float32(np.inf))
    rows = np.array([low] * 200 + [high] * 200, dtype=np.float32).reshape(-1, 1)
    target = np.repeat([0.0, 1.0], 200)
    params = {"objective": "regression", "num_leaves": 2, "min_data_in_leaf": 5, "learning_rate": 1.0, "verbose": -1}
    return lightgbm.train(params, lightgbm.Dataset(rows, target), num_boost_round=1), rows


def test_a_threshold_rounded_to_the_nearest_float32_sends_a_row_the_other_way() -> None:
    booster, rows = adjacent_values_booster()
    assert np.max(np.abs(onnx_output(direct_to_onnx(booster, 1), rows) - booster.predict(rows))) == 1.0


def test_lowered_thresholds_keep_lightgbm_s_decisions_and_the_graph_gives_them_exactly() -> None:
    booster, rows = adjacent_values_booster()
    lowered = float32_thresholds(booster)
    np.testing.assert_array_equal(lowered.predict(rows), booster.predict(rows))
    np.testing.assert_array_equal(onnx_output(direct_to_onnx(lowered, 1), rows), booster.predict(rows))


@pytest.mark.parametrize("value", [8.1234564781188983, -3.5, 0.1, 1e-35, -1e-35, 2.0**-149])
def test_the_floor_is_the_largest_float32_at_or_below(value: float) -> None:
    floor = float32_floor(value)
    assert floor <= value and float(np.float32(floor)) == floor
    assert float(np.nextafter(np.float32(floor), np.float32(np.inf))) > value


def test_a_booster_of_many_trees_reads_back_with_the_same_predictions() -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(5000, 6)).astype(np.float32)
    target = rows[:, 0] * 2 + np.sin(rows[:, 1]) + rng.normal(size=5000) * 0.1
    params = {"objective": "regression", "num_leaves": 31, "learning_rate": 0.1, "verbose": -1}
    booster = lightgbm.train(params, lightgbm.Dataset(rows, target), num_boost_round=50)
    lowered = float32_thresholds(booster)
    assert lowered.num_trees() == 50
    np.testing.assert_array_equal(lowered.predict(rows), booster.predict(rows))
    np.testing.assert_allclose(onnx_output(direct_to_onnx(lowered, 6), rows), booster.predict(rows), atol=1e-5)
