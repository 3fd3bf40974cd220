"""The fitted boosting model as one ONNX graph, stored as compact trees (:mod:`training.onnx_trees`)."""

from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import HistGradientBoostingRegressor

from rossmann_core.models.forecast import FEATURES_INPUT

from ..onnx_trees import compact_trees
from ..rf.export import ONNX_OPSETS


def boosting_to_onnx(model: HistGradientBoostingRegressor, n_features: int) -> bytes:
    """ONNX bytes with one float32 input ``features`` of shape (n, n_features) and the raw output (n, 1); the
    boosting's base value is folded into its first tree's leaves."""
    onnx_model = to_onnx(
        model, initial_types=[(FEATURES_INPUT, FloatTensorType([None, n_features]))], target_opset=ONNX_OPSETS
    )
    return compact_trees(onnx_model).SerializeToString()
