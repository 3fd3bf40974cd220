"""Training settings in one place. Environment variables are read only here."""

import os
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from rossmann_core.serving.explanations import HISTORY_DAYS_FOR_LAST_YEAR

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR_ENV = "ROSSMANN_DATA_DIR"
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data" / "rossmann"
DEFAULT_ARTIFACTS_DIR = REPO_ROOT / "artifacts"

MIN_HISTORY_DAYS = 112
"""A training origin needs at least this many days of history before it."""
INTERVAL_LEVEL = 0.90
"""Nominal coverage of the prediction intervals."""
CORRECTION_TRIM = 0.001
"""Share of the calibration rows with the largest squared percentage errors left out of every model's RMSPE
correction (about 31 of 31,000 store-days; docs/decisions/018-correction-from-calibration-window.md)."""
STATE_HISTORY_DAYS = HISTORY_DAYS_FOR_LAST_YEAR
"""Days of history serving keeps per store (819): every history feature at the origin (455 days), and at the
origin 364 days earlier, from which an explanation compares a forecast with the same weeks last year
(:mod:`rossmann_core.serving.explanations`). Days before the data's first are unknown."""


@dataclass(frozen=True)
class ForestSettings:
    """Random Forest hyper-parameters: accuracy vs. size and cold start.

    16 trees, not 24: in the blend, more trees are worth too little RMSPE for the cold start and model size they
    cost (docs/decisions/003-forest-size.md).

    ``interval_trees``: trees of the forest that forecasts the interval window (the forecast days a year
    earlier, whose residuals every model's interval pools with its calibration window's;
    :mod:`training.rf.interval_windows`).
    ``totals_window_weeks``: how many weeks before the cutoff the further windows start that only the totals pool
    holds (forecast by the same small forests; docs/decisions/027-totals-bands.md): with the calibration and the
    year-ago window they give the pool a chain level from five times of the year, not two.
    ``max_train_rows``: a row budget; when the data has more training rows, a seeded uniform sample of
    that many is fitted (None: every row; ``scripts/bench/scale_bench.py`` caps larger fleets at today's size).
    """

    n_estimators: int = 16
    max_features: float = 0.5
    min_samples_leaf: int = 4
    max_samples: float = 0.5
    max_leaf_nodes: int | None = 20_000
    interval_trees: int = 8
    totals_window_weeks: tuple[int, ...] = (12, 26, 39)
    max_train_rows: int | None = None
    n_jobs: int = 2
    random_state: int = 0


DEFAULT_FOREST = ForestSettings()


@dataclass(frozen=True)
class BoostingSettings:
    """Histogram gradient boosting, the second tree member: same rows, features and target as the forest
    (docs/decisions/001-blend-weights.md). No early stopping: every window fits the same trees."""

    max_iter: int = 800
    learning_rate: float = 0.05
    max_leaf_nodes: int = 127
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    random_state: int = 0


DEFAULT_BOOSTING = BoostingSettings()


@dataclass(frozen=True)
class DirectSettings:
    """The direct member (:mod:`training.direct`): LightGBM over every open day up to the calibration window, the
    store's number among its features as an ordinal (docs/decisions/030-direct-model.md). Row and feature
    subsampling per tree, seeded; ``deterministic`` so that the same rows give the same trees. 500 trees of 63
    leaves: 1,500 of 127 (six times the nodes) took the API's cold start, the all-stores request and explanations
    past their budgets."""

    num_boost_round: int = 500
    learning_rate: float = 0.1
    num_leaves: int = 63
    min_data_in_leaf: int = 50
    bagging_fraction: float = 0.8
    feature_fraction: float = 0.8
    max_bin: int = 255
    num_threads: int = 2
    seed: int = 0

    def params(self) -> dict[str, object]:
        """LightGBM's training parameters (all but the number of rounds)."""
        fields = {name: value for name, value in self.__dict__.items() if name != "num_boost_round"}
        return fields | {"objective": "regression", "bagging_freq": 1, "deterministic": True,
                         "force_row_wise": True, "verbose": -1}


DEFAULT_DIRECT = DirectSettings()

MODELS = ("rf", "hgb", "direct", "lstm")
"""Trainable models; with every member of BLEND_WEIGHTS (weight > 0), a version also holds their blend as
:data:`ENSEMBLE`."""
ENSEMBLE = "ensemble"
"""The blend of the members (a model with no file of its own) and, when trained, the version's default model."""
SERVED_DEFAULT = ENSEMBLE
"""The model the product serves by default, and so the default of ``backtest --model``."""
BLEND_WEIGHTS = MappingProxyType({"rf": 0.2, "hgb": 0.2, "direct": 0.6, "lstm": 0.0})
"""The ensemble: weights of the members' corrected log forecasts, chosen on rolling backtest windows, not on one
calibration window; a member of weight 0 is left out, the LSTM among them (docs/decisions/001-blend-weights.md,
docs/decisions/004-lstm-outside-blend.md); the LSTM is still trained and served as its own model."""
BLEND_CHOICE_REPORT = REPO_ROOT / "training" / "blend_choice.json"
"""The report of the blend study the served weights were chosen in (``scripts/studies/blend_weights_study.py
--out training/blend_choice.json``; figures per weighting and window, nothing per store-day), kept with the code
(``reports/`` is not): training copies its figures for the served and the best weighting into the manifest
(``default_model_choice``)."""
BLEND_CHOICE_DECISION = "docs/decisions/030-direct-model.md"
"""The decision page that says why the served weights are what they are."""


@dataclass(frozen=True)
class LstmSettings:
    """LSTM windows, architecture and fitting (docs/model.md, "LSTM"; docs/decisions/026-lstm-inputs-and-seeds.md).

    ``origin_stride_days`` is coprime with 7 so training origins fall on every weekday. ``seeds`` models are
    fitted, from seeds ``seed``, ``seed + 1``, ...; the exported graph serves their mean.
    """

    lookback_weeks: int = 16
    origin_stride_days: int = 5
    min_known_share: float = 0.5
    lstm_units: tuple[int, int] = (64, 64)
    embedding_dim: int = 8
    calendar_embedding_dim: int = 4
    head_units: int = 64
    dropout: float = 0.1
    batch_size: int = 512
    learning_rate: float = 0.002
    epochs: int = 8
    patience: int = 3
    threads: int = 2
    seed: int = 0
    seeds: int = 3


DEFAULT_LSTM = LstmSettings()


def data_dir(explicit: str | None = None) -> Path:
    """The data directory: ``explicit`` if given, else $ROSSMANN_DATA_DIR, else the default."""
    return Path(explicit or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
