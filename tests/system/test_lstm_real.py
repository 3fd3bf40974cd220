"""The LSTM path on the real Kaggle files (a store subset, 1 epoch): ONNX parity on real windows, backtest."""

import json
from pathlib import Path

import numpy as np
import pytest
from test_real_data import subset

from training.backtest import run_backtest
from training.config import LstmSettings
from training.data import load_dataset

SUBSET_STORES = np.arange(1, 1116, 20)
SMALL_LSTM = LstmSettings(lstm_units=(16, 16), embedding_dim=4, head_units=16, epochs=1)


@pytest.mark.real_data
def test_lstm_backtest_on_real_windows(real_data_dir: Path, tmp_path: Path) -> None:
    small = subset(load_dataset(real_data_dir), SUBSET_STORES)
    result = run_backtest(small, np.datetime64("2015-05-08"), 42, "lstm", tmp_path, lstm_settings=SMALL_LSTM)
    assert result["rows"] > 0.8 * len(SUBSET_STORES) * 36
    assert result["rmspe"] < 0.2 and 0.6 < result["coverage_90"] <= 1.0
    manifest = json.loads(next((tmp_path / "backtests" / "models").glob("*/manifest.json")).read_text())
    assert sorted(manifest["models"]) == ["lstm"]
    assert manifest["models"]["lstm"]["onnx_parity_max_abs_diff"] < 1e-5, "onnxruntime must match Keras"
    assert manifest["windows"]["calibration"] == ["2015-03-28", "2015-05-08"]
