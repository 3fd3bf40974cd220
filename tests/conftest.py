"""Shared fixtures: generated Kaggle-format data, a tiny forest, the real data folder."""

import os
from pathlib import Path

import pytest

from synthetic import SyntheticData, write_synthetic_data
from training.config import DATA_DIR_ENV, DEFAULT_DATA_DIR, ForestSettings
from training.data import Dataset, load_dataset

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
