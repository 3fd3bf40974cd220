"""The fitted direct model as one ONNX graph, stored as compact trees (:mod:`training.onnx_trees`).

LightGBM compares a feature with a float64 threshold; the ONNX trees hold float32 thresholds. Rounded to the
nearest float32, a threshold between two adjacent float32 values can land on the upper one, and a row holding that
value then goes the other way (7.6e-3 in log sales on the real data). :func:`float32_thresholds` first lowers every
threshold to the largest float32 at or below it: for float32 inputs no value lies between the two, so LightGBM
decides every row as before, and the ONNX graph holds the threshold exactly.
"""

import lightgbm
import numpy as np
from onnxmltools import convert_lightgbm
from onnxmltools.convert.common.data_types import FloatTensorType

from rossmann_core.models.forecast import FEATURES_INPUT

from ..onnx_trees import compact_trees

ONNX_OPSET = 15
"""The highest default-domain opset onnxmltools 1.16 converts LightGBM at (it adds no default-domain node)."""
THRESHOLD_LINE = "threshold="
TREE_SIZES_LINE = "tree_sizes="
"""The header line with each tree's length in characters, which the rewritten thresholds change: left out, LightGBM
reads the trees one after another instead."""


def float32_floor(value: float) -> float:
    """The largest float32 value <= ``value``, as a float."""
    rounded = np.float32(value)
    return float(rounded if float(rounded) <= value else np.nextafter(rounded, np.float32(-np.inf)))


def float32_thresholds(booster: lightgbm.Booster) -> lightgbm.Booster:
    """``booster`` with every split threshold lowered to :func:`float32_floor` of it: the same decision for every
    float32 row, and thresholds a float32 graph holds exactly. Only numeric splits (the model has no categorical
    feature, whose thresholds would be category indices)."""
    lines = [line for line in booster.model_to_string().splitlines() if not line.startswith(TREE_SIZES_LINE)]
    if any(line.startswith("num_cat=") and line != "num_cat=0" for line in lines):
        raise ValueError("only boosters without categorical splits are rounded")
    for i, line in enumerate(lines):
        if line.startswith(THRESHOLD_LINE):
            values = [float32_floor(float(v)) for v in line.removeprefix(THRESHOLD_LINE).split()]
            lines[i] = THRESHOLD_LINE + " ".join(repr(v) for v in values)
    return lightgbm.Booster(model_str="\n".join(lines) + "\n")


def direct_to_onnx(booster: lightgbm.Booster, n_features: int) -> bytes:
    """ONNX bytes with one float32 input ``features`` of shape (n, n_features) and the raw output (n, 1) of
    ``booster`` (whose thresholds are float32 values: :func:`float32_thresholds`)."""
    onnx_model = convert_lightgbm(booster, initial_types=[(FEATURES_INPUT, FloatTensorType([None, n_features]))],
                                  target_opset=ONNX_OPSET, zipmap=False)
    return compact_trees(onnx_model).SerializeToString()
