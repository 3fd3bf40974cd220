"""The EDA report measures the effects planted in the generated data, and renders every section."""

import base64
import csv
import io
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

import synthetic
from rossmann_core.data.daily_csv import read_future_csv
from training.__main__ import main
from training.data import Dataset
from training.eda.events import dilate, find_runs
from training.eda.findings import Findings, compute_findings
from training.eda.frame import EdaFrame, build_frame
from training.eda.promos import promo_calendar
from training.eda.report import SECTION_BUILDERS

REPO = Path(__file__).resolve().parents[2]
WEEKDAY_FACTOR = {"Mon": 1.15, "Sat": 1.1}
"""The generator's weekday factors for Monday and Saturday; Tue-Thu are 1.0, 0.95, 0.95."""
MID_WEEK_FACTOR = (1.0 + 0.95 + 0.95) / 3


@pytest.fixture(scope="module")
def frame(synthetic_dataset: Dataset) -> EdaFrame:
    return build_frame(synthetic_dataset)


@pytest.fixture(scope="module")
def findings(frame: EdaFrame) -> Findings:
    return compute_findings(frame)


@pytest.fixture(scope="module")
def report(synthetic: synthetic.SyntheticData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("eda")
    assert main(["eda", "--data-dir", str(synthetic.directory), "--out", str(out)]) == 0
    return out / "index.html"


def test_promo_lift_is_measured_chain_wide(findings: Findings) -> None:
    lifts = findings.promo_effect.lifts
    assert lifts.loc["sales", "mean"] == pytest.approx(synthetic.PROMO_LIFT, abs=0.02)
    assert lifts.loc["sales", "low"] < synthetic.PROMO_LIFT < lifts.loc["sales", "high"]
    # customers = sales / uniform(8, 10) in the generator: the whole lift comes from customers
    assert lifts.loc["customers", "mean"] == pytest.approx(synthetic.PROMO_LIFT, abs=0.02)
    assert lifts.loc["spend", "mean"] == pytest.approx(1.0, abs=0.02)
    assert findings.promo_effect.customer_share == pytest.approx(1.0, abs=0.1)


def test_promo_lift_per_store_has_intervals_that_cover_the_planted_lift(findings: Findings) -> None:
    stores = findings.targeting.stores
    assert len(stores) == 8
    np.testing.assert_allclose(stores["lift"], synthetic.PROMO_LIFT, atol=0.03)
    assert (stores["low"] < stores["lift"]).all() and (stores["lift"] < stores["high"]).all()
    covered = ((stores["low"] <= synthetic.PROMO_LIFT) & (stores["high"] >= synthetic.PROMO_LIFT)).sum()
    assert covered >= 6
    assert findings.targeting.not_positive == 0


def test_competitor_opening_effect_is_measured(findings: Findings) -> None:
    openings = findings.openings
    assert openings.n_inside == 1
    assert list(openings.effects.index) == [synthetic.COMPETITOR_STORE]
    assert openings.effects.loc[synthetic.COMPETITOR_STORE, "opened"] == "2014-03"
    assert openings.mean_effect == pytest.approx(synthetic.COMPETITOR_EFFECT - 1.0, abs=0.03)
    assert openings.profile.loc[-3:-1, "median"].mean() == pytest.approx(1.0, abs=0.02)
    assert openings.profile.loc[1:6, "median"].mean() == pytest.approx(synthetic.COMPETITOR_EFFECT, abs=0.03)


def test_data_quality_finds_the_gap_and_the_closed_days(findings: Findings, frame: EdaFrame) -> None:
    quality = findings.quality
    first, last = synthetic.GAP
    gap_days = int((last - first) / np.timedelta64(1, "D")) + 1
    assert quality.missing_store_days == gap_days
    gap = quality.gaps.iloc[0]
    assert (gap["first"], gap["last"], gap["days"], gap["stores"], gap["example"]) == (
        first, last, gap_days, 1, synthetic.GAP_STORE)
    sundays = frame.days["weekday"] == 6
    assert quality.closed_sundays == int(sundays.sum())
    assert quality.open_zero_sales == 0
    assert quality.trading_days == int((frame.days["open"] == 1).sum())
    assert quality.store_missing["competition_distance"] == 1
    assert quality.store_missing["competition_open_year"] == 3
    assert quality.outliers < 0.01 * quality.trading_days


def test_weekday_index_recovers_the_weekday_factors(findings: Findings) -> None:
    index = findings.opening.weekday_index["closed Sundays"]
    for day, factor in WEEKDAY_FACTOR.items():
        assert index[day] == pytest.approx(factor / MID_WEEK_FACTOR, abs=0.02)
    assert findings.opening.n_sunday_openers == 0


def test_holidays_close_every_store_and_leave_neighbouring_days_normal(findings: Findings) -> None:
    table = findings.holidays.table
    assert table.loc[["public holiday", "Easter", "Christmas"], "open_share"].eq(0.0).all()
    np.testing.assert_allclose(table.loc[["public holiday", "Easter", "Christmas"], ["before", "after"]], 1.0,
                               atol=0.03)


def test_no_season_is_found_where_none_was_planted(findings: Findings) -> None:
    seasons = findings.seasons
    assert seasons.n_complete == 7
    assert seasons.december_vs_year == pytest.approx(1.0, abs=0.05)
    assert seasons.pre_christmas == pytest.approx(1.0, abs=0.03)
    assert seasons.pre_easter == pytest.approx(1.0, abs=0.03)
    assert seasons.like_for_like["growth"].dropna().abs().max() < 0.05


def test_store_level_findings_match_the_generator(findings: Findings) -> None:
    # customers = sales / uniform(8, 10): about 9 euros per customer, and customers track sales closely
    assert findings.sales_customers.spend == pytest.approx(9.0, abs=0.2)
    assert findings.sales_customers.within_store_median > 0.8
    assert findings.formats.by_type["stores"].tolist() == [2, 2, 2, 2]
    assert findings.distance.missing_distance == 1
    assert findings.distance.bands["stores"].sum() == 7
    assert findings.week.closures.loc["state holiday", "runs"] > 0


def test_promo_calendar_compares_history_with_a_future_file(frame: EdaFrame, synthetic_dataset: Dataset,
                                                            tmp_path: Path) -> None:
    # GIVEN a test.csv-shaped file of 14 future days without any promo, Open left empty on one row
    path = tmp_path / "test.csv"
    start = frame.dates[-1] + np.timedelta64(1, "D")
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["Id", "Store", "DayOfWeek", "Date", "Open", "Promo", "StateHoliday", "SchoolHoliday"])
        for i, date in enumerate(start + np.arange(14)):
            for store in range(1, 9):
                weekday = (date.astype(np.int64) + 3) % 7
                open_field = "" if (i, store) == (0, 1) else str(int(weekday != 6))
                writer.writerow([i * 8 + store, store, weekday + 1, str(date), open_field, 0, "0", 0])

    # WHEN the calendar is computed against it
    calendar = promo_calendar(frame, read_future_csv(str(path)), str(path))

    # THEN the horizon is the file's 14 days, with no promo, and the empty Open is counted
    assert calendar.horizon_span[0] == start
    assert calendar.shares.loc["promo (of open store-days)", "horizon"] == 0.0
    # promo every other week, Monday to Friday, and stores open Monday to Saturday: 5 of 12 open days
    assert calendar.shares.loc["promo (of open store-days)", "history"] == pytest.approx(5 / 12, abs=0.02)
    assert calendar.unknown_open_rows == 1
    assert calendar.max_weekday_gap > 0.4


def test_promo_calendar_defaults_to_the_last_42_days(findings: Findings, frame: EdaFrame) -> None:
    calendar = findings.calendar
    assert calendar.horizon_span[1] == frame.dates[-1]
    assert (calendar.horizon_span[1] - calendar.horizon_span[0]).days == 41
    assert calendar.chain_wide_days == 1.0


def test_every_section_is_present_with_text_and_a_decodable_figure(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    sections = re.findall(r"<section id='q(\d+)'>(.*?)</section>", html, flags=re.S)
    assert [int(number) for number, _ in sections] == list(range(1, len(SECTION_BUILDERS) + 1)) == list(range(1, 13))
    for number, body in sections:
        text = re.sub(r"<[^>]+>", " ", re.sub(r"<img[^>]*>", "", body))
        assert len(text.split()) > 40, f"section {number} has almost no text"
        assert not re.search(r"\bnan\b", text, flags=re.I), f"section {number} prints a raw NaN"
        pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", body)
        assert len(pngs) == 1, f"section {number} has {len(pngs)} images"
        pixels = image.imread(io.BytesIO(base64.b64decode(pngs[0])), format="png")
        assert pixels.shape[0] >= 300 and pixels.shape[1] >= 1000
    assert "€" in html and "http" not in html.replace("http-equiv", "")


def test_find_runs_and_dilate_match_a_plain_loop() -> None:
    flags = np.random.default_rng(0).random((5, 40)) < 0.4
    runs = find_runs(flags)
    expected = []
    for store, row in enumerate(flags):
        day = 0
        while day < len(row):
            if row[day]:
                end = day
                while end + 1 < len(row) and row[end + 1]:
                    end += 1
                expected.append((store, day, end))
                day = end
            day += 1
    assert list(zip(runs.store, runs.first, runs.last)) == expected
    near = np.array([[flags[s, max(d - 2, 0): d + 3].any() for d in range(40)] for s in range(5)])
    np.testing.assert_array_equal(dilate(flags, 2), near)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_report_renders_in_a_headless_browser(report: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(REPO / "scripts" / "check_eda_in_browser.sh"), str(report), str(tmp_path / "eda.png")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "12 sections, 12 <img> tags" in result.stdout
