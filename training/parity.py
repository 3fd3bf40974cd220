"""ONNX parity of a fitted tree model: the exported graph must give scikit-learn's raw output."""

from typing import Protocol

import numpy as np
import onnxruntime as ort

from rossmann_core.models.forecast import FEATURES_INPUT


class Regressor(Protocol):
    def predict(self, features: np.ndarray) -> np.ndarray: ...


def onnx_parity(onnx_model: bytes, model: Regressor, features: np.ndarray) -> float:
    """Max |onnxruntime - scikit-learn| of the raw output on float32 ``features`` (n, n_features)."""
    session = ort.InferenceSession(onnx_model, providers=["CPUExecutionProvider"])
    onnx_out = session.run(None, {FEATURES_INPUT: features})[0].reshape(-1)
    return float(np.max(np.abs(onnx_out - model.predict(features))))
