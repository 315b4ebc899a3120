"""Server-drawn bar charts: the geometry of a horizontal bar chart, computed here (pure, tested)
and drawn as SVG by the ``bar_chart`` macro in templates/macros/charts.html.

Why not a charting library: pygal (maintained, on PyPI) renders SVG on the server, but its SVG
carries its styles in an inline ``<style>`` element (and, by default, script tags for its
tooltips). The forum's Content-Security-Policy (``style-src 'self'``, ``script-src 'self'``)
blocks inline styles in inline SVG, so a pygal chart would render unstyled, and loosening the
policy for charts is not worth it. These charts need only horizontal bars, which this module
and one macro draw with colours from forum.css — no JavaScript, and they print.

Every chart is an ``<svg role="img">`` with a ``<title>`` and ``<desc>``; the page puts the same
numbers in a table next to it, so nothing is only in the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

WIDTH = 480  # drawn 1:1 on wide screens (the stylesheet caps it there), scaled down on narrow ones
LABEL_WIDTH = 140  # room for the row labels, left of the bars
VALUE_ROOM = 76  # room for the value text, right of the longest bar
BAR_HEIGHT = 16
ROW_GAP = 10
TOP = 4


@dataclass(frozen=True)
class Series:
    key: str
    label: str


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[float | None, ...]  # one per series; None: no value (drawn as nothing)
    texts: tuple[str, ...] = ()  # how each value reads (defaults to the number)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int  # index into the chart's series (its colour class)
    title: str  # "<row>: <series> <value>", for the tooltip a browser shows


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str


@dataclass
class Chart:
    """A drawn horizontal bar chart: bars, row labels and value labels in a WIDTH × height box."""

    ident: str
    title: str
    description: str
    series: list[Series]
    stacked: bool
    height: float = 0
    bars: list[Bar] = field(default_factory=list)
    labels: list[Text] = field(default_factory=list)
    values: list[Text] = field(default_factory=list)

    @property
    def width(self) -> int:
        return WIDTH

    @property
    def legend(self) -> bool:
        return len(self.series) > 1


def _fmt(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def bar_chart(ident: str, title: str, description: str, rows: Sequence[Row], series: Sequence[Series],
              stacked: bool = False) -> Chart:
    """Lay out ``rows`` as horizontal bars: one bar per series side by side (grouped), or the
    series end to end in one bar (``stacked``, for parts of a whole). The longest bar (or stack)
    spans the plot width; negative values are refused."""
    series = list(series)
    if not series:
        raise ValueError("a chart needs at least one series")
    for row in rows:
        if len(row.values) != len(series):
            raise ValueError(f"row {row.label!r} has {len(row.values)} values for {len(series)} series")
        if any(v is not None and v < 0 for v in row.values):
            raise ValueError(f"row {row.label!r} has a negative value")
    chart = Chart(ident, title, description, series, stacked)
    plot = WIDTH - LABEL_WIDTH - VALUE_ROOM
    if stacked:
        longest = max((sum(v or 0 for v in row.values) for row in rows), default=0)
    else:
        longest = max((v or 0 for row in rows for v in row.values), default=0)
    scale = plot / longest if longest > 0 else 0
    bars_per_row = 1 if stacked else len(series)
    row_height = bars_per_row * BAR_HEIGHT
    y = TOP
    for row in rows:
        texts = row.texts or tuple("" if v is None else _fmt(v) for v in row.values)
        chart.labels.append(Text(LABEL_WIDTH - 8, y + row_height / 2, row.label))
        x = LABEL_WIDTH
        for index, (value, text) in enumerate(zip(row.values, texts, strict=True)):
            top = y if stacked else y + index * BAR_HEIGHT
            width = (value or 0) * scale
            if value is not None:
                chart.bars.append(Bar(round(x, 2), top, round(width, 2), BAR_HEIGHT, index,
                                      f"{row.label}: {series[index].label} {text}"))
            if stacked:
                x += width
            else:
                chart.values.append(Text(round(LABEL_WIDTH + width + 4, 2), top + BAR_HEIGHT / 2,
                                         text if value is not None else "–"))
        if stacked:
            total = sum(v or 0 for v in row.values)
            chart.values.append(Text(round(x + 4, 2), y + BAR_HEIGHT / 2, _fmt(total)))
        y += row_height + ROW_GAP
    chart.height = max(y - ROW_GAP + TOP, TOP * 2)
    return chart
