"""The interval-pool study's cache and ranking, on made-up residuals of known spread."""

from pathlib import Path

import numpy as np

from rossmann_core import HORIZON_DAYS
from scripts.studies.interval_pool_study import Residuals, Window, read_window, save_window, study

LEADS = np.tile(np.arange(1, HORIZON_DAYS + 1), 50)


def residuals(rng: np.random.Generator, spread: float) -> Residuals:
    """Normal log residuals of standard deviation ``spread`` on every lead day, 50 rows a day."""
    return Residuals(rng.normal(0.0, spread, LEADS.size), LEADS)


def window(rng: np.random.Generator, cutoff: str, season: float) -> Window:
    """A window whose test days and year-ago window share the spread ``season``; the calibration window and
    the windows before it are calmer (spread 0.05)."""
    interval = {"lower_log": [-0.1] * 6, "upper_log": [0.1] * 6}
    return Window(
        cutoff=cutoff, version="20990101T000000Z",
        calibration={"ensemble": residuals(rng, 0.05)}, test={"ensemble": residuals(rng, season)},
        earlier=[residuals(rng, 0.05) for _ in range(4)], year_ago=residuals(rng, season),
        manifest_interval={"ensemble": interval}, manifest_rmspe={"ensemble": 0.1},
    )


def test_a_window_read_back_from_the_cache_is_the_one_saved(tmp_path: Path) -> None:
    # GIVEN a window with a year-ago window
    saved = window(np.random.default_rng(0), "2014-11-21", 0.3)
    # WHEN it is saved and read back
    save_window(saved, tmp_path / "w.npz")
    read = read_window(tmp_path / "w.npz")
    # THEN every residual array and figure is the same
    for part in ("calibration", "test"):
        np.testing.assert_array_equal(getattr(read, part)["ensemble"].log, getattr(saved, part)["ensemble"].log)
    np.testing.assert_array_equal(read.year_ago.log, saved.year_ago.log)
    np.testing.assert_array_equal(read.year_ago.lead_days, saved.year_ago.lead_days)
    assert [len(r.log) for r in read.earlier] == [len(r.log) for r in saved.earlier]
    assert (read.cutoff, read.manifest_interval) == (saved.cutoff, saved.manifest_interval)


def test_the_pool_that_holds_the_season_ranks_first() -> None:
    # GIVEN windows whose test days are as wild as their year-ago window, and much wilder than the weeks before
    rng = np.random.default_rng(1)
    windows = [window(rng, cutoff, season) for cutoff, season in (("2015-05-08", 0.1), ("2014-11-21", 0.3))]
    # WHEN the schemes are scored
    result = study(windows)
    scores = result["models"]["ensemble"]
    # THEN pooling with the year-ago window comes first; the recent windows alone cover far less than 90 %
    assert result["ranking"]["ensemble"][0] in ("year ago", "pool 3 + year ago")
    assert scores["pool 3"]["windows"]["2014-11-21"]["coverage"] < 0.6
    assert 0.8 < scores["year ago"]["windows"]["2014-11-21"]["coverage"] < 0.99
