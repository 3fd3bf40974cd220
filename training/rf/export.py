"""The fitted pipeline as one ONNX graph with the forest stored as compact trees (:mod:`training.onnx_trees`)."""

from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.pipeline import Pipeline

from rossmann_core.models.forecast import FEATURES_INPUT

from ..onnx_trees import compact_trees

ONNX_OPSETS = {"": 17, "ai.onnx.ml": 3}


def forest_to_onnx(pipeline: Pipeline, n_features: int) -> bytes:
    """The whole pipeline as ONNX with one float32 input ``features`` of shape (n, n_features).

    The forest is stored as a compact ai.onnx.ml 5 ``TreeEnsemble`` (see :mod:`training.onnx_trees`).
    """
    model = to_onnx(
        pipeline,
        initial_types=[(FEATURES_INPUT, FloatTensorType([None, n_features]))],
        target_opset=ONNX_OPSETS,
    )
    return compact_trees(model).SerializeToString()
