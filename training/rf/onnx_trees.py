"""Rewrite skl2onnx's ``TreeEnsembleRegressor`` node as the compact ``TreeEnsemble`` (ai.onnx.ml 5).

TreeEnsembleRegressor stores every node, leaves included, with a string mode and int64 ids (about
41 bytes a node). TreeEnsemble stores split values, modes and leaf weights as raw tensors and only
interior nodes carry ids (about 10 bytes a node), which keeps a deep forest far under Lambda's
size limits. Thresholds, comparison and aggregation are copied unchanged, so predictions match.
"""

import numpy as np
import onnx
from onnx import helper, numpy_helper

ML_DOMAIN = "ai.onnx.ml"
ML_OPSET = 5
MODES = {"BRANCH_LEQ": 0, "BRANCH_LT": 1, "BRANCH_GTE": 2, "BRANCH_GT": 3, "BRANCH_EQ": 4, "BRANCH_NEQ": 5}
AGGREGATES = {"AVERAGE": 0, "SUM": 1, "MIN": 2, "MAX": 3}


def _attributes(node: onnx.NodeProto) -> dict[str, object]:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def compact_tree_node(node: onnx.NodeProto) -> onnx.NodeProto:
    """An equivalent ``TreeEnsemble`` node for a single-target ``TreeEnsembleRegressor`` node."""
    a = _attributes(node)
    if any(float(v) != 0.0 for v in a.get("base_values", [])) or a.get("n_targets", 1) != 1:
        raise ValueError("only single-target ensembles without base values are supported")
    trees = np.asarray(a["nodes_treeids"], dtype=np.int64)
    ids = np.asarray(a["nodes_nodeids"], dtype=np.int64)
    modes = np.array([_text(m) for m in a["nodes_modes"]])
    is_leaf = modes == "LEAF"
    key = trees * (ids.max() + 1) + ids
    order = np.argsort(key)
    interior_index = np.full(len(key), -1)
    interior_index[~is_leaf] = np.arange(int((~is_leaf).sum()))
    leaf_key = np.asarray(a["target_treeids"], dtype=np.int64) * (ids.max() + 1) + np.asarray(a["target_nodeids"])
    leaf_order = np.argsort(leaf_key)
    leaf_weights = np.asarray(a["target_weights"], dtype=np.float32)[leaf_order]
    leaf_index_of_key = dict(zip(leaf_key[leaf_order].tolist(), range(len(leaf_order))))

    def child(child_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        child_key = trees[~is_leaf] * (ids.max() + 1) + child_ids[~is_leaf]
        position = order[np.searchsorted(key[order], child_key)]
        leaf = is_leaf[position]
        index = np.where(leaf, [leaf_index_of_key.get(k, -1) for k in child_key.tolist()], interior_index[position])
        return index, leaf.astype(np.int64)

    true_ids, true_leafs = child(np.asarray(a["nodes_truenodeids"], dtype=np.int64))
    false_ids, false_leafs = child(np.asarray(a["nodes_falsenodeids"], dtype=np.int64))
    roots = interior_index[order[np.searchsorted(key[order], np.unique(trees) * (ids.max() + 1))]]
    if np.any(roots < 0) or np.any(true_ids < 0) or np.any(false_ids < 0):
        raise ValueError("trees whose root is a leaf are not supported")
    missing = np.asarray(a.get("nodes_missing_value_tracks_true", np.zeros(len(key))), dtype=np.int64)
    return helper.make_node(
        "TreeEnsemble",
        list(node.input),
        list(node.output),
        name=node.name,
        domain=ML_DOMAIN,
        aggregate_function=AGGREGATES[_text(a.get("aggregate_function", b"SUM"))],
        post_transform=0,
        n_targets=1,
        tree_roots=roots.tolist(),
        nodes_featureids=np.asarray(a["nodes_featureids"])[~is_leaf].tolist(),
        nodes_splits=numpy_helper.from_array(np.asarray(a["nodes_values"], dtype=np.float32)[~is_leaf]),
        nodes_modes=numpy_helper.from_array(np.array([MODES[m] for m in modes[~is_leaf]], dtype=np.uint8)),
        nodes_truenodeids=true_ids.tolist(),
        nodes_trueleafs=true_leafs.tolist(),
        nodes_falsenodeids=false_ids.tolist(),
        nodes_falseleafs=false_leafs.tolist(),
        nodes_missing_value_tracks_true=missing[~is_leaf].tolist(),
        leaf_targetids=np.zeros(len(leaf_weights), dtype=np.int64).tolist(),
        leaf_weights=numpy_helper.from_array(leaf_weights),
    )


def compact_trees(model: onnx.ModelProto) -> onnx.ModelProto:
    """``model`` with every TreeEnsembleRegressor replaced by TreeEnsemble (ai.onnx.ml opset 5)."""
    nodes = [
        compact_tree_node(n) if n.op_type == "TreeEnsembleRegressor" else n for n in model.graph.node
    ]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    for opset in model.opset_import:
        if opset.domain == ML_DOMAIN:
            opset.version = ML_OPSET
    onnx.checker.check_model(model)
    return model
