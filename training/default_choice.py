"""Why the default model is what it is, as the manifest records it: the blend study's figures for the served
weights and the best weighting found (issue 26's yardstick), read from the study's report in the repository."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import BLEND_CHOICE_DECISION, BLEND_CHOICE_REPORT, REPO_ROOT


def default_model_choice(weights: Mapping[str, float], report: Path = BLEND_CHOICE_REPORT) -> dict[str, Any] | None:
    """The manifest's ``default_model_choice``: the served ``weights``, the yardstick and windows they were judged
    on, their figures and the best weighting's (in-sample and chosen out of sample), and the decision page; None
    when the report is not there (nothing to record but the weights, which the blend's entry holds)."""
    if not report.is_file():
        return None
    study = json.loads(report.read_text())
    held_out = [w["held_out_rmspe_without_worst_row"] for w in study["leave_one_window_out"]]
    return {
        "weights": dict(weights),
        "judged_on": {"report": str(report.relative_to(REPO_ROOT)) if report.is_relative_to(REPO_ROOT) else report.name,
                      "cutoffs": study["cutoffs"],
                      "yardstick": "mean over the windows of RMSPE without each window's worst store-day"},
        "served_weights_judged": _figures(study["served"]),
        "best_weights": _figures(study["best"][0]),
        "best_chosen_out_of_sample_mean": round(sum(held_out) / len(held_out), 4),
        "decision": BLEND_CHOICE_DECISION,
    }


def _figures(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"weights": row["weights"], "mean_rmspe_without_worst_row": row["mean_rmspe_without_worst_row"],
            "median_rmspe": row["median_rmspe"]}
