"""The table component: escaped cells, human labels, sort keys, one cap, links, GUIDs, words
for empty cells, and the report's one number/date format."""

from __future__ import annotations

import re

import pandas as pd

from connect_analysis.tables import (
    CAP,
    format_cell,
    hours,
    human_bytes,
    key_values,
    limit,
    number,
    percent,
    table,
)


def test_cells_and_headers_are_escaped():
    df = pd.DataFrame({"<th>": ["<script>alert(1)</script>", '"q" <b>b</b> & c']})
    html = table(df, caption="<i>cap</i>").html
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;q&quot; &lt;b&gt;b&lt;/b&gt; &amp; c" in html
    assert "&lt;th&gt;" in html and "&lt;i&gt;cap&lt;/i&gt;" in html


def test_headers_are_labelled_sort_buttons():
    html = table(pd.DataFrame({"py_version": ["3.9"], "content_count": [1]}), caption="x").html
    heads = re.findall(r"<th[^>]*><button type=\"button\" class=\"ca-sort\" data-col=\"(\d)\">([^<]+)<", html)
    assert heads == [("0", "Python"), ("1", "content items")]


def test_numbers_bytes_times_and_shares_in_one_format():
    df = pd.DataFrame({"bytes_total": pd.Series([2_500_000_000, None], dtype="Int64"),
                       "visits": [1200, 3], "usage_share": [0.2134, 0.0],
                       "last_visit": pd.to_datetime(["2026-05-01T10:00:00Z", None], utc=True)})
    html = table(df, key_columns={"bytes_total", "visits", "usage_share", "last_visit"}).html
    assert '<td class="ca-num" data-sort="2500000000.0">2.5 GB</td>' in html
    assert '<td class="ca-num" data-sort="1200.0">1,200</td>' in html
    assert ">21.3%</td>" in html and ">0.0%</td>" in html
    assert "2026-05-01 10:00 UTC" in html
    # an empty cell says what it means, and sorts last (empty key)
    assert '<td data-sort="" data-empty="1"><span class="ca-none">no visit in the window</span></td>' in html
    assert '<span class="ca-none">unknown</span>' in html  # bytes_total: no word of its own


def test_one_cap_for_every_table_with_its_csv():
    t = table(pd.DataFrame({"n": range(806)}), csv="run-as.csv")
    assert t.rows == CAP and t.total == 806 and t.html.count("<tr>") == CAP + 1
    assert f'Showing the first {CAP} of 806 rows; all 806 are in <a href="run-as.csv">run-as.csv</a>.' in t.html
    small = table(pd.DataFrame({"n": range(8)}), csv="packages.csv")
    assert small.rows == 8 and '8 rows; also in <a href="packages.csv">packages.csv</a>.' in small.html
    empty = table(pd.DataFrame({"n": []}))
    assert empty.rows == 0 and ">none</td>" in empty.html


def test_urls_are_links_and_guids_keep_their_full_value():
    g = "492e8ea5-e1db-429d-b073-e5ed7adf6c20"
    html = table(pd.DataFrame({"guid": [g], "content_url": [f"http://c.example/content/{g}/"],
                               "vanity_url": ["javascript:alert(1)"]})).html
    assert f'<a href="http://c.example/content/{g}/">http://c.example/content/{g}/</a>' in html
    assert "javascript:alert(1)</td>" in html and 'href="javascript' not in html  # text, not a link
    assert f'<code class="ca-guid" title="{g}">{g}</code>' in html


def test_print_keeps_key_columns():
    html = table(pd.DataFrame({"title": ["a"], "owner": ["b"], "events": [1]})).html
    assert '<th scope="col" class="ca-col-extra">' in html  # owner
    assert html.count('class="ca-col-extra"') == 2  # its header and its cell


def test_ids_are_unique_across_tables():
    a, b = table(pd.DataFrame({"n": [1, 2]})).html, table(pd.DataFrame({"n": [1, 2]})).html
    ids = re.findall(r'id="([^"]+)"', a + b)
    assert len(ids) == len(set(ids)) == 2


def test_format_cell_and_units():
    assert format_cell("ok", True) == ("yes", "1")
    assert format_cell("x", pd.NA) == ("", None)
    assert format_cell("x", float("nan")) == ("", None)
    assert human_bytes(100 * 10**9) == "100.0 GB" and human_bytes(999) == "999 B"
    assert number(43555.7) == "43,555.7" and number(12) == "12" and number(3.0) == "3"
    assert hours(43555.7) == "725.9 hours" and hours(40) == "40 minutes"
    assert percent(0.21) == "21.0%" and limit(0) == "no limit" and limit(250) == "250"
    kv = key_values([("Licence", "<i>x</i>")], caption="A & B").html
    assert "&lt;i&gt;x&lt;/i&gt;" in kv and "A &amp; B" in kv
