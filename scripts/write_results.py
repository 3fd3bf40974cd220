"""Rewrite the generated accuracy tables of docs/results.md from the backtest reports.

Each table lives between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` in docs/results.md;
only those lines are rewritten, everything around them is left as written. The blocks and their reports:

- ``main-job``: ``reports/backtest.json``, written by the main job (``scripts/run_main.sh``);
- ``windows-rmspe`` and ``windows-coverage``: ``reports/backtest_windows.json``, written by
  ``.venv/bin/python -m training backtest --cutoff 2015-05-08 --windows 4 --step 84 --model ensemble
  --out reports/backtest_windows.json``;
- ``eight-windows-rmspe`` and ``eight-windows-coverage``: ``reports/backtest_8_windows.json``, written by
  ``.venv/bin/python -m training backtest --cutoff 2015-05-08 --windows 8 --step 42 --model ensemble --without-lstm
  --out reports/backtest_8_windows.json`` (a year of six-week windows, the tree models);
- ``eight-windows-lstm-rmspe`` and ``eight-windows-lstm-coverage``: ``reports/backtest_8_windows_lstm.json``, the
  same windows for the LSTM alone (``--model lstm``, same cutoffs);
- ``totals``: ``reports/totals_bands.json``, written by ``scripts/studies/totals_bands_study.py`` on the window
  versions of ``.venv/bin/python -m training backtest --cutoff 2015-05-08 --windows 8 --step 42 --model ensemble
  --without-lstm`` (its ``served`` variant: the bands as the current code serves them).

A missing report leaves its blocks untouched and says so. ``--check`` writes nothing and exits 1 when a block
differs from what its report gives (the page is stale), 0 otherwise.

    .venv/bin/python scripts/write_results.py [--reports reports] [--doc docs/results.md] [--check]
"""

import argparse
import datetime
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DOC = REPO_ROOT / "docs" / "results.md"
DEFAULT_REPORTS = REPO_ROOT / "reports"
MAIN_REPORT = "backtest.json"
WINDOWS_REPORT = "backtest_windows.json"
EIGHT_WINDOWS_REPORT = "backtest_8_windows.json"
EIGHT_WINDOWS_LSTM_REPORT = "backtest_8_windows_lstm.json"
TOTALS_REPORT = "totals_bands.json"
MISSING = "–"

Report = Mapping[str, Any]


@dataclass(frozen=True)
class Block:
    """A generated block: its marker ``name``, the ``report`` file it is built from, and its ``render``er."""

    name: str
    report: str
    render: Callable[[Report], list[str]]


def rmspe_text(value: float | None, digits: int) -> str:
    """An RMSPE (a fraction: 0.10196) with ``digits`` decimals, or an en dash when the report lacks it."""
    return MISSING if value is None else f"{value:.{digits}f}"


def coverage_text(value: float | None) -> str:
    """A coverage of the 90 % interval (share of actual sales inside it) with 3 decimals, or an en dash."""
    return MISSING if value is None else f"{value:.3f}"


def model_scores(result: Report) -> dict[str, Report]:
    """The scores of every model a backtest result holds, by name: its own model first, then ``members``
    in report order (the main job's ensemble: rf, hgb, lstm)."""
    return {result["model"]: result, **result.get("members", {})}


def forecast_days(cutoff: str, horizon: int) -> tuple[datetime.date, datetime.date]:
    """First and last forecast day of a backtest trained up to ``cutoff`` (YYYY-MM-DD) over ``horizon`` days."""
    day = datetime.date.fromisoformat(cutoff)
    return day + datetime.timedelta(days=1), day + datetime.timedelta(days=horizon)


def window_label(window: Report) -> str:
    """Column title of a rolling-backtest window: its months and forecast days, e.g. ``May-Jun (05-09..06-19)``."""
    first = datetime.date.fromisoformat(window["first_day"])
    last = datetime.date.fromisoformat(window["last_day"])
    return f"{first:%b}-{last:%b} ({first:%m-%d}..{last:%m-%d})"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table: a header row, the separator, then ``rows`` (each as long as ``header``)."""
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def render_main_job(report: Report) -> list[str]:
    """The main job's backtest (reports/backtest.json): one row per model, RMSPE with 5 decimals, RMSPE
    without the single worst store-day with 4, coverage of the 90 % interval, then the baseline."""
    first, last = forecast_days(report["cutoff"], int(report["horizon"]))
    rows = [
        [f"`{name}`", rmspe_text(s["rmspe"], 5), rmspe_text(s.get("rmspe_without_worst_row"), 4),
         coverage_text(s.get("coverage_90"))]
        for name, s in model_scores(report).items()
    ]
    rows.append(["store × weekday × promo baseline", rmspe_text(report.get("baseline_rmspe"), 5), MISSING, MISSING])
    caption = (f"{int(report['rows']):,} open store-days, {first}..{last} (trained on days up to "
               f"{report['cutoff']}), model version `{report['version']}`.")
    return [caption, "", *table(["model", "RMSPE", "RMSPE without the worst row", "90 % coverage"], rows)]


def render_windows_rmspe(report: Report) -> list[str]:
    """The rolling backtest's RMSPE (reports/backtest_windows.json): per model and window ``RMSPE / RMSPE
    without the window's worst row`` (4 decimals), then both means over the windows."""
    windows = report["windows"]
    header = ["model", *(window_label(w) for w in windows), "mean", "mean without each window's worst row"]
    rows = []
    for name, summary in report["summary"].items():
        cells = []
        for window in windows:
            s = model_scores(window)[name]
            cells.append(f"{rmspe_text(s['rmspe'], 4)} / {rmspe_text(s.get('rmspe_without_worst_row'), 4)}")
        rows.append([f"`{name}`", *cells, rmspe_text(summary["mean_rmspe"], 4),
                     rmspe_text(summary.get("mean_rmspe_without_worst_row"), 4)])
    return table(header, rows)


def render_windows_coverage(report: Report) -> list[str]:
    """The rolling backtest's 90 % intervals (reports/backtest_windows.json): per model the coverage on each
    window, then the mean coverage and the mean width (mean of (upper − lower) / sales over the windows)."""
    windows = report["windows"]
    header = ["model", *(window_label(w) for w in windows), "mean coverage", "mean width"]
    rows = [
        [f"`{name}`", *(coverage_text(model_scores(w)[name].get("coverage_90")) for w in windows),
         coverage_text(summary.get("mean_coverage_90")), coverage_text(summary.get("mean_width_90"))]
        for name, summary in report["summary"].items()
    ]
    return table(header, rows)


LEVEL_NAMES = {"chain_day": "chain per day", "state_week": "federal state per week",
               "store_type_week": "store type per week", "store_window": "store, six weeks"}


def render_totals(report: Report) -> list[str]:
    """The totals' 90 % bands on the rolling backtest (reports/totals_bands.json, its ``served`` variant): per
    level, pooled coverage over the ordinary windows, the lowest and highest window, the mean width of the band and
    of the summed store-day bands (fractions of the forecast total), the hindsight width and their ratio; then the
    Christmas windows' coverage."""
    served = report.get("served", {})
    ordinary, christmas = served.get("ordinary_windows", {}), served.get("christmas_windows", {})
    rows = []
    for level, name in LEVEL_NAMES.items():
        s = ordinary.get(level)
        if s is None:
            continue
        c = christmas.get(level, {})
        rows.append([name, coverage_text(s["pooled_coverage_90"]),
                     f"{coverage_text(s['min_coverage_90'])}-{coverage_text(s['max_coverage_90'])}",
                     coverage_text(s["mean_width_90"]), coverage_text(s["mean_summed_day_band_width"]),
                     coverage_text(s["hindsight_width_90"]), f"{s['width_over_hindsight']:.2f}",
                     coverage_text(c.get("pooled_coverage_90"))])
    cutoffs, holds_christmas = report.get("windows", []), report.get("christmas", [])
    caption = (f"{holds_christmas.count(False)} ordinary windows and {holds_christmas.count(True)} Christmas "
               f"window(s), cutoffs {min(cutoffs, default=MISSING)}..{max(cutoffs, default=MISSING)}.")
    return [caption, "", *table(["level", "coverage (pooled)", "each window", "band width", "summed day bands",
                                 "hindsight width", "width / hindsight", "Christmas coverage"], rows)]


BLOCKS = (
    Block("main-job", MAIN_REPORT, render_main_job),
    Block("windows-rmspe", WINDOWS_REPORT, render_windows_rmspe),
    Block("windows-coverage", WINDOWS_REPORT, render_windows_coverage),
    Block("eight-windows-rmspe", EIGHT_WINDOWS_REPORT, render_windows_rmspe),
    Block("eight-windows-coverage", EIGHT_WINDOWS_REPORT, render_windows_coverage),
    Block("eight-windows-lstm-rmspe", EIGHT_WINDOWS_LSTM_REPORT, render_windows_rmspe),
    Block("eight-windows-lstm-coverage", EIGHT_WINDOWS_LSTM_REPORT, render_windows_coverage),
    Block("totals", TOTALS_REPORT, render_totals),
)


def replace_block(text: str, name: str, lines: list[str]) -> str:
    """``text`` with the lines between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->`` replaced by
    ``lines``; the marker lines stay. Raises ValueError unless each marker occurs exactly once, in order."""
    start, end = f"<!-- generated:{name} -->", f"<!-- /generated:{name} -->"
    if text.count(start) != 1 or text.count(end) != 1:
        raise ValueError(f"expected one {start} and one {end} line in the document")
    head, rest = text.split(start, 1)
    body, tail = rest.split(end, 1)
    if not body.startswith("\n"):
        raise ValueError(f"{start} must end its line")
    return head + start + "\n" + "".join(line + "\n" for line in lines) + end + tail


def read_report(path: Path) -> Report | None:
    """The report at ``path`` as a dict, or None when the file does not exist."""
    return json.loads(path.read_text()) if path.is_file() else None


def regenerate(text: str, reports_dir: Path, log: Callable[[str], None] = print) -> str:
    """``text`` with every block whose report exists in ``reports_dir`` rebuilt; blocks whose report is
    missing are left untouched and named through ``log``."""
    for block in BLOCKS:
        report = read_report(reports_dir / block.report)
        if report is None:
            log(f"{block.name}: {reports_dir / block.report} not found, block left as it is")
            continue
        text = replace_block(text, block.name, block.render(report))
    return text


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or with ``--check`` only compare) the generated blocks; 1 when ``--check`` finds them stale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=DEFAULT_REPORTS, help="folder of the backtest JSONs")
    parser.add_argument("--doc", type=Path, default=DEFAULT_DOC, help="the page holding the generated blocks")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a block is stale")
    args = parser.parse_args(argv)
    text = args.doc.read_text()
    try:
        updated = regenerate(text, args.reports, log=lambda message: print(message, file=sys.stderr))
    except ValueError as error:
        print(f"{args.doc}: {error}", file=sys.stderr)
        return 2
    return settle(args.doc, text, updated, args.check, "scripts/write_results.py")


def settle(doc: Path, text: str, updated: str, check: bool, command: str) -> int:
    """Write ``updated`` over ``doc`` (whose text is ``text``) unless ``check``; 0 when up to date or rewritten,
    1 when ``check`` finds it stale (``command`` is what rewrites it)."""
    if updated == text:
        print(f"{doc}: up to date")
        return 0
    if check:
        print(f"{doc}: stale, run {command}", file=sys.stderr)
        return 1
    doc.write_text(updated)
    print(f"{doc}: rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
