"""The tree members' node values for explanations: their ONNX graph's trees as numpy arrays, with every
interior node's value (:mod:`rossmann_core.explain.tree_paths`), written as ``<model>_paths.npz`` of the version."""

import numpy as np
import onnx
from onnx import helper, numpy_helper
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import OneHotEncoder

from rossmann_core.explain.tree_paths import TreePaths, contributions, with_cover_values

from .onnx_trees import AGGREGATES, MODES

COVER_ROWS = 20_000
"""Training rows (a seeded sample when there are more) whose leaf counts weigh the interior node values."""


def paths_file_name(model: str) -> str:
    return f"{model}_paths.npz"


def one_hot_columns(encoder: ColumnTransformer) -> tuple[np.ndarray, np.ndarray]:
    """(column_feature, column_category) of a fitted ColumnTransformer of one-hot and passthrough parts, in the
    order of its output columns (what the forest's trees split on)."""
    features, categories = [], []
    for name, transformer, columns in encoder.transformers_:
        if name == "remainder" and transformer == "drop":
            continue
        if not isinstance(transformer, OneHotEncoder):  # "passthrough" (a FunctionTransformer once fitted)
            features += list(columns)
            categories += [np.nan] * len(columns)
            continue
        for column, values in zip(columns, transformer.categories_):
            features += [column] * len(values)
            categories += list(values)
    return np.asarray(features, dtype=np.int32), np.asarray(categories, dtype=np.float32)


def identity_columns(n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns of trees that split on the features themselves."""
    return np.arange(n_features, dtype=np.int32), np.full(n_features, np.nan, dtype=np.float32)


def graph_trees(onnx_model: bytes, columns: tuple[np.ndarray, np.ndarray]) -> TreePaths:
    """The one compact ``TreeEnsemble`` node of ``onnx_model`` as TreePaths (interior values still 0)."""
    (node,) = [n for n in onnx.load_from_string(onnx_model).graph.node if n.op_type == "TreeEnsemble"]
    a = {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}
    if np.any(numpy_helper.to_array(a["nodes_modes"]) != MODES["BRANCH_LEQ"]):
        raise ValueError("only x <= threshold splits are explained")
    n_interior = len(a["nodes_featureids"])
    if len(columns[0]) > np.iinfo(np.uint8).max:
        raise ValueError(f"{len(columns[0])} columns: the paths file stores a column as one byte")

    def unified(ids: list[int], leaf_flags: list[int]) -> np.ndarray:
        ids_array = np.asarray(ids, dtype=np.int64)
        return np.where(np.asarray(leaf_flags) == 1, n_interior + ids_array, ids_array).astype(np.int32)

    return TreePaths(
        roots=np.asarray(a["tree_roots"], dtype=np.int32),
        column=np.asarray(a["nodes_featureids"], dtype=np.uint8),
        threshold=numpy_helper.to_array(a["nodes_splits"]).astype(np.float32),
        true_child=unified(a["nodes_truenodeids"], a["nodes_trueleafs"]),
        false_child=unified(a["nodes_falsenodeids"], a["nodes_falseleafs"]),
        interior_value=np.zeros(n_interior, dtype=np.float32),
        leaf_value=numpy_helper.to_array(a["leaf_weights"]).astype(np.float32),
        column_feature=columns[0],
        column_category=columns[1],
        average=a["aggregate_function"] == AGGREGATES["AVERAGE"],
    )


def tree_paths(
    onnx_model: bytes, columns: tuple[np.ndarray, np.ndarray], train_x: np.ndarray, check_x: np.ndarray,
    check_out: np.ndarray, seed: int = 0,
) -> tuple[TreePaths, float]:
    """The paths of ``onnx_model`` with interior values weighted by the leaf counts of up to COVER_ROWS rows of
    ``train_x`` (n, n_features), and the max |bias + contributions - graph output| on ``check_x`` (the
    calibration rows), whose onnxruntime output is ``check_out`` (n,)."""
    rows = train_x
    if len(rows) > COVER_ROWS:
        rows = rows[np.sort(np.random.default_rng(seed).choice(len(rows), COVER_ROWS, replace=False))]
    paths = with_cover_values(graph_trees(onnx_model, columns), rows)
    explained = paths.bias + contributions(paths, check_x).sum(axis=1)
    return paths, float(np.max(np.abs(explained - check_out.astype(np.float64))))
