"""The tree models' target transforms, both directions, shared by training and serving.

The per-origin trees (the forest, the gradient boosting) learn log(sales) minus the baseline feature of the row
(the store x weekday x promo mean log sales of the year to the origin): squared error on log sales approximates
squared percentage error, and without the store's level the trees spend their splits on deviations. The direct
model learns plain log(sales): in sample its baseline feature is the level of the end of training, not of each
row's own year, so the offset would carry that level into every row. Training encodes sales with
:meth:`TreeTarget.encode`, serving decodes the ONNX output with :meth:`TreeTarget.decode`
(:mod:`rossmann_core.models.forecast`); a tree entry of the manifest names its target
(:attr:`~rossmann_core.models.manifest.TreeEntry.target`).
"""

from dataclasses import dataclass

import numpy as np

from rossmann_core.features.tabular import BASELINE_INDEX, FEATURE_NAMES


@dataclass(frozen=True)
class TreeTarget:
    """log(sales) minus column ``baseline_index`` of the feature matrix, or plain log(sales) when it is None."""

    baseline_index: int | None

    @property
    def description(self) -> str:
        """The target as the manifest states it, e.g. ``log(sales) - hist_dow_promo_mean_log``."""
        return "log(sales)" if self.baseline_index is None else f"log(sales) - {FEATURE_NAMES[self.baseline_index]}"

    def offset(self, features: np.ndarray) -> np.ndarray:
        """What decoding adds to the model's output, float64 (n,), for float32 features (n, n_features)."""
        if self.baseline_index is None:
            return np.zeros(len(features))
        return features[:, self.baseline_index].astype(np.float64)

    def encode(self, features: np.ndarray, sales: np.ndarray) -> np.ndarray:
        """Training target, float32 (n,), of float32 features (n, n_features) and sales > 0 in euros (n,)."""
        return (np.log(sales) - self.offset(features)).astype(np.float32)

    def decode(self, features: np.ndarray, output: np.ndarray) -> np.ndarray:
        """log(sales), float64 (n,), from the model's output (n,) for the rows of ``features`` (n, n_features)."""
        return output.astype(np.float64) + self.offset(features)


BASELINE_TARGET = TreeTarget(BASELINE_INDEX)
"""The per-origin trees' target (the forest, the gradient boosting)."""
LOG_TARGET = TreeTarget(None)
"""The direct model's target."""
TREE_TARGETS = {target.description: target for target in (BASELINE_TARGET, LOG_TARGET)}
"""Every target a tree entry may name, by its description."""
