"""Diagnostics on generated data: the planted weekly and two-weekly cycles are found, the report renders."""

import re
from pathlib import Path

import numpy as np
import pytest

from synthetic import SyntheticData
from training.__main__ import main
from training.data import Dataset
from training.diagnostics.autocorr import acf_nan, pacf_from_acf, peak_lags, seasonal_excess
from training.diagnostics.report import Findings, find
from training.diagnostics.series import build_series, difference
from training.diagnostics.stationarity import adf_kpss


@pytest.fixture(scope="module")
def findings(synthetic_dataset: Dataset) -> Findings:
    return find(build_series(synthetic_dataset.panel))


def test_adf_and_kpss_tell_a_random_walk_from_white_noise() -> None:
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(600)
    walk, still = adf_kpss(noise.cumsum()), adf_kpss(noise)
    assert not walk.adf_rejects and walk.kpss_rejects
    assert still.adf_rejects and not still.kpss_rejects


def test_pacf_of_an_ar1_cuts_off_after_lag_1() -> None:
    rng = np.random.default_rng(1)
    x = np.zeros(3000)
    for t in range(1, len(x)):
        x[t] = 0.6 * x[t - 1] + rng.standard_normal()
    pacf = pacf_from_acf(acf_nan(x, 10))
    assert pacf[1] == pytest.approx(0.6, abs=0.05) and np.abs(pacf[2:]).max() < 0.06


def test_weekly_and_promo_cycles_are_found_and_removed_by_the_base(findings: Findings) -> None:
    # GIVEN generated sales with a weekday profile, closed Sundays and promo every other week
    # THEN the chain ACF peaks at 7 and 14, the PACF points at 7, and log sales show the two-weekly cycle
    assert {7, 14} <= set(peak_lags(findings.chain_acf, 0.1))
    assert np.argmax(np.abs(findings.chain_pacf[1:])) + 1 == 7
    assert findings.chain_log_acf[14] > 0.5 > findings.chain_log_acf[7]
    # AND subtracting the store's weekday x promo mean leaves no peak at 7 or 14
    assert seasonal_excess(findings.store_log_acf, 14) > 0.2
    assert max(seasonal_excess(findings.store_residual_acf, lag) for lag in (7, 14)) < 0.05


def test_difference_keeps_the_day_alignment() -> None:
    values = np.array([1.0, 2.0, np.nan, 7.0])
    np.testing.assert_array_equal(difference(values, 1), [np.nan, 1.0, np.nan, np.nan])


def test_cli_writes_the_report_with_computed_numbers(
    synthetic: SyntheticData, findings: Findings, tmp_path: Path
) -> None:
    out = tmp_path / "diagnostics"
    assert main(["diagnose", "--data-dir", str(synthetic.directory), "--out", str(out)]) == 0
    text = (out / "index.md").read_text()
    images = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert len(images) == 4 and all((out / name).stat().st_size > 10_000 for name in images)
    log_test = findings.chain_tests["log"]
    assert f"| log | {log_test.n} | {log_test.adf_stat:.2f} |" in text
    assert "## 4. Decision for the LSTM's inputs" in text and "No differencing" in text
