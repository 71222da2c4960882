"""Plotly figures: built from the analysis columns, server text escaped for plotly."""

from __future__ import annotations

import json

import pandas as pd

from connect_analysis.charts import plain, storage_growth, usage_ranking, version_use


def test_plain_escapes_plotly_markup():
    assert plain('<b>"x"</b> & y') == '&lt;b&gt;"x"&lt;/b&gt; &amp; y'
    assert plain(None) == "" and plain(pd.NA) == ""


def test_version_use_marks_versions_missing_on_the_server():
    runtimes = pd.DataFrame({"language": ["r", "r", "python"], "version": ["4.3.2", "3.6.3", "3.12.1"],
                             "content_count": [3, 0, 2],
                             "missing_on_server": pd.array([False, None, True], dtype="boolean")})
    chart = version_use(runtimes)
    bars = {t.name: t for t in chart.figure.data}
    assert list(bars["r"].x) == ["r 4.3.2"] and list(bars["r"].y) == [3.0]  # unused 3.6.3 left out
    assert list(bars["python"].customdata) == ["missing on the server"]
    # "missing" is a pattern and a word on the bar, not only a colour
    assert list(bars["python"].marker.pattern.shape) == ["x"] and list(bars["python"].text) == ["missing"]
    assert list(bars["r"].marker.pattern.shape) == [""] and list(bars["r"].text) == [""]
    assert chart.description.endswith("missing on the server: python 3.12.1.")


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def test_chart_marks_have_3_to_1_contrast_on_white():
    from connect_analysis.charts import LANGUAGE_COLOURS

    for colour in LANGUAGE_COLOURS.values():
        assert (1.05) / (_luminance(colour) + 0.05) >= 3.0, colour


def test_usage_ranking_keeps_duplicate_titles_apart_and_escaped():
    important = pd.DataFrame({"guid": ["g1", "g2", "g3"], "title": ["<b>A</b>", "<b>A</b>", None],
                              "visits": [10, 5, 1], "shiny_sessions": [2, 0, 0]})
    fig = usage_ranking(important, top_n=3).figure
    assert list(fig.data[0].y) == ["3. g3", "2. &lt;b&gt;A&lt;/b&gt;", "1. &lt;b&gt;A&lt;/b&gt;"]
    assert list(fig.data[0].x) == [1.0, 5.0, 10.0] and list(fig.data[1].x) == [0.0, 0.0, 2.0]


def test_storage_growth_in_gb_and_chart_html_is_safe():
    growth = pd.DataFrame({"month": ["2026-01", "2026-02"], "bundles_added": [1, 1],
                           "bytes_added": [10**9, 10**9], "bytes_cumulative": [10**9, 2 * 10**9]})
    projection = pd.DataFrame({"month": ["2026-03"], "projected_bytes": [3 * 10**9],
                               "recommended_bytes": [100 * 10**9]})
    chart = storage_growth(growth, projection, recommended_bytes=100 * 10**9)
    assert list(chart.figure.data[0].y) == [1.0, 2.0] and list(chart.figure.data[1].y) == [3.0]
    assert "100 GB" in chart.figure.layout.title.text
    html = chart.html()
    # the figure is data for templates/charts.js, drawn after plotly.js; no code runs here
    assert html.count("<script") == 1 and '<script type="application/json"' in html
    assert "</script>" not in html[:-len("</script></figure>")]
    assert 'role="img" aria-label="Line chart of bundle storage by month over 2 months' in html
    assert '"displayModeBar": false' in html.replace("&quot;", '"')
    bundle = chart._repr_mimebundle_()
    assert json.dumps(bundle["application/vnd.plotly.v1+json"])
