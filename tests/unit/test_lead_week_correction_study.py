"""The lead-week correction study on made-up windows whose blend is biased by a known factor per lead week."""

import numpy as np
import pytest

from scripts.studies.lead_week_correction_study import fitted_factors, study

BIAS = np.array([1.00, 1.02, 1.04, 1.06, 1.08, 1.10])


def windows(n: int = 4) -> list[tuple[str, np.ndarray, dict[str, np.ndarray], np.ndarray]]:
    rng = np.random.default_rng(1)
    made = []
    for k in range(n):
        lead = np.tile(np.arange(1, 43), 50)
        actual = rng.uniform(3000, 9000, size=lead.size)
        noise = rng.normal(0, 0.05, size=lead.size)
        forecast = actual * BIAS[(lead - 1) // 7] * np.exp(noise)
        made.append((f"2015-0{k + 1}-01", actual, {"a": np.log(forecast), "b": np.log(forecast)}, lead))
    return made


def test_the_fitted_factors_undo_the_known_bias_per_lead_week() -> None:
    factors = fitted_factors(windows(), {"a": 0.5, "b": 0.5})
    np.testing.assert_allclose(factors * BIAS, 1.0, atol=0.01)


def test_the_held_out_windows_gain_from_the_full_correction_and_half_from_the_shrunk_one() -> None:
    result = study(windows(), {"a": 1.0}, [0.5, 1.0])
    summary = result["summary"]
    assert summary["lead_week_shrink_1.0"]["windows_better_than_none"] == 4
    none, half, full = (summary[k]["mean_rmspe_without_worst_row"] for k in
                        ("none", "lead_week_shrink_0.5", "lead_week_shrink_1.0"))
    assert full < half < none and full == pytest.approx(0.05, abs=0.005)
