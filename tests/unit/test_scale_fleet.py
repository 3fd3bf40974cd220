"""scripts/bench/scale_fleet.py on generated data: copies keep each store's calendar and covariates, have their own
ids, levels and noise, and the files parse like Kaggle's; and the forest's training-row budget."""

from pathlib import Path

import numpy as np
import pandas as pd

from rossmann_core.data.daily_csv import HISTORY_COLUMNS, parse_daily_bytes
from rossmann_core.data.stores import read_store_csv
from scripts.bench.scale_fleet import build_fleet
from synthetic import SyntheticData
from training.tree_rows import within_budget

CALENDAR = ["DayOfWeek", "Date", "Open", "Promo", "StateHoliday", "SchoolHoliday"]


def test_a_fleet_is_copies_of_every_store_with_their_own_id_level_and_noise(synthetic: SyntheticData,
                                                                          tmp_path: Path) -> None:
    # GIVEN the generated data (8 stores) WHEN a fleet of 3 times the stores is built
    info = build_fleet(synthetic.directory, tmp_path / "fleet", 3, seed=1)
    # THEN both files parse with the serving parsers, with 24 stores numbered 1..24
    train_bytes = (tmp_path / "fleet" / "train.csv").read_bytes()
    rows = parse_daily_bytes(train_bytes, "fleet/train.csv", HISTORY_COLUMNS)
    table = read_store_csv(str(tmp_path / "fleet" / "store.csv"))
    assert (info["stores"], info["rows"]) == (24, 3 * len(pd.read_csv(synthetic.directory / "train.csv")))
    assert table.store_id.tolist() == list(range(1, 25)) and np.unique(rows.store).tolist() == list(range(1, 25))
    source = pd.read_csv(synthetic.directory / "train.csv", dtype={"StateHoliday": str})
    fleet = pd.read_csv(tmp_path / "fleet" / "train.csv", dtype={"StateHoliday": str})
    assert list(fleet.columns) == list(source.columns)
    assert (fleet["Date"].to_numpy()[:-1] >= fleet["Date"].to_numpy()[1:]).all(), "dates descending, like Kaggle's"
    ratios = []
    for copy in (1, 2):
        for store in range(1, 9):
            original = source[source["Store"] == store].sort_values("Date", ignore_index=True)
            twin = fleet[fleet["Store"] == store + 8 * copy].sort_values("Date", ignore_index=True)
            # AND each copy keeps its store's days and covariates, and sells where (and only where) it did
            pd.testing.assert_frame_equal(original[CALENDAR], twin[CALENDAR])
            assert ((twin["Sales"] > 0) == (original["Sales"] > 0)).all()
            ratio = twin["Sales"][original["Sales"] > 0] / original["Sales"][original["Sales"] > 0]
            ratios.append(float(np.median(ratio)))
            # AND its own noise: the day-to-day ratio scatters around its level by about NOISE_SIGMA
            assert 0.04 < float(np.std(np.log(ratio))) < 0.15
    # AND its own level: copies of the same store differ
    assert len({round(r, 2) for r in ratios}) > 12 and min(ratios) > 0.4 and max(ratios) < 2.5


def test_the_fleet_is_reused_when_built_with_the_same_settings(synthetic: SyntheticData, tmp_path: Path) -> None:
    first = build_fleet(synthetic.directory, tmp_path, 2)
    mtime = (tmp_path / "train.csv").stat().st_mtime_ns
    assert build_fleet(synthetic.directory, tmp_path, 2) == first
    assert (tmp_path / "train.csv").stat().st_mtime_ns == mtime
    assert build_fleet(synthetic.directory, tmp_path, 1)["stores"] == synthetic.n_stores


def test_a_row_budget_samples_rows_in_order_and_leaves_smaller_sets_alone() -> None:
    rows = (np.arange(100), np.arange(100) * 2, np.arange(100) % 7)
    assert within_budget(rows, None, 0) is rows and within_budget(rows, 100, 0) is rows
    kept = within_budget(rows, 30, 0)
    assert len(kept[0]) == 30 and (np.diff(kept[0]) > 0).all()
    np.testing.assert_array_equal(kept[1], kept[0] * 2)
    np.testing.assert_array_equal(within_budget(rows, 30, 0)[0], kept[0])
