"""Rewrite skl2onnx's ``TreeEnsembleRegressor`` node as the compact ``TreeEnsemble`` (ai.onnx.ml 5).

TreeEnsembleRegressor stores every node, leaves included, with a string mode and int64 ids (about
41 bytes a node). TreeEnsemble stores split values, modes and leaf weights as raw tensors and only
interior nodes carry ids (about 10 bytes a node), which keeps a deep forest far under Lambda's
size limits. Thresholds, comparison and aggregation are copied unchanged, so predictions match. A summed
ensemble's base value (gradient boosting's starting prediction) is added to the leaves of its first tree:
every row reaches exactly one of them, so the sum is the same up to float32 rounding.
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


def _then(values: np.ndarray, count: int, fill: int = 0) -> np.ndarray:
    """``values`` followed by ``count`` copies of ``fill``, in the same dtype."""
    return np.concatenate([values, np.full(count, fill, dtype=values.dtype)])


def compact_tree_node(node: onnx.NodeProto) -> onnx.NodeProto:
    """An equivalent ``TreeEnsemble`` node for a single-target ``TreeEnsembleRegressor`` node."""
    a = _attributes(node)
    base_values = [float(v) for v in a.get("base_values", [])]
    if a.get("n_targets", 1) != 1 or len(base_values) > 1:
        raise ValueError("only single-target ensembles are supported")
    aggregate = _text(a.get("aggregate_function", b"SUM"))
    if base_values and base_values[0] != 0.0 and aggregate != "SUM":
        raise ValueError("a base value can only be folded into a summed ensemble")
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
    if base_values:
        leaf_weights[leaf_key[leaf_order] // (ids.max() + 1) == trees.min()] += np.float32(base_values[0])
    leaf_index_of_key = dict(zip(leaf_key[leaf_order].tolist(), range(len(leaf_order))))

    def child(child_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        child_key = trees[~is_leaf] * (ids.max() + 1) + child_ids[~is_leaf]
        position = order[np.searchsorted(key[order], child_key)]
        leaf = is_leaf[position]
        index = np.where(leaf, [leaf_index_of_key.get(k, -1) for k in child_key.tolist()], interior_index[position])
        return index, leaf.astype(np.int64)

    true_ids, true_leafs = child(np.asarray(a["nodes_truenodeids"], dtype=np.int64))
    false_ids, false_leafs = child(np.asarray(a["nodes_falsenodeids"], dtype=np.int64))
    if np.any(true_ids < 0) or np.any(false_ids < 0):
        raise ValueError("a branch points at a node that is not in the ensemble")
    root_position = order[np.searchsorted(key[order], np.unique(trees) * (ids.max() + 1))]
    roots = interior_index[root_position]
    # a tree that is a single leaf (boosting may grow one) becomes a split whose both branches reach that leaf
    leaf_roots = np.flatnonzero(is_leaf[root_position])
    single_leafs = np.array([leaf_index_of_key[k] for k in key[root_position[leaf_roots]].tolist()], dtype=np.int64)
    roots[leaf_roots] = int((~is_leaf).sum()) + np.arange(len(leaf_roots))
    true_ids, false_ids = np.concatenate([true_ids, single_leafs]), np.concatenate([false_ids, single_leafs])
    true_leafs, false_leafs = (_then(flags, len(leaf_roots), 1) for flags in (true_leafs, false_leafs))
    missing = np.asarray(a.get("nodes_missing_value_tracks_true", np.zeros(len(key))), dtype=np.int64)
    feature_ids = _then(np.asarray(a["nodes_featureids"], dtype=np.int64)[~is_leaf], len(leaf_roots))
    splits = _then(np.asarray(a["nodes_values"], dtype=np.float32)[~is_leaf], len(leaf_roots))
    mode_codes = _then(np.array([MODES[m] for m in modes[~is_leaf]], dtype=np.uint8), len(leaf_roots))
    return helper.make_node(
        "TreeEnsemble",
        list(node.input),
        list(node.output),
        name=node.name,
        domain=ML_DOMAIN,
        aggregate_function=AGGREGATES[aggregate],
        post_transform=0,
        n_targets=1,
        tree_roots=roots.tolist(),
        nodes_featureids=feature_ids.tolist(),
        nodes_splits=numpy_helper.from_array(splits),
        nodes_modes=numpy_helper.from_array(mode_codes),
        nodes_truenodeids=true_ids.tolist(),
        nodes_trueleafs=true_leafs.tolist(),
        nodes_falsenodeids=false_ids.tolist(),
        nodes_falseleafs=false_leafs.tolist(),
        nodes_missing_value_tracks_true=_then(missing[~is_leaf], len(leaf_roots)).tolist(),
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
