"""A tiny LSTM trained end to end on generated data: Keras -> ONNX -> manifest -> serving forecasts.

The session's one ensemble backtest (RF + HGB + LSTM in one version, 1 epoch; ``ensemble_backtest`` in
conftest.py) backs every test of the module.
"""

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY_LSTM, EnsembleBacktest
from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import attach_covariates
from rossmann_core.features.sequences import CALENDAR_PARTS, FUTURE_CHANNELS, INPUT_NAMES, STATIC_FEATURES
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.manifest import BlendEntry, LstmEntry
from rossmann_core.models.version import ModelVersion, load_version
from rossmann_core.serving.servable import take_stores
from training.config import BLEND_WEIGHTS
from training.data import Dataset


@pytest.fixture(scope="module")
def version_dir(ensemble_version_dir: Path) -> Path:
    return ensemble_version_dir


@pytest.fixture(scope="module")
def version(version_dir: Path) -> ModelVersion:
    return load_version(version_dir)


def serving_panel(version: ModelVersion, dataset: Dataset):
    """The version's history + the real covariates of the next HORIZON_DAYS days, for the version's stores."""
    last = version.history.dates[-1]
    future = dataset.panel.window(last + 1, last + HORIZON_DAYS)
    rows = dataset.stores.index_of(version.history.store_ids)
    future = future.take_stores(rows)
    return attach_covariates(version.history, future)


def test_one_version_holds_rf_hgb_lstm_and_their_blend(version_dir: Path, version: ModelVersion) -> None:
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["direct.onnx", "direct_paths.npz", "hgb.onnx", "hgb_paths.npz", "lstm.onnx",
                                         "rf.onnx", "rf_paths.npz", "store_state.npz", "totals_pool.npz"]
    assert manifest["totals"]["models"] == ["rf", "hgb", "direct", "lstm", "ensemble"]
    lstm = manifest["models"]["lstm"]
    assert lstm["lookback_weeks"] == TINY_LSTM.lookback_weeks and lstm["input_names"] == list(INPUT_NAMES)
    assert lstm["inputs"]["past"] == {"shape": [None, TINY_LSTM.lookback_weeks, 42], "dtype": "float32"}
    assert lstm["inputs"]["future"] == {"shape": [None, HORIZON_DAYS, len(FUTURE_CHANNELS)], "dtype": "float32"}
    assert lstm["inputs"]["static"]["shape"] == [None, len(STATIC_FEATURES)]
    assert lstm["inputs"]["store"]["dtype"] == "int32"
    assert lstm["inputs"]["calendar"] == {"shape": [None, HORIZON_DAYS, len(CALENDAR_PARTS)], "dtype": "int32"}
    assert lstm["onnx_parity_max_abs_diff"] < 1e-4, "the mean of the seeds' models in onnxruntime must match Keras"
    assert [f["seed"] for f in lstm["seeds"]] == [TINY_LSTM.seed, TINY_LSTM.seed + 1]
    assert all(len(f["epochs"]) == 1 and f["epochs"][0]["seconds"] > 0 for f in lstm["seeds"])
    assert lstm["train_seconds"] == pytest.approx(sum(f["train_seconds"] for f in lstm["seeds"]), abs=0.1)
    assert all(lo < hi for lo, hi in zip(lstm["scaler"]["past"]["lo"][:1], lstm["scaler"]["past"]["hi"][:1]))
    assert lstm["metrics"]["calibration_rmspe"] > 0 and len(lstm["interval"]["lower_log"]) == 6
    blend = manifest["models"]["ensemble"]
    assert blend["kind"] == "blend" and "file" not in blend
    assert blend["weights"] == {name: w for name, w in BLEND_WEIGHTS.items() if w > 0}, "fixed, not fitted here"
    assert manifest["default_model"] == "ensemble" == version.best_model, "chosen on several windows, not on one"
    assert sum(blend["weights"].values()) == pytest.approx(1.0)
    hgb = manifest["models"]["hgb"]
    assert hgb["onnx_parity_max_abs_diff"] < 1e-4, "onnxruntime must match scikit-learn's boosting"
    assert hgb["settings"]["max_iter"] > 0 and len(hgb["interval"]["lower_log"]) == 6
    assert sorted(version.sessions) == ["direct", "hgb", "lstm", "rf"]
    assert sorted(version.models) == ["direct", "ensemble", "hgb", "lstm", "rf"]
    # AND the typed manifest reads every entry and gives back the JSON written
    typed = version.manifest.models
    assert isinstance(typed["lstm"], LstmEntry) and isinstance(typed["ensemble"], BlendEntry)
    assert typed["lstm"].sequence.embedding_store_ids == tuple(version.history.store_ids.tolist())
    assert version.manifest.to_dict() == manifest


def test_lstm_and_ensemble_forecasts_through_onnx(version: ModelVersion, synthetic_dataset: Dataset) -> None:
    panel = serving_panel(version, synthetic_dataset)
    origin = version.history.n_days - 1
    forecasts = {name: forecast_panel(version, panel, origin, HORIZON_DAYS, model=name) for name in version.models}
    for forecast in forecasts.values():
        assert len(forecast.sales) == 8 * HORIZON_DAYS
        assert np.all(forecast.sales[forecast.open == 0] == 0)
        assert np.all((forecast.lower <= forecast.sales) & (forecast.sales <= forecast.upper))
    opened = forecasts["lstm"].open == 1
    assert forecasts["lstm"].sales[opened].min() > 1000
    # the blend is the weighted geometric mean of the corrected members, times its own correction
    entry = version.manifest.models["ensemble"]
    blend = np.exp(sum(w * np.log(forecasts[m].sales[opened]) for m, w in entry.weights.items()))
    np.testing.assert_allclose(forecasts["ensemble"].sales[opened], blend * entry.correction, rtol=1e-9)


def test_a_shorter_horizon_is_the_start_of_the_long_one(version: ModelVersion, synthetic_dataset: Dataset) -> None:
    panel = serving_panel(version, synthetic_dataset)
    origin = version.history.n_days - 1
    full = forecast_panel(version, panel, origin, HORIZON_DAYS, model="lstm", store_rows=np.array([1, 4]))
    week = forecast_panel(version, panel, origin, 7, model="lstm", store_rows=np.array([1, 4]))
    np.testing.assert_allclose(week.sales, full.sales[full.lead_days <= 7], rtol=1e-6)
    with pytest.raises(ValueError, match="at most 42 days"):
        forecast_panel(version, panel, origin, HORIZON_DAYS + 1, model="lstm")


def test_a_store_subset_keeps_each_store_s_embedding(version: ModelVersion, synthetic_dataset: Dataset) -> None:
    # GIVEN the version restricted to stores 3, 6 and 7 (as the API does for a request)
    rows = np.array([2, 5, 6])
    subset = take_stores(version, rows)
    origin = version.history.n_days - 1
    whole = forecast_panel(version, serving_panel(version, synthetic_dataset), origin, HORIZON_DAYS, model="lstm")
    part = forecast_panel(subset, serving_panel(subset, synthetic_dataset), origin, HORIZON_DAYS, model="lstm")
    # THEN their forecasts equal those of the whole-version forecast
    np.testing.assert_array_equal(part.store, whole.store[np.isin(whole.store, [3, 6, 7])])
    np.testing.assert_allclose(part.sales, whole.sales[np.isin(whole.store, [3, 6, 7])], rtol=1e-6)


def test_backtest_of_the_ensemble_reports_its_members(ensemble_backtest: EnsembleBacktest) -> None:
    result = ensemble_backtest.result
    assert result["model"] == "ensemble" and result["rows"] == 8 * 33, "8 stores x 42 days less 9 closed days"
    assert set(result["members"]) == {"rf", "hgb", "direct", "lstm"}
    for scores in (result, *result["members"].values()):
        assert 0 < scores["rmspe"] < 0.5 and 0 < scores["coverage_90"] <= 1


def test_a_version_builds_its_default_graphs_at_load_and_the_others_on_first_use(
    version_dir: Path, version: ModelVersion, synthetic_dataset: Dataset
) -> None:
    # GIVEN a freshly loaded version: the default blend's graphs are built, the LSTM (weight 0) and the node values not
    fresh = load_version(version_dir)
    default_graphs = fresh.manifest.graph_models(fresh.best_model)
    assert set(default_graphs) == {m for m, w in BLEND_WEIGHTS.items() if w > 0} and "lstm" not in default_graphs
    assert fresh.sessions.built == default_graphs and fresh.paths.built == ()
    assert "lstm" in fresh.sessions and "rf" in fresh.paths and fresh.sessions.built == default_graphs
    # WHEN the LSTM forecasts THEN its session is built then and forecasts as an eagerly built one does
    panel = serving_panel(fresh, synthetic_dataset)
    origin = fresh.history.n_days - 1
    lazy = forecast_panel(fresh, panel, origin, HORIZON_DAYS, model="lstm")
    assert fresh.sessions.built == (*default_graphs, "lstm")
    eager = load_version(version_dir)
    eager.sessions["lstm"]
    np.testing.assert_array_equal(lazy.sales, forecast_panel(eager, panel, origin, HORIZON_DAYS, model="lstm").sales)
