"""Report building blocks: the :class:`Section` record, number formatting, HTML tables."""

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Section:
    """One question of the report: finding paragraphs (HTML), one figure (base64 PNG), optional tables (HTML)."""

    number: int
    title: str
    question: str
    paragraphs: list[str]
    figure_png: str
    figure_alt: str
    tables: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return f"q{self.number}"


def _missing(value: float) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def eur(value: float) -> str:
    """€1,234."""
    return "n/a" if _missing(value) else f"€{value:,.0f}"


def eur2(value: float) -> str:
    """€9.10."""
    return "n/a" if _missing(value) else f"€{value:,.2f}"


def pct(fraction: float, decimals: int = 1) -> str:
    """0.123 -> 12.3%."""
    return "n/a" if _missing(fraction) else f"{fraction:.{decimals}%}"


def signed(fraction: float, decimals: int = 1) -> str:
    """0.123 -> +12.3%, a change."""
    return "n/a" if _missing(fraction) else f"{fraction:+.{decimals}%}"


def vs_normal(ratio: float, decimals: int = 0) -> str:
    """A ratio to normal as a change: 1.16 -> +16%."""
    return "n/a" if _missing(ratio) else signed(ratio - 1.0, decimals)


def count(value: float) -> str:
    """1115 -> 1,115."""
    return "n/a" if _missing(value) else f"{int(value):,}"


def corr(value: float) -> str:
    """A correlation: +0.83."""
    return "n/a" if _missing(value) else f"{value:+.2f}"


def escape(text: object) -> str:
    return html.escape(str(text))


def table(frame: pd.DataFrame, formats: dict[str, Callable[[float], str]], caption: str = "",
          index_name: str | None = None, labels: dict[str, str] | None = None) -> str:
    """``frame`` as an HTML table with its index as the first column(s).

    ``formats`` maps columns to formatters (others are shown as text), ``labels`` renames columns for display.
    """
    shown = frame.rename_axis(index_name).reset_index() if index_name is not None else frame.reset_index()
    for name, formatter in formats.items():
        if name in shown.columns:
            shown[name] = shown[name].map(formatter).astype(str)
    shown = shown.rename(columns=labels or {})
    body = shown.to_html(classes="data", border=0, escape=True, index=False, na_rep="n/a")
    return f"<figure class='table'><figcaption>{escape(caption)}</figcaption>{body}</figure>" if caption else body
