"""The compact TreeEnsemble rewrite predicts exactly what scikit-learn and skl2onnx predict."""

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor

from training.onnx_trees import compact_trees


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


def test_compact_boosting_keeps_its_base_value() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 4)).astype(np.float32)
    y = (5.0 + x[:, 0] - 0.5 * x[:, 2] ** 2 + rng.normal(size=2000) * 0.2).astype(np.float32)
    boosting = HistGradientBoostingRegressor(max_iter=30, max_leaf_nodes=7, early_stopping=False).fit(x, y)
    model = to_onnx(boosting, initial_types=[("features", FloatTensorType([None, 4]))],
                    target_opset={"": 17, "ai.onnx.ml": 3})
    base_values = {a.name: helper.get_attribute_value(a) for a in model.graph.node[0].attribute}["base_values"]
    assert abs(base_values[0]) > 1.0, "skl2onnx keeps the boosting's start (near mean(y) = 4.5) as a base value"
    session = ort.InferenceSession(compact_trees(model).SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"features": x})[0].ravel(), boosting.predict(x), atol=1e-5)


def test_a_tree_that_is_a_single_leaf_is_kept() -> None:
    # GIVEN two summed trees: a split on feature 0 at 0.5 (leaves 1 and 2), and a lone leaf worth 10
    node = helper.make_node(
        "TreeEnsembleRegressor", ["features"], ["variable"], domain="ai.onnx.ml", n_targets=1,
        aggregate_function="SUM", base_values=[0.5],
        nodes_treeids=[0, 0, 0, 1], nodes_nodeids=[0, 1, 2, 0], nodes_featureids=[0, 0, 0, 0],
        nodes_values=[0.5, 0.0, 0.0, 0.0], nodes_modes=["BRANCH_LEQ", "LEAF", "LEAF", "LEAF"],
        nodes_truenodeids=[1, 0, 0, 0], nodes_falsenodeids=[2, 0, 0, 0],
        target_ids=[0, 0, 0], target_treeids=[0, 0, 1], target_nodeids=[1, 2, 0], target_weights=[1.0, 2.0, 10.0],
    )
    inputs = [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, 1])]
    outputs = [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])]
    graph = helper.make_graph([node], "two_trees", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3)])
    # WHEN it is compacted, THEN each row gets base + its leaf of the first tree + the lone leaf
    session = ort.InferenceSession(compact_trees(model).SerializeToString(), providers=["CPUExecutionProvider"])
    out = session.run(None, {"features": np.array([[0.0], [1.0]], dtype=np.float32)})[0].ravel()
    np.testing.assert_allclose(out, [11.5, 12.5])
