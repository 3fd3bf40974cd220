"""The forest's target transform: one object with both directions, the one training and serving use."""

import json
from pathlib import Path

import numpy as np

from rossmann_core.features.tabular import BASELINE_INDEX, FEATURE_NAMES
from rossmann_core.models import forecast
from rossmann_core.models.tree_target import TREE_TARGET
from training.rf import fit


def rows(n: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Float32 features (n, n_features) with a realistic baseline column, and sales in euros (n,)."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(n, len(FEATURE_NAMES))).astype(np.float32)
    features[:, BASELINE_INDEX] = rng.uniform(7.0, 10.0, size=n)
    return features, rng.uniform(500.0, 30_000.0, size=n)


def test_encode_then_decode_returns_log_sales_within_float32_precision() -> None:
    features, sales = rows()
    encoded = TREE_TARGET.encode(features, sales)
    assert encoded.dtype == np.float32 and encoded.shape == sales.shape
    decoded = TREE_TARGET.decode(features, encoded)
    assert decoded.dtype == np.float64 and decoded.shape == sales.shape
    np.testing.assert_allclose(decoded, np.log(sales), rtol=0, atol=8 * float(np.finfo(np.float32).eps))
    assert not np.allclose(decoded, np.log(sales), rtol=0, atol=1e-12), "the float32 target rounds, as it should"


def test_the_arithmetic_is_the_one_models_were_trained_and_served_with() -> None:
    features, sales = rows()
    baseline = features[:, BASELINE_INDEX]
    encoded = TREE_TARGET.encode(features, sales)
    np.testing.assert_array_equal(encoded, (np.log(sales) - baseline).astype(np.float32))
    np.testing.assert_array_equal(TREE_TARGET.decode(features, encoded), encoded.astype(np.float64) + baseline)


def test_training_and_serving_use_the_same_target(synthetic_version_dir: Path) -> None:
    assert fit.TREE_TARGET is forecast.TREE_TARGET is TREE_TARGET
    manifest = json.loads((synthetic_version_dir / "manifest.json").read_text())
    assert manifest["target"] == TREE_TARGET.description == "log(sales) - hist_dow_promo_mean_log"
