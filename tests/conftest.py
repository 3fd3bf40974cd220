"""Shared fixtures: generated Kaggle-format data, tiny models trained once per session, the real data
folder, a local S3 server."""

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from api_support import serving
from rossmann_core import HORIZON_DAYS
from rossmann_core.data.panel import attach_covariates
from rossmann_core.features.tabular import FeatureBuilder
from rossmann_core.models.forecast import forecast_panel, horizon_rows
from rossmann_core.models.version import ModelVersion
from synthetic import SyntheticData, write_synthetic_data
from training.backtest import run_backtest
from training.config import (
    DATA_DIR_ENV,
    DEFAULT_DATA_DIR,
    BoostingSettings,
    DirectSettings,
    ForestSettings,
    LstmSettings,
)
from training.data import Dataset, load_dataset
from training.train import train_model

TINY_FOREST = ForestSettings(n_estimators=4, max_leaf_nodes=300, min_samples_leaf=2, n_jobs=1, interval_trees=2)
TINY_BOOSTING = BoostingSettings(max_iter=60, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=10)
TINY_DIRECT = DirectSettings(num_boost_round=60, learning_rate=0.1, num_leaves=15, min_data_in_leaf=10)
TINY_LSTM = LstmSettings(lookback_weeks=8, lstm_units=(8, 8), embedding_dim=2, calendar_embedding_dim=2,
                         head_units=8, epochs=1, batch_size=256, seeds=2)
HOLDOUT_CUTOFF = np.datetime64("2015-01-10")
"""Three weeks before the generated data's last day (2015-01-31): a model trained up to here has
held-out days to score, and data newer than itself for the batch."""
MISSING_ROW_TOLERANCE = 0.04
"""Largest relative change of a forecast day allowed when a row the store really had is missing: the row's sales
are unknown, so the store's sales statistics of the weeks before move (its 28-day mean log sales by up to 0.01),
and the tiny forest's coarse splits turn that into up to 3.4 % on a day. Everything else about the day is read as
it was: with its Open flag known and only its sales unknown, the forecast is the same to the cent."""
ENSEMBLE_CUTOFF = np.datetime64("2014-12-20")
"""The tiny ensemble's last training day: its 42-day horizon is the generated data's last 42 days."""

TinyForest = Callable[[np.datetime64 | None], Path]
"""``tiny_forest(cutoff)``: the version folder of TINY_FOREST trained up to ``cutoff`` (None: the data's end)."""


@dataclass(frozen=True)
class EnsembleBacktest:
    """The tiny ensemble's backtest scores and the version it trained (RF + LSTM + their blend)."""

    result: dict[str, Any]
    version_dir: Path


TIERS = ("unit", "functional", "system")
"""Test tiers, one folder each (docs/conventions.md): each test is marked with its folder's tier."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier (its folder under tests/, unless marked with a heavier one, e.g. a functional
    module's test that needs the tiny ensemble's training); refuse a test outside the tier folders, and one
    that reads the real Kaggle files without ``@pytest.mark.real_data`` (``-m "not real_data"`` must deselect
    every one of them) or outside the system tier."""
    for item in items:
        tier = item.path.parent.name
        if tier not in TIERS:
            raise pytest.UsageError(f"{item.nodeid} is not in a tier folder: tests/{{{','.join(TIERS)}}}/")
        if not any(item.get_closest_marker(name) for name in TIERS):  # a heavier tier may be marked by hand
            item.add_marker(tier)
    outside = [item.nodeid for item in items
               if item.get_closest_marker("real_data") and item.path.parent.name != "system"]
    if outside:
        raise pytest.UsageError(f"real-data tests belong in tests/system: {', '.join(outside)}")
    unmarked = [item.nodeid for item in items if "real_data_dir" in getattr(item, "fixturenames", ())
                and item.get_closest_marker("real_data") is None]
    if unmarked:
        raise pytest.UsageError(f"tests use real_data_dir without @pytest.mark.real_data: {', '.join(unmarked)}")


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> SyntheticData:
    return write_synthetic_data(tmp_path_factory.mktemp("synthetic"))


@pytest.fixture(scope="session")
def synthetic_dataset(synthetic: SyntheticData) -> Dataset:
    return load_dataset(synthetic.directory)


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    directory = Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)
    if not (directory / "train.csv").is_file():
        pytest.skip(f"real Kaggle data not found in {directory} (set {DATA_DIR_ENV})")
    return directory


@pytest.fixture(scope="session")
def tiny_forest(synthetic_dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> TinyForest:
    """One training per cutoff per session; each version alone in its own local registry (its parent folder)."""
    trained: dict[str | None, Path] = {}

    def version_at(cutoff: np.datetime64 | None) -> Path:
        key = None if cutoff is None else str(cutoff)
        if key not in trained:
            trained[key] = train_model(synthetic_dataset, tmp_path_factory.mktemp("registry"), cutoff, TINY_FOREST)
        return trained[key]

    return version_at


@pytest.fixture(scope="session")
def synthetic_version_dir(tiny_forest: TinyForest) -> Path:
    """The tiny forest trained on all the generated data (origin 2015-01-31); its parent folder is a registry."""
    return tiny_forest(None)


@pytest.fixture(scope="session")
def ensemble_backtest(synthetic_dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> EnsembleBacktest:
    """The session's one ensemble training: TINY_FOREST + TINY_LSTM up to ENSEMBLE_CUTOFF, backtested on
    the 42 days after it."""
    artifacts = tmp_path_factory.mktemp("ensemble")
    result = run_backtest(synthetic_dataset, ENSEMBLE_CUTOFF, HORIZON_DAYS, "ensemble", artifacts, TINY_FOREST,
                          TINY_LSTM)
    return EnsembleBacktest(result, artifacts / "backtests" / "models" / result["version"])


@pytest.fixture(scope="session")
def ensemble_version_dir(ensemble_backtest: EnsembleBacktest) -> Path:
    """The tiny ensemble version (origin ENSEMBLE_CUTOFF); its parent folder is a registry holding only it."""
    return ensemble_backtest.version_dir


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of a real S3 API (moto's server) on 127.0.0.1, one per session; use it through ``s3_env``."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture()
def s3_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point boto3 (``AWS_ENDPOINT_URL``) at the session's S3 server with dummy credentials."""
    settings = {
        "AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "eu-central-1", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return s3_endpoint


@pytest.fixture()
def client(synthetic_version_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The API app (``create_app()``) through TestClient, serving the tiny forest's local registry."""
    with serving(monkeypatch, synthetic_version_dir.parent) as test_client:
        yield test_client


def served_rows(version: ModelVersion, dataset: Dataset, days: int) -> tuple[np.ndarray, ...]:
    """The version's panel with the real covariates of the ``days`` after its origin, and those rows' features."""
    origin = version.history.n_days - 1
    panel = attach_covariates(version.history, dataset.panel.window(HOLDOUT_CUTOFF + 1,
                                                                    HOLDOUT_CUTOFF + np.timedelta64(days, "D")))
    rows = horizon_rows(panel, origin, days, np.arange(len(panel.store_ids)))
    return panel, FeatureBuilder(panel, version.stores).build(*rows)


def assert_serves_refit(version: ModelVersion, dataset: Dataset, model: str,
                        predict: Callable[[np.ndarray], np.ndarray]) -> None:
    """Serving's forecast of tree model ``model`` through onnxruntime, the 21 days after the origin, equals on
    every open day ``predict`` (the library's raw output of a refit on the same rows) decoded by the model's target,
    times the manifest's correction."""
    panel, features = served_rows(version, dataset, 21)
    forecast = forecast_panel(version, panel, version.history.n_days - 1, 21, model=model)
    entry = version.manifest.models[model]
    expected = np.exp(entry.target.decode(features, predict(features))) * entry.correction
    opened = forecast.open == 1
    assert opened.sum() > 8 * 15
    np.testing.assert_allclose(forecast.sales[opened], expected[opened], rtol=1e-4)
