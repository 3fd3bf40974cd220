"""ONNX parity of a fitted tree model: the exported graph must give scikit-learn's raw output."""

from typing import Protocol

import numpy as np
import onnxruntime as ort

from rossmann_core.models.forecast import FEATURES_INPUT


class Regressor(Protocol):
    def predict(self, features: np.ndarray) -> np.ndarray: ...


def onnx_output(onnx_model: bytes, features: np.ndarray) -> np.ndarray:
    """The graph's raw output (n,) through onnxruntime for float32 ``features`` (n, n_features)."""
    session = ort.InferenceSession(onnx_model, providers=["CPUExecutionProvider"])
    return session.run(None, {FEATURES_INPUT: features})[0].reshape(-1)


def onnx_parity(onnx_out: np.ndarray, model: Regressor, features: np.ndarray) -> float:
    """Max |onnxruntime - scikit-learn| of the raw output on float32 ``features`` (n, n_features), given the graph's
    :func:`onnx_output` ``onnx_out`` (n,) on them."""
    return float(np.max(np.abs(onnx_out - model.predict(features))))
