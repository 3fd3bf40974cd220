"""The Random Forest's target transform, both directions, shared by training and serving.

The forest learns log(sales) minus the baseline feature of the row (the store x weekday x promo mean
log sales of the year to the origin): squared error on log sales approximates squared percentage
error, and without the store's level the trees spend their splits on deviations. Training encodes
sales with :meth:`BaselineTarget.encode` (``training.rf.fit``), serving decodes the ONNX output with
:meth:`BaselineTarget.decode` (:mod:`rossmann_core.models.forecast`), as the LSTM's scaler
(:class:`~rossmann_core.models.lstm_runtime.SequenceScaler`) does for the LSTM.
"""

from dataclasses import dataclass

import numpy as np

from rossmann_core.features.tabular import BASELINE_INDEX, FEATURE_NAMES


@dataclass(frozen=True)
class BaselineTarget:
    """log(sales) minus column ``baseline_index`` of the feature matrix."""

    baseline_index: int = BASELINE_INDEX

    @property
    def description(self) -> str:
        """The target as the manifest states it, e.g. ``log(sales) - hist_dow_promo_mean_log``."""
        return f"log(sales) - {FEATURE_NAMES[self.baseline_index]}"

    def encode(self, features: np.ndarray, sales: np.ndarray) -> np.ndarray:
        """Training target, float32 (n,), of float32 features (n, n_features) and sales > 0 in euros (n,)."""
        return (np.log(sales) - features[:, self.baseline_index]).astype(np.float32)

    def decode(self, features: np.ndarray, output: np.ndarray) -> np.ndarray:
        """log(sales), float64 (n,), from the model's output (n,) for the rows of ``features`` (n, n_features)."""
        return output.astype(np.float64) + features[:, self.baseline_index]


TREE_TARGET = BaselineTarget()
"""The one target every forest of this code is trained on and served with."""
