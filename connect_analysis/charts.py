"""Plotly figures for the notebooks and the report, built from the analysis DataFrames.

Plotly renders a subset of HTML inside text (<b>, <br>, <a>), so every string that came
from the server is escaped with `plain()` before it reaches a figure: a title like
"<b>bold</b>" shows as those characters. Figures are displayed through `Chart`, whose
HTML needs a global `Plotly` (the report embeds plotly.js once, in its head).
"""

from __future__ import annotations

import hashlib
import html
import json

import pandas as pd
import plotly.graph_objects as go

LANGUAGE_COLOURS = {"r": "#2166ac", "python": "#b35806", "quarto": "#1b7837"}
MISSING_PATTERN = dict(shape="x", fgcolor="#ffffff", size=8, solidity=0.3)
_LAYOUT = dict(template="plotly_white", height=380, margin=dict(l=60, r=20, t=50, b=60))
CONFIG = {"displaylogo": False, "displayModeBar": False, "responsive": True}


def plain(text) -> str:
    """Server text made safe for plotly's pseudo-HTML: &, < and > become entities."""
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    return html.escape(str(text), quote=False)


class Chart:
    """A plotly figure that Jupyter shows natively and the report shows as a div + script."""

    def __init__(self, figure: go.Figure, description: str = ""):
        self.figure = figure
        self.description = description or str(figure.layout.title.text or "chart")

    def to_json(self) -> str:
        # "<" is written as \\u003c, so the JSON cannot close the script element holding it
        return self.figure.to_json().replace("<", "\\u003c")

    def html(self) -> str:
        spec = self.to_json()
        div_id = "chart-" + hashlib.sha256(spec.encode()).hexdigest()[:12]
        config = json.dumps(CONFIG)
        return (
            f'<figure class="ca-chart-figure"><div class="ca-chart" id="{div_id}" role="img" '
            f'aria-label="{html.escape(self.description)}">'
            f'<p class="ca-chart-alt">{html.escape(self.description)}</p></div>'
            f'<script type="application/json" class="ca-chart-data" data-chart="{div_id}" '
            f"data-config='{html.escape(config)}'>{spec}</script></figure>"
        )

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {
            "application/vnd.plotly.v1+json": json.loads(self.to_json()),
            "text/html": self.html(),
            "text/plain": f"<chart: {self.figure.layout.title.text or 'untitled'}>",
        }


def version_use(runtimes: pd.DataFrame) -> Chart:
    """Bars: deployed content per runtime version, one colour per language; versions the
    server lacks are outlined in red. Expects the analysis' runtimes columns (language,
    version, content_count, missing_on_server)."""
    fig = go.Figure()
    df = runtimes[runtimes["content_count"].fillna(0) > 0]
    for language, rows in df.groupby("language", sort=True):
        missing = rows["missing_on_server"].fillna(False).astype(bool).tolist() \
            if "missing_on_server" in rows.columns else [False] * len(rows)
        fig.add_bar(
            name=plain(language),
            x=[f"{plain(language)} {plain(v)}" for v in rows["version"]],
            y=rows["content_count"].astype("float64").tolist(),
            marker=dict(color=LANGUAGE_COLOURS.get(str(language), "#555"),
                        pattern=dict(MISSING_PATTERN, shape=["x" if m else "" for m in missing])),
            text=["missing" if m else "" for m in missing], textposition="outside",
            customdata=["missing on the server" if m else "on the server" for m in missing],
            hovertemplate="%{x}: %{y} content items (%{customdata})<extra></extra>",
        )
    fig.update_layout(title="Runtime versions in use (hatched: missing on the server)",
                      xaxis_title="version",
                      yaxis_title="content items", **_LAYOUT)
    gone = [f"{lang} {v}" for lang, v, m in zip(df["language"], df["version"],
                                                df.get("missing_on_server", pd.Series(False, index=df.index)).fillna(False),
                                                strict=True) if m]
    text = (f"Bar chart of deployed content items per runtime version, {len(df)} versions in use"
            + (f"; missing on the server: {', '.join(map(str, gone))}." if gone else
               "; none is missing on the server."))
    return Chart(fig, text)


def usage_ranking(important: pd.DataFrame, top_n: int = 20) -> Chart:
    """Horizontal bars: visits and Shiny sessions of the top_n ranked content, highest on top."""
    df = important.head(top_n).iloc[::-1]
    labels = [f"{plain(t) or plain(g)}" for t, g in zip(df.get("title", df["guid"]), df["guid"],
                                                          strict=True)]
    # the same title can appear twice; plotly merges equal categories, so suffix the rank
    labels = [f"{len(df) - i}. {label}" for i, label in enumerate(labels)]
    fig = go.Figure()
    for column, name, colour in (("visits", "visits", "#2166ac"),
                                 ("shiny_sessions", "Shiny sessions", "#b35806")):
        if column in df.columns:
            fig.add_bar(name=name, y=labels, x=df[column].fillna(0).astype("float64").tolist(),
                        orientation="h", marker_color=colour,
                        customdata=[plain(g) for g in df["guid"]],
                        hovertemplate="%{y}<br>%{x} " + name + "<br>%{customdata}<extra></extra>")
    layout = dict(_LAYOUT)
    layout["height"] = max(380, 28 * len(df) + 120)
    layout["margin"] = dict(l=260, r=20, t=50, b=50)
    fig.update_layout(title="Usage in the window (top content)", barmode="stack",
                      xaxis_title="events", **layout)
    top = df.iloc[::-1].head(3)
    names = [f"{t if isinstance(t, str) else g}" for t, g in zip(top.get("title", top["guid"]), top["guid"],
                                                             strict=True)]
    return Chart(fig, f"Bar chart of visits and Shiny sessions of the {len(df)} most used items; "
                      f"most used: {', '.join(names)}.")


def storage_growth(growth: pd.DataFrame, projection: pd.DataFrame | None = None,
                   recommended_bytes: int | None = None) -> Chart:
    """Lines: cumulative bundle bytes by month (growth: month, bytes_cumulative), the
    projection dashed (month, projected_bytes), the recommended capacity as a horizontal
    line. Values are shown in GB (10^9 bytes)."""
    fig = go.Figure()
    if len(growth):
        fig.add_scatter(name="bundle storage", x=_months(growth), y=_gb(growth),
                        mode="lines+markers", line=dict(color="#2166ac"),
                        hovertemplate="%{x}: %{y:.2f} GB<extra></extra>")
    if projection is not None and len(projection):
        fig.add_scatter(name="projection", x=_months(projection), y=_gb(projection),
                        mode="lines", line=dict(color="#2166ac", dash="dash"),
                        hovertemplate="%{x}: %{y:.2f} GB (projected)<extra></extra>")
    title = "Bundle storage over time"
    if recommended_bytes:
        title += f" (recommended capacity: {recommended_bytes / 1e9:,.0f} GB)"
        peak = max([0.0, *_gb(growth), *(_gb(projection) if projection is not None else [])])
        if recommended_bytes / 1e9 <= 3 * peak:  # a far-off line would flatten the curve
            fig.add_hline(y=recommended_bytes / 1e9, line=dict(color="#b2182b", dash="dot"),
                          annotation_text="recommended capacity")
    fig.update_layout(title=title, xaxis_title="month",
                      yaxis_title="GB (10^9 bytes)", **_LAYOUT)
    last = _gb(growth)[-1] if len(growth) else 0.0
    return Chart(fig, f"Line chart of bundle storage by month over {len(growth)} months, "
                      f"{last:,.1f} GB at the last month" + (", with a 12-month projection."
                                                            if projection is not None and len(projection) else "."))


def _months(df: pd.DataFrame) -> list[str]:
    return [str(m)[:7] for m in df["month"]]


def _gb(df: pd.DataFrame) -> list[float]:
    col = "bytes_cumulative" if "bytes_cumulative" in df.columns else "projected_bytes"
    return (df[col].astype("float64") / 1e9).tolist()
