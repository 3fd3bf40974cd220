"""The tree models' target transforms: one object per target with both directions, the one training and serving
use, named by each tree entry of the manifest."""

from pathlib import Path

import numpy as np
import pytest

from rossmann_core.errors import ManifestError
from rossmann_core.features.tabular import BASELINE_INDEX, FEATURE_NAMES
from rossmann_core.models.manifest import Manifest
from rossmann_core.models.tree_target import BASELINE_TARGET, LOG_TARGET, TREE_TARGETS, TreeTarget
from rossmann_core.models.version import load_version
from training.rf import fit


def rows(n: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Float32 features (n, n_features) with a realistic baseline column, and sales in euros (n,)."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(n, len(FEATURE_NAMES))).astype(np.float32)
    features[:, BASELINE_INDEX] = rng.uniform(7.0, 10.0, size=n)
    return features, rng.uniform(500.0, 30_000.0, size=n)


@pytest.mark.parametrize("target", [BASELINE_TARGET, LOG_TARGET])
def test_encode_then_decode_returns_log_sales_within_float32_precision(target: TreeTarget) -> None:
    features, sales = rows()
    encoded = target.encode(features, sales)
    assert encoded.dtype == np.float32 and encoded.shape == sales.shape
    decoded = target.decode(features, encoded)
    assert decoded.dtype == np.float64 and decoded.shape == sales.shape
    np.testing.assert_allclose(decoded, np.log(sales), rtol=0, atol=8 * float(np.finfo(np.float32).eps))
    assert not np.allclose(decoded, np.log(sales), rtol=0, atol=1e-12), "the float32 target rounds, as it should"


def test_the_arithmetic_is_the_one_models_were_trained_and_served_with() -> None:
    features, sales = rows()
    baseline = features[:, BASELINE_INDEX]
    encoded = BASELINE_TARGET.encode(features, sales)
    np.testing.assert_array_equal(encoded, (np.log(sales) - baseline).astype(np.float32))
    np.testing.assert_array_equal(BASELINE_TARGET.decode(features, encoded), encoded.astype(np.float64) + baseline)
    plain = LOG_TARGET.encode(features, sales)
    np.testing.assert_array_equal(plain, np.log(sales).astype(np.float32))
    np.testing.assert_array_equal(LOG_TARGET.decode(features, plain), plain.astype(np.float64))


def test_training_and_serving_use_the_target_each_entry_names(synthetic_version_dir: Path) -> None:
    assert fit.BASELINE_TARGET is BASELINE_TARGET
    assert set(TREE_TARGETS) == {"log(sales) - hist_dow_promo_mean_log", "log(sales)"}
    version = load_version(synthetic_version_dir)
    assert version.manifest.models["rf"].target is BASELINE_TARGET


def test_a_tree_entry_naming_an_unknown_target_is_refused(synthetic_version_dir: Path) -> None:
    raw = load_version(synthetic_version_dir).manifest.to_dict()
    raw["models"]["rf"]["target"] = "sqrt(sales)"
    with pytest.raises(ManifestError, match=r"models\.rf\.target.*must be one of"):
        Manifest.from_dict(raw, "test")
