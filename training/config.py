"""Training settings in one place. Environment variables are read only here."""

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR_ENV = "ROSSMANN_DATA_DIR"
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "rossmann"
DEFAULT_ARTIFACTS_DIR = REPO_ROOT / "artifacts"

HORIZON_DAYS = 42
"""Forecast horizon: six weeks."""
MIN_HISTORY_DAYS = 112
"""A training origin needs at least this many days of history before it."""
INTERVAL_LEVEL = 0.90
"""Nominal coverage of the prediction intervals."""
STATE_HISTORY_DAYS = 400
"""Days of history serving keeps per store: enough for every history feature at the origin, the
longest being last year's Easter-aligned day (up to 385 days back) and the 29 days around it."""


@dataclass(frozen=True)
class ForestSettings:
    """Random Forest hyper-parameters (chosen on the calibration window, see docs/benchmarks.md)."""

    n_estimators: int = 40
    max_features: float = 0.5
    min_samples_leaf: int = 4
    max_samples: float = 0.5
    max_leaf_nodes: int | None = 30_000
    n_jobs: int = 2
    random_state: int = 0


DEFAULT_FOREST = ForestSettings()


def data_dir(explicit: str | None = None) -> Path:
    """The data directory: ``explicit`` if given, else $ROSSMANN_DATA_DIR, else the default."""
    return Path(explicit or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
