"""HTML tables for the notebooks and the report: every cell escaped, every column sortable.

Server text (titles, names, paths) is untrusted, so every value goes through html.escape;
nothing in a DataFrame can become markup. Sorting is done by the small script in
templates/sortable.js, which reads each cell's data-sort attribute (numbers sort as numbers,
timestamps as epoch seconds).
"""

from __future__ import annotations

import html
import math
from numbers import Integral, Real

import numpy as np
import pandas as pd

BYTES = "bytes"  # columns whose name holds this word are shown as GB/MB, sorted by bytes


class Table:
    """An HTML table that Jupyter and the report display as-is (already escaped)."""

    def __init__(self, html_text: str, rows: int):
        self.html = html_text
        self.rows = rows

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def table(df: pd.DataFrame, *, caption: str | None = None, max_rows: int | None = 50,
          csv: str | None = None, columns: list[str] | None = None) -> Table:
    """An escaped, sortable table of df (at most max_rows rows; None: all).

    csv names the file in the report directory holding every row; it is mentioned
    (as a relative link) when rows were left out.
    """
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    shown = df if max_rows is None else df.head(max_rows)
    parts = ['<div class="ca-table-wrap"><table class="ca-table sortable">']
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<thead><tr>")
    for name in shown.columns:
        parts.append(f'<th scope="col" title="click to sort">{html.escape(str(name))}</th>')
    parts.append("</tr></thead><tbody>")
    for row in shown.itertuples(index=False, name=None):
        parts.append("<tr>")
        for name, value in zip(shown.columns, row, strict=True):
            text, sort = format_cell(str(name), value)
            attr = f' data-sort="{html.escape(sort)}"' if sort is not None else ""
            parts.append(f"<td{attr}>{html.escape(text)}</td>")
        parts.append("</tr>")
    if shown.empty:
        parts.append(f'<tr class="ca-empty"><td colspan="{max(len(shown.columns), 1)}">(none)</td></tr>')
    parts.append("</tbody></table>")
    left_out = len(df) - len(shown)
    if left_out > 0:
        where = (f' in <a href="{html.escape(csv)}">{html.escape(csv)}</a>' if csv else "")
        parts.append(f'<p class="ca-note">{left_out} more rows{where}.</p>')
    parts.append("</div>")
    return Table("".join(parts), rows=len(shown))


def key_values(pairs: list[tuple[str, object]], *, caption: str | None = None) -> Table:
    """A two-column table of labelled answers (label, value), escaped."""
    df = pd.DataFrame(pairs, columns=["", "value"])
    parts = ['<div class="ca-table-wrap"><table class="ca-table ca-answers">']
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<tbody>")
    for label, value in df.itertuples(index=False, name=None):
        text, _ = format_cell(str(label), value)
        parts.append(f'<tr><th scope="row">{html.escape(str(label))}</th>'
                     f"<td>{html.escape(text)}</td></tr>")
    parts.append("</tbody></table></div>")
    return Table("".join(parts), rows=len(df))


def format_cell(column: str, value) -> tuple[str, str | None]:
    """(display text, sort key or None) for one value. Columns named *bytes* show GB/MB."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "", None
    if isinstance(value, float) and math.isnan(value):
        return "", None
    if isinstance(value, bool | np.bool_):
        return ("yes" if value else "no"), ("1" if value else "0")
    if isinstance(value, pd.Timestamp):
        text = value.strftime("%Y-%m-%d %H:%M") if value.tzinfo is None else \
            value.tz_convert("UTC").strftime("%Y-%m-%d %H:%M UTC")
        return text, repr(value.timestamp())
    if isinstance(value, pd.Timedelta):
        return str(value), repr(value.total_seconds())
    if isinstance(value, Integral):
        if BYTES in column.lower():
            return human_bytes(int(value)), str(int(value))
        return f"{int(value):,}", str(int(value))
    if isinstance(value, Real):
        v = float(value)
        if BYTES in column.lower():
            return human_bytes(v), repr(v)
        return (f"{v:,.2f}" if abs(v) < 1e15 else repr(v)), repr(v)
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value), None
    return str(value), None


def human_bytes(n: float) -> str:
    """Bytes as decimal units (1 GB = 10^9 bytes), the unit the storage answer uses."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{int(n):,} B"
