"""HTML tables: escaped cells, numeric sort keys, bytes in decimal units."""

from __future__ import annotations

import pandas as pd

from connect_analysis.tables import format_cell, human_bytes, key_values, table


def test_cells_and_headers_are_escaped():
    df = pd.DataFrame({"<th>": ["<script>alert(1)</script>", '"q" <b>b</b> & c']})
    html = table(df).html
    assert "<script>" not in html and "<b>" not in html and "<th>" not in html.replace(
        '<th scope="col"', "")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;q&quot; &lt;b&gt;b&lt;/b&gt; &amp; c" in html


def test_numbers_bytes_and_times_sort_by_value():
    df = pd.DataFrame({"bytes_total": pd.Series([2_500_000_000, None], dtype="Int64"),
                       "visits": [1200, 3],
                       "last_visit": pd.to_datetime(["2026-05-01T10:00:00Z", None], utc=True)})
    html = table(df).html
    assert '<td data-sort="2500000000">2.5 GB</td>' in html
    assert '<td data-sort="1200">1,200</td>' in html
    assert "2026-05-01 10:00 UTC" in html and "<td></td>" in html


def test_rows_beyond_max_are_pointed_to_the_csv():
    t = table(pd.DataFrame({"n": range(30)}), max_rows=10, csv="runtimes.csv")
    assert t.rows == 10 and t.html.count("<tr>") == 11
    assert '20 more rows in <a href="runtimes.csv">runtimes.csv</a>' in t.html
    empty = table(pd.DataFrame({"n": []}))
    assert empty.rows == 0 and "(none)" in empty.html


def test_format_cell_and_units():
    assert format_cell("ok", True) == ("yes", "1")
    assert format_cell("x", pd.NA) == ("", None)
    assert format_cell("x", float("nan")) == ("", None)
    assert human_bytes(100 * 10**9) == "100.0 GB" and human_bytes(999) == "999 B"
    kv = key_values([("Licence", "<i>x</i>")], caption="A & B").html
    assert "&lt;i&gt;x&lt;/i&gt;" in kv and "A &amp; B" in kv
