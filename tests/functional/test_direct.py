"""The direct member on generated data: trained in sample up to the calibration window, served through onnxruntime
as LightGBM predicts, on the one feature matrix every tree model reads (each ignores the column it was trained
without)."""

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import HOLDOUT_CUTOFF, TINY_BOOSTING, TINY_DIRECT, TINY_FOREST, assert_serves_refit, served_rows
from rossmann_core import HORIZON_DAYS
from rossmann_core.features.tabular import FEATURE_NAMES, FeatureBuilder
from rossmann_core.models.forecast import predict_log_sales
from rossmann_core.models.tree_target import BASELINE_TARGET
from rossmann_core.models.version import load_version
from training.data import Dataset
from training.direct.fit import fit_direct
from training.direct.train import DIRECT_UNUSED, in_sample_rows
from training.train import history_until, train_model
from training.tree_rows import PER_ORIGIN_UNUSED, without_features


@pytest.fixture(scope="module")
def version_dir(synthetic_dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_model(synthetic_dataset, tmp_path_factory.mktemp("registry"), HOLDOUT_CUTOFF, TINY_FOREST,
                       models=("rf", "hgb", "direct"), boosting=TINY_BOOSTING, direct=TINY_DIRECT)


def test_the_direct_model_learns_every_open_day_up_to_the_calibration_window(version_dir: Path,
                                                                            synthetic_dataset: Dataset) -> None:
    history = history_until(synthetic_dataset, HOLDOUT_CUTOFF)
    last = history.n_days - 1 - HORIZON_DAYS
    store, day, origin = in_sample_rows(history, last)
    sales = history.sales[store, day]
    assert day.max() == last and (origin == last).all(), "nothing of the calibration window is learnt"
    assert (history.open[store, day] == 1).all() and (sales > 0).all()
    expected = ((history.open[:, : last + 1] == 1) & (np.nan_to_num(history.sales[:, : last + 1]) > 0)).sum()
    assert len(day) == expected
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert manifest["models"]["direct"]["train_rows"] == expected
    assert manifest["models"]["direct"]["target"] == "log(sales)", "in sample, the baseline is not each row's own"
    assert manifest["models"]["rf"]["target"] == manifest["models"]["hgb"]["target"] == BASELINE_TARGET.description
    assert manifest["models"]["direct"]["onnx_parity_max_abs_diff"] < 1e-4
    assert manifest["models"]["direct"]["paths_parity_max_abs_diff"] < 1e-5


def test_served_direct_forecast_is_the_lightgbm_model_on_the_same_rows(version_dir: Path,
                                                                           synthetic_dataset: Dataset) -> None:
    # GIVEN the direct model fitted again by LightGBM on the same in-sample rows (deterministic)
    version = load_version(version_dir)
    history = history_until(synthetic_dataset, HOLDOUT_CUTOFF)
    rows = in_sample_rows(history, history.n_days - 1 - HORIZON_DAYS)
    features = without_features(FeatureBuilder(history, synthetic_dataset.stores).build(*rows, in_sample=True),
                                 DIRECT_UNUSED)
    model = fit_direct(features, history.sales[rows[:2]], TINY_DIRECT)
    # THEN serving's forecasts through onnxruntime are LightGBM's, times the manifest's correction
    assert_serves_refit(version, synthetic_dataset, "direct", model.predict)


@pytest.mark.parametrize(("models", "unused"), [(("rf", "hgb"), PER_ORIGIN_UNUSED), (("direct",), DIRECT_UNUSED)])
def test_each_tree_model_ignores_the_columns_it_was_trained_without(
    version_dir: Path, synthetic_dataset: Dataset, models: tuple[str, ...], unused: tuple[str, ...]
) -> None:
    version = load_version(version_dir)
    _, features = served_rows(version, synthetic_dataset, 21)
    altered = features.copy()
    altered[:, [FEATURE_NAMES.index(name) for name in unused]] = np.random.default_rng(0).uniform(
        -50, 2000, size=(len(features), len(unused)))
    for model in models:
        np.testing.assert_array_equal(predict_log_sales(version, model, altered),
                                      predict_log_sales(version, model, features))
    moved = features.copy()
    moved[:, FEATURE_NAMES.index("hist_mean_log_365")] += 7
    assert any(not np.array_equal(predict_log_sales(version, m, moved), predict_log_sales(version, m, features))
               for m in models), "the test can fail: a column the model uses moves its output"
