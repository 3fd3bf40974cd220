"""Training on generated data exports an immutable, verified ONNX version that serving can load."""

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY_FOREST
from rossmann_core.data.panel import attach_covariates
from rossmann_core.features.tabular import FEATURE_NAMES
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.version import ArtifactIntegrityError, load_version
from training.backtest import run_backtest
from training.data import Dataset
from training.train import train_model


@pytest.fixture(scope="module")
def version_dir(synthetic_dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_model(synthetic_dataset, tmp_path_factory.mktemp("artifacts"), settings=TINY_FOREST)


def test_version_folder_holds_manifest_model_state_and_latest_pointer(version_dir: Path) -> None:
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["rf.onnx", "store_state.npz"]
    assert manifest["feature_names"] == list(FEATURE_NAMES)
    assert manifest["origin"] == "2015-01-31"
    assert manifest["windows"]["calibration"] == ["2014-12-21", "2015-01-31"]
    assert manifest["models"]["rf"]["onnx_parity_max_abs_diff"] < 1e-4
    assert set(manifest["models"]["rf"]["importance"]["permutation_rmspe_increase"]) == set(FEATURE_NAMES)
    interval = manifest["models"]["rf"]["interval"]
    assert all(lo < 0 < hi for lo, hi in zip(interval["lower_log"], interval["upper_log"]))
    assert json.loads((version_dir.parent / "latest.json").read_text()) == {"version": version_dir.name}


def test_serving_forecast_is_accurate_on_generated_data(version_dir: Path, synthetic_dataset: Dataset) -> None:
    version = load_version(version_dir)
    origin = version.history.n_days - 1
    future = synthetic_dataset.panel.window(version.history.dates[-1] + 1, version.history.dates[-1] + 42)
    panel = attach_covariates(version.history, future)
    forecast = forecast_panel(version, panel, origin, 42)
    assert len(forecast.sales) == 8 * 42
    assert np.all(forecast.sales[forecast.open == 0] == 0)
    opened = forecast.open == 1
    assert np.all((forecast.lower <= forecast.sales) & (forecast.sales <= forecast.upper))
    assert forecast.sales[opened].min() > 1000


def test_a_tampered_file_is_refused(version_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / version_dir.name
    copy.mkdir()
    for path in version_dir.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    model = copy / "rf.onnx"
    model.write_bytes(model.read_bytes()[:-1] + b"\0")
    with pytest.raises(ArtifactIntegrityError, match="does not match the manifest"):
        load_version(copy)


def test_backtest_scores_the_horizon_through_onnx(synthetic_dataset: Dataset, tmp_path: Path) -> None:
    result = run_backtest(synthetic_dataset, np.datetime64("2014-12-20"), 42, "rf", tmp_path, TINY_FOREST)
    assert {"model", "cutoff", "horizon", "rows", "rmspe", "coverage_90", "train_seconds"} <= set(result)
    assert result["rows"] == 8 * 33, "8 stores x 42 days less 6 Sundays and 3 holidays"
    assert result["rmspe"] < 0.12
    assert 0.5 < result["coverage_90"] <= 1.0
