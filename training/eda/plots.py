"""Figure helpers: pyplot-free matplotlib figures, rendered to base64 PNG for embedding in HTML."""

import base64
import io

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

WIDTH_INCHES = 12.0
DPI = 100
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
STORE_TYPE_COLORS = dict(zip("abcd", COLORS))


def new_figure(columns: int, height: float = 4.0, widths: list[float] | None = None) -> tuple[Figure, list[Axes]]:
    """A figure ``WIDTH_INCHES`` wide with ``columns`` axes side by side; constrained layout avoids overlaps."""
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI, layout="constrained")
    axes = figure.subplots(1, columns, width_ratios=widths, squeeze=False)[0]
    for axis in axes:
        axis.grid(True, alpha=0.3)
        axis.set_axisbelow(True)
    return figure, list(axes)


def to_png_base64(figure: Figure) -> str:
    """The figure as a base64-encoded PNG string."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def euro_axis(axis: Axes, which: str = "y") -> None:
    """Format an axis' ticks as euros: €1,234."""
    formatter = FuncFormatter(lambda value, _: f"€{value:,.0f}")
    (axis.yaxis if which == "y" else axis.xaxis).set_major_formatter(formatter)


def euro_cents_axis(axis: Axes, which: str = "y") -> None:
    """Format an axis' ticks as euros with cents: €8.50."""
    formatter = FuncFormatter(lambda value, _: f"€{value:,.2f}")
    (axis.yaxis if which == "y" else axis.xaxis).set_major_formatter(formatter)


def percent_axis(axis: Axes, which: str = "y", decimals: int = 0) -> None:
    """Format fractions (0.25) as percentages (25%)."""
    (axis.yaxis if which == "y" else axis.xaxis).set_major_formatter(PercentFormatter(1.0, decimals=decimals))


def normal_line(axis: Axes, value: float = 1.0) -> None:
    """A dashed reference line at ``value`` (1.0 = a normal day)."""
    axis.axhline(value, color="black", linewidth=0.8, linestyle="--")


def grouped_bars(
    axis: Axes, labels: list[str], series: dict[str, np.ndarray], colors: tuple[str, ...] = COLORS
) -> None:
    """Bars of several series side by side per label, with a legend."""
    positions = np.arange(len(labels))
    width = 0.8 / max(len(series), 1)
    for i, (name, values) in enumerate(series.items()):
        offset = (i - (len(series) - 1) / 2) * width
        axis.bar(positions + offset, values, width=width, label=name, color=colors[i % len(colors)])
    axis.set_xticks(positions, labels)
    axis.legend(fontsize=8)
