"""scripts/write_results.py: the generated tables of docs/results.md from small report dicts."""

import json
from pathlib import Path
from typing import Any

import pytest

from scripts import write_results

pytestmark = pytest.mark.unit

PAGE = """# Results

Written by hand, kept.

<!-- generated:main-job -->
old main-job table
<!-- /generated:main-job -->

Between the blocks, kept.

<!-- generated:windows-rmspe -->
<!-- /generated:windows-rmspe -->

<!-- generated:windows-coverage -->
old coverage table
<!-- /generated:windows-coverage -->
"""


def scores(rmspe: float, without: float, coverage: float, width: float | None = None) -> dict[str, float]:
    """One model's scores as training/backtest.py writes them (``width_90`` only in rolling windows)."""
    result = {"rmspe": rmspe, "rmspe_without_worst_row": without, "coverage_90": coverage}
    return result if width is None else {**result, "width_90": width}


def main_report() -> dict[str, Any]:
    """A main-job report (reports/backtest.json) of an ensemble with two members."""
    return {
        "model": "ensemble", "version": "20261130T225459Z", "cutoff": "2015-05-08", "horizon": 42, "rows": 37472,
        **scores(0.101964, 0.100712, 0.90612), "baseline_rmspe": 0.139907, "train_seconds": 542.4,
        "predict_seconds": 0.5,
        "members": {"rf": scores(0.109021, 0.108104, 0.8901), "hgb": scores(0.101981, 0.100421, 0.9093)},
    }


def window(cutoff: str, first: str, last: str, ensemble: float, rf: float) -> dict[str, Any]:
    """A rolling-backtest window of an ensemble with one member."""
    return {
        "cutoff": cutoff, "first_day": first, "last_day": last, "model": "ensemble", "horizon": 42, "rows": 100,
        **scores(ensemble, ensemble - 0.001, 0.9, 0.35),
        "members": {"rf": scores(rf, rf - 0.002, 0.8, 0.4)},
    }


def windows_report() -> dict[str, Any]:
    """A two-window rolling report (reports/backtest_windows.json) with its summary."""
    return {
        "model": "ensemble", "horizon": 42, "step_days": 84, "settings": {},
        "windows": [window("2015-05-08", "2015-05-09", "2015-06-19", 0.10196, 0.10902),
                    window("2015-02-13", "2015-02-14", "2015-03-27", 0.16211, 0.16555)],
        "summary": {
            "ensemble": {"mean_rmspe": 0.132035, "mean_rmspe_without_worst_row": 0.131035,
                         "mean_coverage_90": 0.9, "mean_width_90": 0.35},
            "rf": {"mean_rmspe": 0.137285, "mean_rmspe_without_worst_row": 0.135285,
                   "mean_coverage_90": 0.8, "mean_width_90": 0.4},
        },
    }


def write_reports(folder: Path, main: bool = True, windows: bool = True) -> Path:
    folder.mkdir(exist_ok=True)
    if main:
        (folder / write_results.MAIN_REPORT).write_text(json.dumps(main_report()))
    if windows:
        (folder / write_results.WINDOWS_REPORT).write_text(json.dumps(windows_report()))
    return folder


def test_main_job_rows() -> None:
    lines = write_results.render_main_job(main_report())
    assert lines[0].startswith("37,472 open store-days, 2015-05-09..2015-06-19 (trained on days up to 2015-05-08)")
    assert "| `ensemble` | 0.10196 | 0.1007 | 0.906 |" in lines
    assert "| `rf` | 0.10902 | 0.1081 | 0.890 |" in lines
    assert "| `hgb` | 0.10198 | 0.1004 | 0.909 |" in lines
    assert "| store × weekday × promo baseline | 0.13991 | – | – |" in lines
    assert next(line for line in lines if line.startswith("| `")).startswith("| `ensemble`")


def test_windows_rows() -> None:
    rmspe = write_results.render_windows_rmspe(windows_report())
    assert rmspe[0] == ("| model | May-Jun (05-09..06-19) | Feb-Mar (02-14..03-27) | mean "
                        "| mean without each window's worst row |")
    assert rmspe[2] == "| `ensemble` | 0.1020 / 0.1010 | 0.1621 / 0.1611 | 0.1320 | 0.1310 |"
    assert rmspe[3] == "| `rf` | 0.1090 / 0.1070 | 0.1656 / 0.1636 | 0.1373 | 0.1353 |"
    coverage = write_results.render_windows_coverage(windows_report())
    assert coverage[2] == "| `ensemble` | 0.900 | 0.900 | 0.900 | 0.350 |"
    assert coverage[3] == "| `rf` | 0.800 | 0.800 | 0.800 | 0.400 |"


def test_report_without_the_worst_row_figure_shows_a_dash() -> None:
    report = main_report()
    del report["rmspe_without_worst_row"]
    assert "| `ensemble` | 0.10196 | – | 0.906 |" in write_results.render_main_job(report)


def test_replace_block_keeps_everything_outside_the_markers() -> None:
    text = write_results.replace_block(PAGE, "main-job", ["new line 1", "new line 2"])
    assert "<!-- generated:main-job -->\nnew line 1\nnew line 2\n<!-- /generated:main-job -->" in text
    assert "old main-job table" not in text
    assert text.replace("new line 1\nnew line 2\n", "old main-job table\n") == PAGE


def test_replace_block_needs_both_markers_once() -> None:
    with pytest.raises(ValueError, match="generated:missing"):
        write_results.replace_block(PAGE, "missing", ["x"])
    with pytest.raises(ValueError):
        write_results.replace_block(PAGE + "<!-- generated:main-job -->\n", "main-job", ["x"])


def test_write_then_check(tmp_path: Path) -> None:
    doc = tmp_path / "results.md"
    doc.write_text(PAGE)
    reports = write_reports(tmp_path / "reports")
    args = ["--reports", str(reports), "--doc", str(doc)]
    assert write_results.main([*args, "--check"]) == 1  # stale: the blocks hold the old text
    assert doc.read_text() == PAGE  # --check writes nothing
    assert write_results.main(args) == 0
    written = doc.read_text()
    assert "| `ensemble` | 0.10196 | 0.1007 | 0.906 |" in written
    assert "Between the blocks, kept." in written
    assert write_results.main([*args, "--check"]) == 0
    doc.write_text(written.replace("0.10196", "0.10190"))  # a hand edit inside a block is stale too
    assert write_results.main([*args, "--check"]) == 1


def test_missing_report_leaves_its_blocks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "results.md"
    doc.write_text(PAGE)
    reports = write_reports(tmp_path / "reports", windows=False)
    assert write_results.main(["--reports", str(reports), "--doc", str(doc)]) == 0
    written = doc.read_text()
    assert "old coverage table" in written
    assert "old main-job table" not in written
    assert "backtest_windows.json not found" in capsys.readouterr().err


def test_the_totals_table_lists_each_level_with_its_hindsight_ratio_and_christmas_apart() -> None:
    level = {"pooled_coverage_90": 0.9, "min_coverage_90": 0.81, "max_coverage_90": 0.97, "mean_width_90": 0.08,
             "mean_summed_day_band_width": 0.35, "hindsight_width_90": 0.064, "width_over_hindsight": 1.25}
    report = {"windows": ["2014-12-20", "2015-05-08"], "christmas": [True, False],
              "served": {"ordinary_windows": {"chain_day": level, "store_window": level},
                         "christmas_windows": {"chain_day": {**level, "pooled_coverage_90": 0.7}}}}
    lines = write_results.render_totals(report)
    assert lines[0] == "1 ordinary windows and 1 Christmas window(s), cutoffs 2014-12-20..2015-05-08."
    chain = next(line for line in lines if line.startswith("| chain per day"))
    assert chain == "| chain per day | 0.900 | 0.810-0.970 | 0.080 | 0.350 | 0.064 | 1.25 | 0.700 |"
    assert any(line.startswith("| store, six weeks") and line.endswith("| – |") for line in lines)
