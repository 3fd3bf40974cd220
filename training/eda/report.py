"""Assemble the EDA report: load, compute findings, render sections, write one self-contained HTML page."""

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rossmann_core.data.daily_csv import read_future_csv

from ..data import load_dataset
from . import sections_calendar as calendar
from . import sections_stores as stores
from .findings import Findings, compute_findings
from .frame import EdaFrame, build_frame
from .text import Section, escape

log = logging.getLogger(__name__)

REPORT_FILE = "index.html"
SECTION_BUILDERS: tuple[Callable[[Findings, EdaFrame], Section], ...] = (
    calendar.data_quality_section,
    calendar.promo_calendar_section,
    calendar.holiday_section,
    calendar.seasonality_section,
    stores.sales_customers_section,
    stores.promo_effect_section,
    stores.promo_targeting_section,
    calendar.week_section,
    stores.opening_section,
    stores.store_formats_section,
    stores.distance_section,
    stores.openings_section,
)

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1240px; margin: 0 auto;
       padding: 0 24px 48px; color: #1d1d1f; line-height: 1.5; }
h1 { margin-bottom: 0.2em; } h2 { border-top: 1px solid #ddd; padding-top: 1em; margin-top: 2em; }
.meta { color: #555; font-size: 0.9em; } .question { color: #555; font-style: italic; }
nav ol { columns: 2; } img { max-width: 100%; height: auto; display: block; margin: 1em 0; }
table.data { border-collapse: collapse; font-size: 0.9em; margin: 0.5em 0 1em; }
table.data th, table.data td { padding: 3px 10px; border-bottom: 1px solid #e5e5e5; text-align: right; }
table.data th { background: #f5f5f7; } figure.table { margin: 0; } figcaption { font-weight: 600; }
"""


def render_sections(findings: Findings, frame: EdaFrame) -> list[Section]:
    """One :class:`Section` per question, in order; logs the time each takes (text and figure)."""
    sections = []
    for build in SECTION_BUILDERS:
        started = time.perf_counter()
        section = build(findings, frame)
        log.info("rendered section %d (%s) in %.2f s", section.number, section.title, time.perf_counter() - started)
        sections.append(section)
    return sections


def _section_html(section: Section) -> str:
    paragraphs = "\n".join(f"<p>{text}</p>" for text in section.paragraphs if text)
    tables = "\n".join(section.tables)
    return (
        f"<section id='{section.anchor}'>\n<h2>{section.number}. {escape(section.title)}</h2>\n"
        f"<p class='question'>{escape(section.question)}</p>\n<div class='finding'>\n{paragraphs}\n</div>\n"
        f"<img src='data:image/png;base64,{section.figure_png}' alt='{escape(section.figure_alt)}'>\n{tables}\n"
        f"</section>"
    )


def render_html(sections: list[Section], meta: dict[str, str]) -> str:
    """The whole page: title, metadata, table of contents, sections."""
    contents = "\n".join(f"<li><a href='#{s.anchor}'>{escape(s.title)}</a></li>" for s in sections)
    meta_html = "<br>".join(f"{escape(key)}: {escape(value)}" for key, value in meta.items())
    body = "\n".join(_section_html(section) for section in sections)
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<title>Rossmann sales: what moves them</title>\n"
        f"<style>{STYLE}</style>\n</head>\n<body>\n<h1>Rossmann sales: what moves them</h1>\n"
        f"<p class='meta'>{meta_html}</p>\n"
        "<p>Every number on this page is computed from the data by <code>python -m training eda</code>. "
        "A <i>trading day</i> is a store-day with the store open and sales above zero; money is in euros.</p>\n"
        f"<nav><ol>\n{contents}\n</ol></nav>\n{body}\n</body>\n</html>\n"
    )


def build_report(data_dir: Path, out_dir: Path, future_path: Path | None = None) -> Path:
    """Write ``out_dir/index.html`` from the Kaggle files in ``data_dir``; return its path."""
    started = time.perf_counter()
    dataset = load_dataset(data_dir)
    future = read_future_csv(str(future_path)) if future_path is not None else None
    step = time.perf_counter()
    frame = build_frame(dataset)
    log.info("built frame: %d rows x %d columns in %.2f s", len(frame.days), frame.days.shape[1],
             time.perf_counter() - step)
    findings = compute_findings(frame, future, str(future_path or ""))
    sections = render_sections(findings, frame)
    checksums = dataset.file_sha256.items()
    meta = {
        "data": f"{data_dir} ({', '.join(f'{name} sha256 {digest[:12]}' for name, digest in checksums)})",
        "history": f"{frame.dates[0]} to {frame.dates[-1]}, {frame.n_stores} stores",
        "generated": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {time.perf_counter() - started:.0f} s",
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / REPORT_FILE
    path.write_text(render_html(sections, meta), encoding="utf-8")
    log.info("wrote %s (%.1f MB) in %.1f s total", path, path.stat().st_size / 1e6, time.perf_counter() - started)
    return path
