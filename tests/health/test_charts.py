"""The server-drawn bar chart: its geometry (pure) and the SVG the macro writes."""

import xml.etree.ElementTree as ET

import pytest

from forum.health import charts
from forum.health.charts import Row, Series, bar_chart

PLOT = charts.WIDTH - charts.LABEL_WIDTH - charts.VALUE_ROOM
SVG = "{http://www.w3.org/2000/svg}"


def test_grouped_bars_scale_to_the_longest_value():
    chart = bar_chart("c", "T", "D", [Row("a", (10, 20)), Row("b", (5, None))],
                      [Series("m", "Median"), Series("p", "P90")])
    widths = [(bar.series, bar.width) for bar in chart.bars]
    assert widths == [(0, PLOT / 2), (1, PLOT), (0, PLOT / 4)]  # None draws no bar
    assert all(bar.x == charts.LABEL_WIDTH for bar in chart.bars)
    # side by side: the second series of a row sits one bar lower than the first
    assert chart.bars[1].y == chart.bars[0].y + charts.BAR_HEIGHT
    assert [v.text for v in chart.values] == ["10", "20", "5", "–"]
    assert [label.text for label in chart.labels] == ["a", "b"]
    assert chart.legend


def test_stacked_bars_put_the_series_end_to_end_and_label_the_total():
    chart = bar_chart("c", "T", "D", [Row("a", (1, 3)), Row("b", (2, 0))],
                      [Series("x", "X"), Series("y", "Y")], stacked=True)
    a1, a2, b1, b2 = chart.bars
    assert a1.width + a2.width == PLOT  # the longest stack spans the plot
    assert a2.x == a1.x + a1.width and a1.y == a2.y
    assert b1.width == PLOT / 2 and b2.width == 0
    assert [v.text for v in chart.values] == ["4", "2"]


def test_all_zero_values_draw_empty_bars_not_a_division_by_zero():
    chart = bar_chart("c", "T", "D", [Row("a", (0,)), Row("b", (0,))], [Series("n", "N")])
    assert [bar.width for bar in chart.bars] == [0, 0]
    assert not chart.legend


def test_bad_rows_are_refused():
    with pytest.raises(ValueError):
        bar_chart("c", "T", "D", [Row("a", (1, 2))], [Series("n", "N")])
    with pytest.raises(ValueError):
        bar_chart("c", "T", "D", [Row("a", (-1,))], [Series("n", "N")])
    with pytest.raises(ValueError):
        bar_chart("c", "T", "D", [], [])


def test_the_macro_draws_an_accessible_svg_without_script_or_inline_style(app):
    chart = bar_chart("cycle", "Cycle time & more", "Strategic: median 3 days.",
                      [Row("Strategic", (3, 9), ("3 d", "9 d"))], [Series("m", "Median"), Series("p", "P90")])
    with app.app_context():
        macro = app.jinja_env.get_template("macros/charts.html").module.bar_chart
        html = str(macro(chart))
    figure = ET.fromstring(html)  # well-formed: titles are escaped
    svg = figure.find(f"{SVG}svg")
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "cycle-title cycle-desc"
    assert svg.find(f"{SVG}title").get("id") == "cycle-title"
    assert svg.find(f"{SVG}title").text == "Cycle time & more"
    assert svg.find(f"{SVG}desc").text == "Strategic: median 3 days."
    rects = svg.findall(f"{SVG}rect")
    assert [r.get("class") for r in rects] == ["chart-bar chart-s0", "chart-bar chart-s1"]
    assert rects[0].find(f"{SVG}title").text == "Strategic: Median 3 d"
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert "Median" in "".join(figure.find("figcaption").itertext())
