"""The manifest's record of the default's choice, from a blend study's report (or none without one)."""

import json
from pathlib import Path

from training.default_choice import default_model_choice


def test_without_a_report_nothing_is_recorded(tmp_path: Path) -> None:
    assert default_model_choice({"rf": 0.4, "hgb": 0.6}, tmp_path / "missing.json") is None


def test_the_served_and_best_weightings_and_the_out_of_sample_mean_come_from_the_report(tmp_path: Path) -> None:
    row = {"weights": {"rf": 0.5, "hgb": 0.5}, "mean_rmspe_without_worst_row": 0.14, "median_rmspe": 0.11}
    report = {"cutoffs": ["2015-05-08", "2015-03-27"], "served": row,
              "best": [{**row, "weights": {"rf": 0.3, "hgb": 0.7}, "mean_rmspe_without_worst_row": 0.13}],
              "leave_one_window_out": [{"held_out_rmspe_without_worst_row": 0.12},
                                       {"held_out_rmspe_without_worst_row": 0.16}]}
    path = tmp_path / "study.json"
    path.write_text(json.dumps(report))
    choice = default_model_choice({"rf": 0.5, "hgb": 0.5}, path)
    assert choice is not None and choice["weights"] == {"rf": 0.5, "hgb": 0.5}
    assert choice["judged_on"]["report"] == "study.json" and choice["judged_on"]["cutoffs"] == report["cutoffs"]
    assert choice["best_weights"] == {"weights": {"rf": 0.3, "hgb": 0.7}, "mean_rmspe_without_worst_row": 0.13,
                                      "median_rmspe": 0.11}
    assert choice["best_chosen_out_of_sample_mean"] == 0.14
