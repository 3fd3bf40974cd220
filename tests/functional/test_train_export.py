"""Training on generated data exports an immutable, verified ONNX version that serving can load."""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import HOLDOUT_CUTOFF, TINY_FOREST, TinyForest
from rossmann_core.data.panel import attach_covariates
from rossmann_core.errors import ArtifactIntegrityError
from rossmann_core.features.tabular import FEATURE_NAMES
from rossmann_core.models.forecast import forecast_panel
from rossmann_core.models.version import load_version
from training.backtest import run_backtest
from training.data import Dataset


@pytest.fixture(scope="module")
def version_dir(synthetic_version_dir: Path) -> Path:
    return synthetic_version_dir


def rmspe(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Root mean squared percentage error (a fraction) of ``forecast`` against positive ``actual``."""
    return float(np.sqrt(np.mean(((actual - forecast) / actual) ** 2)))


def test_version_folder_holds_manifest_model_state_and_latest_pointer(version_dir: Path) -> None:
    manifest = json.loads((version_dir / "manifest.json").read_text())
    assert sorted(manifest["files"]) == ["rf.onnx", "rf_paths.npz", "store_state.npz", "totals_pool.npz"]
    assert manifest["totals"]["file"] == "totals_pool.npz" and manifest["totals"]["models"] == ["rf"]
    calibration, *forest = manifest["totals"]["windows"]
    assert calibration == "calibration 2014-12-21..2015-01-31"
    assert forest == ["forest 2014-02-02..2014-03-15", "forest 2014-11-09..2014-12-20", "forest 2014-08-03..2014-09-13",
                      "forest 2014-05-04..2014-06-14"], "the year-ago window, then 12, 26 and 39 weeks back"
    assert manifest["feature_names"] == list(FEATURE_NAMES)
    assert manifest["origin"] == "2015-01-31"
    assert manifest["windows"]["calibration"] == ["2014-12-21", "2015-01-31"]
    assert manifest["models"]["rf"]["onnx_parity_max_abs_diff"] < 1e-4
    assert set(manifest["models"]["rf"]["importance"]["permutation_rmspe_increase"]) == set(FEATURE_NAMES)
    interval = manifest["models"]["rf"]["interval"]
    assert all(lo < 0 < hi for lo, hi in zip(interval["lower_log"], interval["upper_log"]))
    assert json.loads((version_dir.parent / "latest.json").read_text()) == {"version": version_dir.name}


def test_serving_forecast_is_accurate_on_held_out_generated_days(tiny_forest: TinyForest,
                                                                 synthetic_dataset: Dataset) -> None:
    # GIVEN the tiny forest trained up to HOLDOUT_CUTOFF and the 21 generated days after it, which it never saw
    version = load_version(tiny_forest(HOLDOUT_CUTOFF))
    data = synthetic_dataset.panel
    cutoff, days = data.day_index(HOLDOUT_CUTOFF), int((data.dates[-1] - HOLDOUT_CUTOFF) / np.timedelta64(1, "D"))
    # WHEN serving forecasts them through ONNX, given their real Open/Promo/holiday columns
    panel = attach_covariates(version.history, data.window(HOLDOUT_CUTOFF + 1, data.dates[-1]))
    forecast = forecast_panel(version, panel, version.history.n_days - 1, days)
    assert len(forecast.sales) == 8 * days == 8 * 21
    assert np.all(forecast.sales[forecast.open == 0] == 0)
    assert np.all((forecast.lower <= forecast.sales) & (forecast.sales <= forecast.upper))
    day = ((forecast.date - data.start) // np.timedelta64(1, "D")).astype(np.int64)
    store = synthetic_dataset.stores.index_of(forecast.store)
    actual = data.sales[store, day]
    scored = (forecast.open == 1) & (actual > 0)
    assert scored.sum() == 8 * 18, "8 stores x 21 days less 3 Sundays"
    # THEN its RMSPE is near the generated noise (5 % log-normal: the tiny forest scores about 0.061),
    # and well below the seasonal naive forecast (the same weekday of the last history week, about 0.150)
    same_weekday_last_week = data.sales[store, cutoff - 6 + (day - cutoff - 1) % 7]
    model, naive = rmspe(actual[scored], forecast.sales[scored]), rmspe(actual[scored], same_weekday_last_week[scored])
    assert 0.03 < model < 0.09, f"RMSPE {model:.3f}: below 0.03 the forecast saw the answers, above 0.09 it is broken"
    assert model < 0.6 * naive, f"RMSPE {model:.3f} against the seasonal naive's {naive:.3f}"


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


def test_a_totals_pool_this_code_cannot_read_is_refused_at_load(version_dir: Path, tmp_path: Path) -> None:
    # GIVEN a copy of the version whose totals pool lacks a part (its sha256 updated, so only the content is wrong)
    copy = tmp_path / version_dir.name
    shutil.copytree(version_dir, copy)
    with np.load(copy / "totals_pool.npz") as npz:
        arrays = {key: npz[key] for key in npz.files if key != "rf/day_shock"}
    np.savez(copy / "totals_pool.npz", **arrays)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["files"]["totals_pool.npz"] = hashlib.sha256((copy / "totals_pool.npz").read_bytes()).hexdigest()
    (copy / "manifest.json").write_text(json.dumps(manifest))
    # WHEN it is loaded THEN it is refused, naming the file and the missing part
    with pytest.raises(ArtifactIntegrityError, match=r"totals_pool\.npz: the totals pool of rf lacks day_shock"):
        load_version(copy)
