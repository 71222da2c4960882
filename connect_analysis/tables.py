"""The report's one table component, and the one way numbers, bytes and dates are written.

Every table: human column labels (connect_analysis.labels), sort buttons in the headers
(keyboard-operable, aria-sort), a search box that filters its rows, a sticky header inside
its own scroll box, at most CAP rows with a link to the CSV holding them all, content URLs
as links, GUIDs shortened on screen (the full value is in the cell, its title and a copy),
empty cells that say what they mean. Every value goes through html.escape: server text
(titles, names, paths) never becomes markup. templates/sortable.js does the sorting (by
each cell's data-sort: numbers as numbers, versions and other text in natural order, so
4.10 sorts after 4.9) and the filtering.
"""

from __future__ import annotations

import html
import itertools
import math
import uuid
from numbers import Integral, Real

import numpy as np
import pandas as pd

from .labels import GUID_COLUMNS, KEY_COLUMNS, SHARE_COLUMNS, URL_COLUMNS, empty_text, label

CAP = 25  # every table shows at most this many rows; the rest are in its CSV
BYTES = "bytes"  # columns whose name holds this word are shown as GB/MB, sorted by bytes
_ids = itertools.count(1)
# each notebook runs in its own kernel: a per-process prefix keeps ids unique on the joined page
_PREFIX = uuid.uuid4().hex[:6]


class Table:
    """An HTML table that Jupyter and the report display as-is (already escaped)."""

    def __init__(self, html_text: str, rows: int, total: int | None = None):
        self.html = html_text
        self.rows = rows
        self.total = rows if total is None else total

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.html


def table(df: pd.DataFrame, *, caption: str | None = None, csv: str | None = None,
          columns: list[str] | None = None, empty: dict[str, str] | None = None,
          key_columns: set[str] | None = None) -> Table:
    """The report's table of df: at most CAP rows, the rest pointed to in csv (a file beside
    the report). empty: per-column words for empty cells (beyond labels.EMPTY); key_columns:
    the columns print keeps (default: labels.KEY_COLUMNS, else the first three)."""
    if columns is not None:
        df = df[[c for c in columns if c in df.columns]]
    shown = df.head(CAP)
    names = [str(c) for c in shown.columns]
    keys = key_columns or KEY_COLUMNS
    keep = {n for n in names if n in keys} or set(names[:3])
    number = f"{_PREFIX}-{next(_ids)}"
    parts = [f'<div class="ca-table-block" data-table="{number}">',
             _toolbar(number, caption, len(shown), len(df), csv)]
    label_id = f"ca-table-{number}-caption"
    parts.append(f'<div class="ca-table-wrap" tabindex="0" role="region" aria-labelledby="{label_id}">'
                 '<table class="ca-table sortable">')
    parts.append(f'<caption id="{label_id}">{html.escape(caption or "Table")}</caption><thead><tr>')
    for col, name in enumerate(names):
        extra = "" if name in keep else ' class="ca-col-extra"'
        parts.append(f'<th scope="col"{extra}><button type="button" class="ca-sort" data-col="{col}">'
                     f'{html.escape(label(name))}<span class="ca-sort-icon" aria-hidden="true">'
                     "</span></button></th>")
    parts.append("</tr></thead><tbody>")
    words = empty or {}
    for row in shown.itertuples(index=False, name=None):
        parts.append("<tr>")
        for name, value in zip(names, row, strict=True):
            parts.append(cell_html(name, value, words.get(name), name not in keep))
        parts.append("</tr>")
    if shown.empty:
        parts.append(f'<tr class="ca-empty"><td colspan="{max(len(names), 1)}">none</td></tr>')
    parts.append("</tbody></table></div></div>")
    return Table("".join(parts), rows=len(shown), total=len(df))


def _toolbar(number: str, caption: str | None, shown: int, total: int, csv: str | None) -> str:
    """The line above a table: its search box and how many rows it shows, with the CSV."""
    search = (f'<label class="ca-search"><span>Filter {html.escape(caption or "rows")}</span>'
              f'<input type="search" class="ca-filter" data-table="{number}" '
              'placeholder="filter rows" autocomplete="off"></label>')
    link = (f'<a href="{html.escape(csv)}">{html.escape(csv)}</a>' if csv else "")
    if total > shown:
        where = f"; all {total:,} are in {link}" if link else f"; {total - shown:,} not shown"
        count = f"Showing the first {shown:,} of {total:,} rows{where}."
    else:
        count = f"{total:,} row{'s' * (total != 1)}" + (f"; also in {link}" if link else "") + "."
    return (f'<div class="ca-table-tools">{search if shown > 1 else ""}'
            f'<p class="ca-note ca-count" aria-live="polite">{count}</p></div>')


def cell_html(column: str, value, empty: str | None = None, extra: bool = False) -> str:
    """One <td>: the value shown for people, its sort key, links and GUIDs marked up."""
    cls = ' class="ca-col-extra"' if extra else ""
    text, sort = format_cell(column, value)
    if text == "":
        words = html.escape(empty or empty_text(column))
        return f'<td{cls} data-sort="" data-empty="1"><span class="ca-none">{words}</span></td>'
    attr = f' data-sort="{html.escape(sort)}"' if sort is not None else ""
    if column in URL_COLUMNS and text.startswith(("http://", "https://")):
        shown = f'<a href="{html.escape(text)}">{html.escape(text)}</a>'
    elif column in GUID_COLUMNS:
        full = html.escape(text)
        shown = f'<code class="ca-guid" title="{full}">{full}</code>'
    else:
        shown = html.escape(text)
    num = " ca-num" if sort is not None and _is_number(sort) else ""
    if num:
        cls = f' class="{"ca-col-extra " if extra else ""}ca-num"'
    return f"<td{cls}{attr}>{shown}</td>"


def key_values(pairs: list[tuple[str, object]], *, caption: str | None = None) -> Table:
    """A two-column table of labelled answers (label, value), escaped. Values already
    formatted (strings) are shown as they are."""
    parts = ['<div class="ca-table-wrap ca-kv"><table class="ca-table ca-answers">']
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<tbody>")
    for name, value in pairs:
        text, _ = format_cell(str(name), value)
        parts.append(f'<tr><th scope="row">{html.escape(str(name))}</th>'
                     f"<td>{html.escape(text or 'none')}</td></tr>")
    parts.append("</tbody></table></div>")
    return Table("".join(parts), rows=len(pairs))


def format_cell(column: str, value) -> tuple[str, str | None]:
    """(display text, sort key or None) for one value, in the report's one format:
    1,234 and 1,234.5; bytes as GB/MB (columns named *bytes*); shares as percentages;
    times as 2026-05-01 10:00 UTC; yes/no."""
    if value is None or value is pd.NA or value is pd.NaT:
        return "", None
    if isinstance(value, float) and math.isnan(value):
        return "", None
    if isinstance(value, bool | np.bool_):
        return ("yes" if value else "no"), ("1" if value else "0")
    if isinstance(value, pd.Timestamp):
        return timestamp(value), repr(value.timestamp())
    if isinstance(value, pd.Timedelta):
        return hours(value.total_seconds() / 60), repr(value.total_seconds())
    if isinstance(value, Integral | Real):
        v = float(value)
        if BYTES in column.lower():
            return human_bytes(v), repr(v)
        if column in SHARE_COLUMNS:
            return percent(v), repr(v)
        return number(value), repr(v)
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value), None
    return str(value), None


def number(value) -> str:
    """1,234 for whole numbers, 1,234.5 (one decimal) otherwise."""
    v = float(value)
    if isinstance(value, Integral) or v.is_integer():
        return f"{int(v):,}"
    return f"{v:,.1f}" if abs(v) >= 0.05 else f"{v:,.3g}"


def percent(share: float) -> str:
    """A 0..1 share as a percentage: 21.3%."""
    return f"{share * 100:.1f}%"


def hours(minutes: float) -> str:
    """A duration given in minutes, in hours: "5.4 hours" (under an hour: "40 minutes")."""
    if minutes < 60:
        return f"{round(minutes):,} minutes"
    return f"{minutes / 60:,.1f} hours"


def timestamp(ts) -> str:
    """2026-05-01 10:00 UTC."""
    ts = pd.Timestamp(ts)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def day(ts) -> str:
    """2026-05-01 (UTC), or "unknown"."""
    if ts in (None, ""):
        return "unknown"
    t = pd.Timestamp(ts)
    return (t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")).strftime("%Y-%m-%d")


def limit(value) -> str:
    """A licence limit: 0 or none means "no limit"."""
    return "no limit" if not value else number(value)


def human_bytes(n: float) -> str:
    """Bytes as decimal units (1 GB = 10^9 bytes), the unit the storage answer uses."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{int(n):,} B"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
