"""A tree ensemble's nodes as numpy arrays, and each row's output split exactly into per-feature contributions.

The ONNX graph of a tree model holds its splits and leaf values but no value for an interior node. Training
writes the same trees once more as a ``<model>_paths.npz`` file of the version (its sha256 in the manifest),
with every interior node's value: the cover-weighted mean of the leaf values below it. Walking a row from a
root to its leaf, each split moves the value from the node's to the child's; that step is the contribution of
the split's feature (path contributions, Saabas 2014). Summed along the path they give leaf minus root, so
``bias + contributions.sum(axis=1)`` is the ensemble's output for every row, whatever the interior values are;
the values only decide how the output is shared among the features.

Nodes are numbered as in the compact ONNX ``TreeEnsemble``: interior nodes ``0..n_interior-1``, then the leaves
(``n_interior + leaf``). Splits compare float32 values with float32 thresholds as ``x <= threshold`` (ONNX
``BRANCH_LEQ``), as onnxruntime walks the graph; features are never NaN (the feature builder writes MISSING).

The trees may split on encoded columns (the forest's pipeline one-hot encodes three codes first): column ``j``
is ``x[:, column_feature[j]] == column_category[j]`` (1.0 or 0.0), or that feature as it is where the category is
NaN, and a column's contribution is its feature's.
"""

import io
from dataclasses import dataclass, fields, replace
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class TreePaths:
    """Every tree of one ensemble. Interior nodes: ``column`` (the encoded column split on), ``threshold``,
    ``true_child`` (where x <= threshold), ``false_child``, ``interior_value`` (n_interior,); ``leaf_value``
    (n_leaves,) the leaves' outputs; ``roots`` (n_trees,); ``column_feature`` and ``column_category``
    (n_columns,) the encoding. ``average``: the output is the mean over trees (a forest), else their sum
    (boosting, its base value inside the first tree's leaves)."""

    roots: np.ndarray  # int32
    column: np.ndarray  # uint8
    threshold: np.ndarray  # float32
    true_child: np.ndarray  # int32
    false_child: np.ndarray  # int32
    interior_value: np.ndarray  # float32
    leaf_value: np.ndarray  # float32
    column_feature: np.ndarray  # int32, the feature each column is read from
    column_category: np.ndarray  # float32, the one-hot category, NaN for the feature as it is
    average: bool

    @property
    def n_trees(self) -> int:
        return len(self.roots)

    @property
    def n_interior(self) -> int:
        return len(self.column)

    @property
    def scale(self) -> float:
        """Factor from the sum over trees to the ensemble's output."""
        return 1.0 / self.n_trees if self.average else 1.0

    @cached_property
    def value(self) -> np.ndarray:
        """float64 (n_interior + n_leaves,): every node's value, interior nodes first."""
        return np.concatenate([self.interior_value, self.leaf_value]).astype(np.float64)

    @property
    def bias(self) -> float:
        """The output before any split: the scaled sum of the root values (the ensemble's expected output)."""
        return self.scale * float(self.value[self.roots].sum())

    def to_bytes(self) -> bytes:
        """The arrays as an uncompressed ``.npz``."""
        buffer = io.BytesIO()
        np.savez(buffer, **{f.name: np.asarray(getattr(self, f.name)) for f in fields(self)})
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> "TreePaths":
        """Read :meth:`to_bytes`; ValueError naming ``where`` if an array is missing or the nodes do not link."""
        with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
            missing = [f.name for f in fields(cls) if f.name not in arrays.files]
            if missing:
                raise ValueError(f"{where}: missing arrays {missing}")
            paths = cls(**{f.name: arrays[f.name] for f in fields(cls) if f.name != "average"},
                        average=bool(arrays["average"]))
        n_nodes = paths.n_interior + len(paths.leaf_value)
        links = np.concatenate([paths.true_child, paths.false_child, paths.roots])
        if links.size and (links.min() < 0 or links.max() >= n_nodes):
            raise ValueError(f"{where}: a child or root index lies outside the {n_nodes} nodes")
        if paths.column.size and int(paths.column.max()) >= len(paths.column_feature):
            raise ValueError(f"{where}: a split reads a column beyond its {len(paths.column_feature)} columns")
        return paths


def encode(paths: TreePaths, x: np.ndarray) -> np.ndarray:
    """The columns the trees split on, float32 (n, n_columns), of float32 features ``x`` (n, n_features)."""
    values = x[:, paths.column_feature]
    one_hot = ~np.isnan(paths.column_category)
    return np.where(one_hot, (values == paths.column_category).astype(np.float32), values).astype(np.float32)


def _step(paths: TreePaths, columns: np.ndarray, row: np.ndarray, node: np.ndarray) -> np.ndarray:
    """The child each (row, interior node) pair goes to."""
    goes_true = columns[row, paths.column[node]] <= paths.threshold[node]
    return np.where(goes_true, paths.true_child[node], paths.false_child[node])


def _start(paths: TreePaths, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(node, row, active) for n rows at every root, row-major: pair r * n_trees + t is row r in tree t."""
    node = np.tile(paths.roots.astype(np.int64), n)
    return node, np.repeat(np.arange(n), paths.n_trees), np.flatnonzero(node < paths.n_interior)


def leaves(paths: TreePaths, x: np.ndarray) -> np.ndarray:
    """The leaf node every row of float32 features ``x`` (n, n_features) reaches in every tree: int
    (n, n_trees)."""
    columns = encode(paths, x)
    node, row, active = _start(paths, len(x))
    while active.size:
        node[active] = _step(paths, columns, row[active], node[active])
        active = active[node[active] < paths.n_interior]
    return node.reshape(len(x), paths.n_trees)


def contributions(paths: TreePaths, x: np.ndarray) -> np.ndarray:
    """Each feature's share of the ensemble's output for every row of float32 ``x`` (n, n_features): float64
    (n, n_features), summing with :attr:`TreePaths.bias` to the output of every row."""
    n, n_features = x.shape
    columns = encode(paths, x)
    n_columns = columns.shape[1]
    node, row, active = _start(paths, n)
    total = np.zeros(n * n_columns)
    while active.size:
        here = node[active]
        child = _step(paths, columns, row[active], here)
        total += np.bincount(row[active] * n_columns + paths.column[here], minlength=n * n_columns,
                             weights=paths.value[child] - paths.value[here])
        node[active] = child
        active = active[child < paths.n_interior]
    by_feature = np.zeros((n_columns, n_features))
    by_feature[np.arange(n_columns), paths.column_feature] = 1.0
    return total.reshape(n, n_columns) @ by_feature * paths.scale


def with_cover_values(paths: TreePaths, x: np.ndarray) -> TreePaths:
    """``paths`` with every interior node's value set to the mean of its leaves' values weighted by how many rows
    of ``x`` (n, n_features; training rows) reach each leaf; a node no row reaches takes the plain mean of its
    two children."""
    cover = np.bincount(leaves(paths, x).ravel(), minlength=len(paths.value)).astype(np.float64)
    value = paths.value.copy()
    for level in reversed(_interior_levels(paths)):
        left, right = paths.true_child[level], paths.false_child[level]
        total = cover[left] + cover[right]
        weighted = (cover[left] * value[left] + cover[right] * value[right]) / np.maximum(total, 1.0)
        value[level] = np.where(total > 0, weighted, (value[left] + value[right]) / 2)
        cover[level] = total
    interior = value[: paths.n_interior].astype(np.float32)
    return replace(paths, interior_value=interior)


def _interior_levels(paths: TreePaths) -> list[np.ndarray]:
    """Interior nodes by depth (the roots' first): every parent lies in an earlier level than its children."""
    levels = []
    level = paths.roots[paths.roots < paths.n_interior].astype(np.int64)
    while level.size:
        levels.append(level)
        children = np.concatenate([paths.true_child[level], paths.false_child[level]]).astype(np.int64)
        level = children[children < paths.n_interior]
    return levels
