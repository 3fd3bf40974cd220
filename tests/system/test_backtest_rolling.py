"""Rolling-origin backtest on generated data: windows, their summary, the one-window CLI, bad cutoffs.

One ensemble backtest of two windows (tiny RF + 2-epoch LSTM cut to 1 by ``lstm_epochs``) backs the
window and summary tests.
"""

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import TINY_FOREST
from rossmann_core.data.panel import attach_covariates
from rossmann_core.errors import DataRangeError, SettingsError
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.version import load_version
from synthetic import SyntheticData
from training.__main__ import main
from training.backtest import min_cutoff_day, run_backtest, run_rolling_backtest
from training.config import DEFAULT_LSTM, LstmSettings
from training.data import Dataset
from training.train import train_model

CUTOFF = np.datetime64("2014-12-20")
HORIZON = 42
TWO_EPOCH_LSTM = LstmSettings(lookback_weeks=8, lstm_units=(8, 8), embedding_dim=2, head_units=8, epochs=2,
                              batch_size=256, seeds=1)
MODELS = ("ensemble", "rf", "hgb", "direct", "lstm")


@pytest.fixture(scope="module")
def rolling(synthetic_dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """Two ensemble windows 42 days apart, trained once for the module; and their artifacts folder."""
    artifacts = tmp_path_factory.mktemp("artifacts")
    result = run_rolling_backtest(synthetic_dataset, CUTOFF, HORIZON, "ensemble", artifacts, windows=2, step=42,
                                  lstm_epochs=1, settings=TINY_FOREST, lstm_settings=TWO_EPOCH_LSTM)
    return result, artifacts


def scores_of(window: dict[str, Any], name: str) -> dict[str, Any]:
    return window if name == window["model"] else window["members"][name]


def test_two_windows_step_back_by_42_days(rolling: tuple[dict[str, Any], Path]) -> None:
    result, artifacts = rolling
    assert (result["model"], result["horizon"], result["step_days"]) == ("ensemble", HORIZON, 42)
    windows = result["windows"]
    assert [w["cutoff"] for w in windows] == ["2014-12-20", "2014-11-08"]
    assert [(w["first_day"], w["last_day"]) for w in windows] == [
        ("2014-12-21", "2015-01-31"), ("2014-11-09", "2014-12-20")]
    assert windows[0]["version"] != windows[1]["version"]
    for window in windows:
        manifest_path = artifacts / "backtests" / "windows" / window["cutoff"] / "models" / window["version"]
        manifest = json.loads((manifest_path / "manifest.json").read_text())
        assert manifest["origin"] == window["cutoff"], "each window is trained on days up to its own cutoff"
        (fitted,) = manifest["models"]["lstm"]["seeds"]
        assert len(fitted["epochs"]) == 1, "lstm_epochs=1 overrides TWO_EPOCH_LSTM's 2 epochs"
        assert 0 < window["rows"] <= 8 * HORIZON and 0 < window["baseline_rmspe"] < 1
        for name in MODELS:
            scores = scores_of(window, name)
            assert 0 < scores["rmspe"] < 0.5 and 0 < scores["coverage_90"] <= 1 and 0 < scores["width_90"] < 2
            assert 0 < scores["rmspe_without_worst_row"] < scores["rmspe"]
    assert windows[0]["rmspe"] != windows[1]["rmspe"], "different days give different scores"
    assert json.loads(json.dumps(result))["windows"][1]["cutoff"] == "2014-11-08", "the result is JSON"


def test_a_window_holds_the_single_backtest_of_its_cutoff(
    rolling: tuple[dict[str, Any], Path], synthetic_dataset: Dataset, tmp_path: Path
) -> None:
    single = run_backtest(synthetic_dataset, CUTOFF, HORIZON, "ensemble", tmp_path, TINY_FOREST,
                          replace(TWO_EPOCH_LSTM, epochs=1))
    window = rolling[0]["windows"][0]
    assert set(window) - set(single) == {"first_day", "last_day", "width_90", "christmas"}
    assert window["christmas"] is True and window["totals"] == single["totals"]  # days 2014-12-21..2015-01-31
    for key in ("cutoff", "horizon", "rows"):
        assert window[key] == single[key]
    for name in MODELS:
        for key in ("rmspe", "rmspe_without_worst_row", "coverage_90"):
            assert scores_of(window, name)[key] == pytest.approx(scores_of(single, name)[key], rel=1e-6)
    assert window["baseline_rmspe"] == single["baseline_rmspe"]


def test_settings_record_the_lstm_epochs_override(rolling: tuple[dict[str, Any], Path]) -> None:
    settings = rolling[0]["settings"]
    assert settings["lstm"]["epochs"] == 1 and settings["lstm_epochs_override"] == 1
    assert settings["lstm"]["lookback_weeks"] == TWO_EPOCH_LSTM.lookback_weeks
    assert settings["forest"]["n_estimators"] == TINY_FOREST.n_estimators


def test_summary_is_the_mean_and_worst_of_the_windows(rolling: tuple[dict[str, Any], Path]) -> None:
    result = rolling[0]
    assert list(result["summary"]) == list(MODELS)
    for name in MODELS:
        per_window = [scores_of(window, name) for window in result["windows"]]
        rmspes = [s["rmspe"] for s in per_window]
        coverages = [s["coverage_90"] for s in per_window]
        worst = result["windows"][rmspes.index(max(rmspes))]
        assert result["summary"][name] == {
            "mean_rmspe": pytest.approx(sum(rmspes) / 2),
            "median_rmspe": pytest.approx(sum(rmspes) / 2),  # the median of two windows is their mean
            "mean_rmspe_without_worst_row": pytest.approx(sum(s["rmspe_without_worst_row"] for s in per_window) / 2),
            "worst_rmspe": max(rmspes),
            "worst_cutoff": worst["cutoff"],
            "mean_coverage_90": pytest.approx(sum(coverages) / 2),
            "min_coverage_90": min(coverages),
            "max_coverage_90": max(coverages),
            "mean_width_90": pytest.approx(sum(s["width_90"] for s in per_window) / 2),
        }


def test_width_is_the_mean_of_upper_minus_lower_over_actual_sales(
    rolling: tuple[dict[str, Any], Path], synthetic_dataset: Dataset
) -> None:
    result, artifacts = rolling
    window = result["windows"][1]
    version = load_version(artifacts / "backtests" / "windows" / window["cutoff"] / "models" / window["version"])
    first, last = np.datetime64(window["first_day"]), np.datetime64(window["last_day"])
    panel = attach_covariates(version.history, synthetic_dataset.panel.window(first, last))
    forecast = forecast_panel(version, panel, version.history.n_days - 1, HORIZON, model="rf")
    day = ((forecast.date - synthetic_dataset.panel.start) // np.timedelta64(1, "D")).astype(np.int64)
    actual = synthetic_dataset.panel.sales[synthetic_dataset.stores.index_of(forecast.store), day]
    scored = (actual > 0) & (forecast.open == 1)
    assert scored.sum() == window["rows"]
    width = np.mean((forecast.upper[scored] - forecast.lower[scored]) / actual[scored])
    assert window["members"]["rf"]["width_90"] == pytest.approx(width, rel=1e-12)


def test_one_window_writes_run_backtest_s_result(
    synthetic: SyntheticData, synthetic_dataset: Dataset, tmp_path: Path
) -> None:
    out = tmp_path / "rf.json"
    argv = ["backtest", "--data-dir", str(synthetic.directory), "--cutoff", str(CUTOFF), "--horizon", "42",
            "--model", "rf", "--artifacts", str(tmp_path / "cli"), "--out", str(out)]
    assert main(argv) == 0
    written = json.loads(out.read_text())
    expected = run_backtest(synthetic_dataset, CUTOFF, HORIZON, "rf", tmp_path / "direct")
    assert list(written) == list(expected) == [
        "model", "version", "cutoff", "horizon", "rows", "rmspe", "rmspe_without_worst_row", "coverage_90",
        "baseline_rmspe", "train_seconds", "predict_seconds", "totals"], \
        "the single-window JSON keeps its keys, in order, and adds the totals' scores per level"
    assert set(written["totals"]) == {"chain_day", "state_week", "store_type_week", "store_window"}
    timing = {"version", "train_seconds", "predict_seconds"}
    assert {k: v for k, v in written.items() if k not in timing} == {
        k: v for k, v in expected.items() if k not in timing}
    assert (tmp_path / "cli" / "backtests" / "models" / written["version"] / "manifest.json").is_file()


@pytest.mark.parametrize(
    ("cutoff", "windows", "model", "lstm_settings", "message"),
    [
        ("2014-12-21", 2, "rf", DEFAULT_LSTM,
         r"backtest window 1 of 2 \(cutoff 2014-12-21\): its 42-day horizon ends on 2015-02-01, "
         r"after the data's last day 2015-01-31"),
        ("2013-09-01", 3, "rf", DEFAULT_LSTM,
         r"backtest window 3 of 3 \(cutoff 2013-06-09\): too little history before it; the data start on "
         r"2013-01-01 and training rf needs a cutoff on or after 2013-07-16"),
        ("2013-08-19", 2, "ensemble", DEFAULT_LSTM,
         r"window 2 of 2 \(cutoff 2013-07-08\): too little history .* training rf \+ hgb \+ direct \+ lstm needs a "
         r"cutoff on or after 2013-07-16"),
        ("2013-05-19", 1, "lstm", TWO_EPOCH_LSTM,
         r"window 1 of 1 \(cutoff 2013-05-19\): too little history .* training lstm needs a cutoff on or "
         r"after 2013-05-20"),
    ],
)
def test_a_bad_cutoff_fails_naming_its_window_before_training(
    synthetic_dataset: Dataset, tmp_path: Path, cutoff: str, windows: int, model: str,
    lstm_settings: LstmSettings, message: str,
) -> None:
    with pytest.raises(DataRangeError, match=message):
        run_rolling_backtest(synthetic_dataset, np.datetime64(cutoff), HORIZON, model, tmp_path, windows=windows,
                             settings=TINY_FOREST, lstm_settings=lstm_settings)
    assert not (tmp_path / "backtests").exists(), "nothing is trained"


@pytest.mark.parametrize(
    ("windows", "step", "model", "lstm_epochs", "message"),
    [(0, 42, "rf", None, "windows=0"), (2, 0, "rf", None, "step=0"),
     (2, 42, "rf", 3, "lstm_epochs=3: needs a model that trains the LSTM"),
     (2, 42, "lstm", 0, "at least 1 epoch")],
)
def test_bad_settings_fail_before_training(
    synthetic_dataset: Dataset, tmp_path: Path, windows: int, step: int, model: str, lstm_epochs: int | None,
    message: str,
) -> None:
    with pytest.raises(SettingsError, match=message):
        run_rolling_backtest(synthetic_dataset, CUTOFF, HORIZON, model, tmp_path, windows=windows, step=step,
                             lstm_epochs=lstm_epochs)
    assert not (tmp_path / "backtests").exists()


def test_the_cli_reports_a_bad_cutoff_and_writes_nothing(
    synthetic: SyntheticData, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "rf.json"
    argv = ["backtest", "--data-dir", str(synthetic.directory), "--cutoff", "2014-12-20", "--windows", "14",
            "--model", "rf", "--artifacts", str(tmp_path), "--out", str(out)]
    with caplog.at_level(logging.ERROR, logger="training"):
        assert main(argv) == 2
    assert "backtest window 14 of 14 (cutoff 2013-06-22): too little history" in caplog.text
    assert not out.exists() and not (tmp_path / "backtests").exists()


@pytest.mark.parametrize(("model", "lstm_settings"), [("rf", DEFAULT_LSTM), ("lstm", TWO_EPOCH_LSTM)])
def test_the_earliest_cutoff_is_the_first_that_training_accepts(
    synthetic_dataset: Dataset, tmp_path: Path, model: str, lstm_settings: LstmSettings
) -> None:
    earliest = synthetic_dataset.panel.start + np.timedelta64(min_cutoff_day((model,), lstm_settings), "D")
    with pytest.raises(DataRangeError, match="days of history to train"):
        train_model(synthetic_dataset, tmp_path / "early", earliest - 1, TINY_FOREST, (model,), lstm_settings)
    result = run_backtest(synthetic_dataset, earliest, HORIZON, model, tmp_path, TINY_FOREST, lstm_settings)
    assert result["rows"] > 0 and np.isfinite(result["rmspe"])
