"""The real Kaggle files: loader quirks, checksums, ONNX parity and a backtest on a store subset."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from training.backtest import run_backtest
from training.config import ForestSettings
from training.data import Dataset, load_dataset

SUBSET_STORES = np.arange(1, 1116, 10)
SMALL_FOREST = ForestSettings(n_estimators=12, max_leaf_nodes=5000, min_samples_leaf=4, n_jobs=2)


@pytest.fixture(scope="module")
def real(real_data_dir: Path) -> Dataset:
    return load_dataset(real_data_dir)


def subset(dataset: Dataset, store_ids: np.ndarray) -> Dataset:
    rows = dataset.stores.index_of(store_ids)
    return replace(dataset, panel=dataset.panel.take_stores(rows), stores=dataset.stores.take(rows))


@pytest.mark.real_data
def test_real_files_match_their_checksums_and_known_quirks(real: Dataset, real_data_dir: Path) -> None:
    sums = dict(reversed(line.split()) for line in (real_data_dir / "SHA256SUMS").read_text().splitlines())
    assert real.file_sha256 == {name: sums[name] for name in real.file_sha256}
    assert len(real.stores.store_id) == 1115
    assert str(real.panel.dates[0]) == "2013-01-01"
    gap = real.panel.window(np.datetime64("2014-07-01"), np.datetime64("2014-12-31"))
    assert int(np.isnan(gap.sales).all(axis=1).sum()) == 180
    assert int(((real.history.open == 1) & (real.history.sales == 0)).sum()) == 54
    assert set(np.unique(real.history.state_holiday)) == {0, 1, 2, 3}


@pytest.mark.real_data
def test_backtest_on_a_store_subset_beats_the_baseline(real: Dataset, tmp_path: Path) -> None:
    small = subset(real, SUBSET_STORES)
    result = run_backtest(small, np.datetime64("2015-05-08"), 42, "rf", tmp_path, SMALL_FOREST)
    assert result["rows"] > 0.8 * len(SUBSET_STORES) * 36
    assert result["rmspe"] < result["baseline_rmspe"]
    assert result["rmspe"] < 0.14
    assert 0.7 < result["coverage_90"] <= 1.0
    manifest_path = next((tmp_path / "backtests" / "models").glob("*/manifest.json"))
    manifest = json.loads(manifest_path.read_text())
    assert manifest["models"]["rf"]["onnx_parity_max_abs_diff"] < 1e-4, "ONNX must match scikit-learn on real rows"
    assert manifest["windows"]["calibration"] == ["2015-03-28", "2015-05-08"]
