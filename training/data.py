"""Load and validate the Kaggle files into a :class:`Dataset` (panel + stores + checksums)."""

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rossmann_core.data.daily_csv import DailyRows, read_history_csv
from rossmann_core.data.panel import Panel, panel_from_history
from rossmann_core.data.stores import StoreTable, read_store_csv
from rossmann_core.errors import DataValidationError
from rossmann_core.storage import sha256_file

log = logging.getLogger(__name__)

TRAIN_FILE = "train.csv"
STORE_FILE = "store.csv"


@dataclass(frozen=True)
class Dataset:
    """Validated data: the history panel, store metadata and the files' sha256."""

    panel: Panel
    stores: StoreTable
    history: DailyRows
    file_sha256: dict[str, str]

    @property
    def last_day(self) -> np.datetime64:
        return self.panel.dates[-1]


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DataValidationError(str(path), None, None, "file not found (set ROSSMANN_DATA_DIR or --data-dir)")
    return path


def load_dataset(data_dir: Path) -> Dataset:
    """Read ``train.csv`` and ``store.csv`` from ``data_dir``; raise DataValidationError on bad input."""
    started = time.perf_counter()
    train_path, store_path = _require(data_dir / TRAIN_FILE), _require(data_dir / STORE_FILE)
    stores = read_store_csv(str(store_path))
    history = read_history_csv(str(train_path))
    panel = panel_from_history(history, stores.store_id)
    missing_days = int(np.isnan(panel.sales).sum())
    missing_stores = int(np.isnan(panel.sales).any(axis=1).sum())
    no_rows = np.flatnonzero(~np.isfinite(panel.sales).any(axis=1))
    if no_rows.size:
        log.warning(
            "%d stores of store.csv have no history rows, e.g. store %d", no_rows.size, panel.store_ids[no_rows[0]]
        )
    open_zero = int(((history.open == 1) & (history.sales == 0)).sum())
    log.info(
        "dataset: %d stores x %d days; %d store-days without a row (%d stores, kept as unknown); "
        "%d open days with zero sales (kept, excluded from training and scoring); %.1f s",
        len(stores.store_id), panel.n_days, missing_days, missing_stores, open_zero,
        time.perf_counter() - started,
    )
    return Dataset(
        panel=panel,
        stores=stores,
        history=history,
        file_sha256={TRAIN_FILE: sha256_file(train_path), STORE_FILE: sha256_file(store_path)},
    )

