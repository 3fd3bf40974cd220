"""The compact TreeEnsemble rewrite predicts exactly what scikit-learn and skl2onnx predict."""

import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import RandomForestRegressor

from training.rf.onnx_trees import compact_trees


def test_compact_forest_matches_scikit_learn_and_is_smaller() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 6)).astype(np.float32)
    x[:, 5] = rng.integers(0, 3, size=3000)
    y = (x[:, 0] * 2 + np.sin(x[:, 1]) + x[:, 5] + rng.normal(size=3000) * 0.3).astype(np.float32)
    forest = RandomForestRegressor(n_estimators=5, min_samples_leaf=2, random_state=0).fit(x, y)
    model = to_onnx(forest, initial_types=[("features", FloatTensorType([None, 6]))],
                    target_opset={"": 17, "ai.onnx.ml": 3})
    original = model.SerializeToString()
    compact = compact_trees(model).SerializeToString()
    session = ort.InferenceSession(compact, providers=["CPUExecutionProvider"])
    assert [n.op_type for n in model.graph.node] == ["TreeEnsemble"]
    predicted = session.run(None, {"features": x})[0].ravel()
    np.testing.assert_allclose(predicted, forest.predict(x), atol=1e-5)
    assert len(compact) < 0.5 * len(original)
