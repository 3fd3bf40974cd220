"""Shared fixtures: generated Kaggle-format data, a tiny forest, the real data folder, a local S3 server."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from synthetic import SyntheticData, write_synthetic_data
from training.config import DATA_DIR_ENV, DEFAULT_DATA_DIR, ForestSettings
from training.data import Dataset, load_dataset
from training.train import train_model

TINY_FOREST = ForestSettings(n_estimators=4, max_leaf_nodes=300, min_samples_leaf=2, n_jobs=1)


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
def synthetic_version_dir(synthetic_dataset: Dataset, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny forest trained once per session on the generated data; its parent folder is a local registry."""
    return train_model(synthetic_dataset, tmp_path_factory.mktemp("registry"), settings=TINY_FOREST)


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
