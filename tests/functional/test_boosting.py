"""The gradient-boosted member trained alone on generated data: ONNX equals scikit-learn on the served rows."""

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import HOLDOUT_CUTOFF, TINY_BOOSTING, TINY_FOREST, assert_serves_refit, served_rows
from rossmann_core.features.tabular import FeatureBuilder
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.version import load_version
from training.data import Dataset
from training.hgb.fit import fit_boosting
from training.train import history_until, train_model
from training.tree_rows import PER_ORIGIN_UNUSED, cutoff_training_rows, without_features


@pytest.fixture(scope="module")
def version_dir(synthetic_dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_model(synthetic_dataset, tmp_path_factory.mktemp("registry"), HOLDOUT_CUTOFF, TINY_FOREST,
                       models=("hgb",), boosting=TINY_BOOSTING)


def test_a_boosting_only_version_holds_its_graph_and_no_blend(version_dir: Path) -> None:
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["hgb.onnx", "hgb_paths.npz", "store_state.npz", "totals_pool.npz"]
    assert sorted(manifest["models"]) == ["hgb"], "one member is not a blend"
    hgb = manifest["models"]["hgb"]
    assert hgb["settings"]["max_iter"] == TINY_BOOSTING.max_iter
    assert hgb["onnx_parity_max_abs_diff"] < 1e-4 and manifest["rows"]["train"] > 0
    assert hgb["paths_file"] == "hgb_paths.npz" and hgb["paths_parity_max_abs_diff"] < 1e-5
    assert all(lo < 0 < hi for lo, hi in zip(hgb["interval"]["lower_log"], hgb["interval"]["upper_log"]))


def test_served_forecast_is_the_scikit_learn_model_on_the_same_rows(version_dir: Path,
                                                                    synthetic_dataset: Dataset) -> None:
    # GIVEN the served version and the same boosting fitted again by scikit-learn on the same rows (it is
    # deterministic: no early stopping, no subsampling)
    version = load_version(version_dir)
    history = history_until(synthetic_dataset, HOLDOUT_CUTOFF)
    rows = cutoff_training_rows(history, TINY_FOREST.max_train_rows, TINY_FOREST.random_state)
    features = without_features(FeatureBuilder(history, synthetic_dataset.stores).build(*rows), PER_ORIGIN_UNUSED)
    model = fit_boosting(features, history.sales[rows[:2]], TINY_BOOSTING)
    # THEN serving's forecasts through onnxruntime are scikit-learn's, times the manifest's correction
    assert_serves_refit(version, synthetic_dataset, "hgb", model.predict)


def test_the_boosting_is_accurate_on_held_out_generated_days(version_dir: Path, synthetic_dataset: Dataset) -> None:
    version = load_version(version_dir)
    panel, _ = served_rows(version, synthetic_dataset, 21)
    forecast = forecast_panel(version, panel, version.history.n_days - 1, 21, model="hgb")
    day = ((forecast.date - synthetic_dataset.panel.start) // np.timedelta64(1, "D")).astype(np.int64)
    actual = synthetic_dataset.panel.sales[synthetic_dataset.stores.index_of(forecast.store), day]
    scored = (forecast.open == 1) & (actual > 0)
    error = np.sqrt(np.mean(((actual[scored] - forecast.sales[scored]) / actual[scored]) ** 2))
    print(f"tiny boosting RMSPE on the 21 held-out days: {error:.4f}")
    assert 0.03 < error < 0.09, f"RMSPE {error:.3f}: below 0.03 the forecast saw the answers, above 0.09 it is broken"
