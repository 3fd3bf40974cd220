"""A tiny LSTM trained end to end on generated data: Keras -> ONNX -> manifest -> serving forecasts.

One ensemble backtest (RF + LSTM in one version, 1 epoch) backs every test of the module.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import TINY_FOREST
from rossmann_core.data.panel import attach_covariates
from rossmann_core.features.sequences import FUTURE_CHANNELS, HORIZON, INPUT_NAMES, STATIC_FEATURES
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.version import ModelVersion, load_version
from rossmann_core.serving.servable import take_stores
from training.backtest import run_backtest
from training.config import LstmSettings
from training.data import Dataset

CUTOFF = np.datetime64("2014-12-20")
TINY_LSTM = LstmSettings(lookback_weeks=8, lstm_units=(8, 8), embedding_dim=2, head_units=8, epochs=1,
                         batch_size=256)


@pytest.fixture(scope="module")
def backtest(synthetic_dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """One training for the whole module: the ensemble backtest trains RF + LSTM into one version."""
    artifacts = tmp_path_factory.mktemp("artifacts")
    result = run_backtest(synthetic_dataset, CUTOFF, HORIZON, "ensemble", artifacts, TINY_FOREST, TINY_LSTM)
    return result, artifacts / "backtests" / "models" / result["version"]


@pytest.fixture(scope="module")
def version_dir(backtest: tuple[dict[str, Any], Path]) -> Path:
    return backtest[1]


@pytest.fixture(scope="module")
def version(version_dir: Path) -> ModelVersion:
    return load_version(version_dir)


def serving_panel(version: ModelVersion, dataset: Dataset):
    """The version's history + the real covariates of the next HORIZON days, for the version's stores."""
    last = version.history.dates[-1]
    future = dataset.panel.window(last + 1, last + HORIZON)
    rows = dataset.stores.index_of(version.history.store_ids)
    future = future.take_stores(rows)
    return attach_covariates(version.history, future)


def test_one_version_holds_rf_lstm_and_their_blend(version_dir: Path, version: ModelVersion) -> None:
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["lstm.onnx", "rf.onnx", "store_state.npz"]
    lstm = manifest["models"]["lstm"]
    assert lstm["lookback_weeks"] == 8 and lstm["input_names"] == list(INPUT_NAMES)
    assert lstm["inputs"]["past"] == {"shape": [None, 8, 42], "dtype": "float32"}
    assert lstm["inputs"]["future"] == {"shape": [None, HORIZON, len(FUTURE_CHANNELS)], "dtype": "float32"}
    assert lstm["inputs"]["static"]["shape"] == [None, len(STATIC_FEATURES)]
    assert lstm["inputs"]["store"]["dtype"] == "int32"
    assert lstm["onnx_parity_max_abs_diff"] < 1e-4, "onnxruntime must match Keras on the calibration windows"
    assert len(lstm["epochs"]) == 1 and lstm["epochs"][0]["seconds"] > 0 and lstm["train_seconds"] > 0
    assert all(lo < hi for lo, hi in zip(lstm["scaler"]["past"]["lo"][:1], lstm["scaler"]["past"]["hi"][:1]))
    assert lstm["metrics"]["calibration_rmspe"] > 0 and len(lstm["interval"]["lower_log"]) == 6
    blend = manifest["models"]["ensemble"]
    assert blend["kind"] == "blend" and "file" not in blend
    assert sum(blend["weights"].values()) == pytest.approx(1.0)
    assert blend["metrics"]["calibration_rmspe"] <= min(
        manifest["models"][name]["metrics"]["calibration_rmspe"] for name in ("rf", "lstm")
    ) + 1e-9, "weight 0 or 1 is on the grid, so the blend is never worse on the calibration rows"
    assert sorted(version.sessions) == ["lstm", "rf"] and sorted(version.models) == ["ensemble", "lstm", "rf"]


def test_lstm_and_ensemble_forecasts_through_onnx(version: ModelVersion, synthetic_dataset: Dataset) -> None:
    panel = serving_panel(version, synthetic_dataset)
    origin = version.history.n_days - 1
    forecasts = {name: forecast_panel(version, panel, origin, HORIZON, model=name) for name in version.models}
    for forecast in forecasts.values():
        assert len(forecast.sales) == 8 * HORIZON
        assert np.all(forecast.sales[forecast.open == 0] == 0)
        assert np.all((forecast.lower <= forecast.sales) & (forecast.sales <= forecast.upper))
    opened = forecasts["lstm"].open == 1
    assert forecasts["lstm"].sales[opened].min() > 1000
    # the blend is the weighted geometric mean of the corrected members, times its own correction
    entry = version.manifest["models"]["ensemble"]
    blend = np.exp(sum(w * np.log(forecasts[m].sales[opened]) for m, w in entry["weights"].items()))
    np.testing.assert_allclose(forecasts["ensemble"].sales[opened], blend * entry["correction"], rtol=1e-9)


def test_a_shorter_horizon_is_the_start_of_the_long_one(version: ModelVersion, synthetic_dataset: Dataset) -> None:
    panel = serving_panel(version, synthetic_dataset)
    origin = version.history.n_days - 1
    full = forecast_panel(version, panel, origin, HORIZON, model="lstm", store_rows=np.array([1, 4]))
    week = forecast_panel(version, panel, origin, 7, model="lstm", store_rows=np.array([1, 4]))
    np.testing.assert_allclose(week.sales, full.sales[full.lead_days <= 7], rtol=1e-6)
    with pytest.raises(ValueError, match="at most 42 days"):
        forecast_panel(version, panel, origin, HORIZON + 1, model="lstm")


def test_a_store_subset_keeps_each_store_s_embedding(version: ModelVersion, synthetic_dataset: Dataset) -> None:
    # GIVEN the version restricted to stores 3, 6 and 7 (as the API does for a request)
    rows = np.array([2, 5, 6])
    subset = take_stores(version, rows)
    origin = version.history.n_days - 1
    whole = forecast_panel(version, serving_panel(version, synthetic_dataset), origin, HORIZON, model="lstm")
    part = forecast_panel(subset, serving_panel(subset, synthetic_dataset), origin, HORIZON, model="lstm")
    # THEN their forecasts equal those of the whole-version forecast
    np.testing.assert_array_equal(part.store, whole.store[np.isin(whole.store, [3, 6, 7])])
    np.testing.assert_allclose(part.sales, whole.sales[np.isin(whole.store, [3, 6, 7])], rtol=1e-6)


def test_backtest_of_the_ensemble_reports_its_members(backtest: tuple[dict[str, Any], Path]) -> None:
    result = backtest[0]
    assert result["model"] == "ensemble" and result["rows"] == 8 * 33, "8 stores x 42 days less 9 closed days"
    assert set(result["members"]) == {"rf", "lstm"}
    for scores in (result, *result["members"].values()):
        assert 0 < scores["rmspe"] < 0.5 and 0 < scores["coverage_90"] <= 1
