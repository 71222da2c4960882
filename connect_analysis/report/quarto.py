"""The Quarto path: Quarto renders the executed notebooks when chosen (renderer.py).

The project (the repository's _quarto.yml, templates/report.css, plotly.min.js as a file)
is staged in OUT/quarto-project/ with report.ipynb: a front-matter cell (title, body-classes
ca-report), the header (meta line and verdicts), then every executed notebook's Markdown and
outputs. Outputs become raw HTML cells, never notebook text/html outputs, which would make
Quarto add require.js and jQuery from a CDN. plotly.js goes in as a file that the embedding
step inlines byte for byte (an include-in-header passes through pandoc's reader, which turns
its tabs into spaces). Quarto renders that one target without executing anything; its
warnings are returned, its ERROR: line is the error. check_page() then fails the report if
any remote reference or an altered plotly.js remains.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat

from ..analysis.output import write_atomic
from ..assets import quarto_project_file, templates_dir
from ..errors import ReportError
from .quarto_check import check_page, strip_widget_cdn
from .render import (
    TITLE,
    data_files,
    files_html,
    header_html,
    plotly_js,
    report_cells,
)
from .renderer import Renderer

PROJECT_DIR = "quarto-project"
TIMEOUT_S = 600
PLOTLY_FILE = "templates/plotly.min.js"
AFTER_BODY = "templates/after-body.html"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def project_file() -> Path:
    """The kit's _quarto.yml (connect_analysis.assets)."""
    return quarto_project_file()


def quarto_command(quarto: str) -> list[str]:
    """The exact command run in the staged project directory."""
    return [quarto, "render", "--no-execute"]


def front_matter() -> nbformat.NotebookNode:
    """The first cell: Quarto takes the title and body classes from it (not from a heading)."""
    return nbformat.v4.new_raw_cell(f'---\ntitle: "{TITLE}"\nbody-classes: ca-report\n'
                                    "toc-title: Sections\n---")


def output_html(output) -> str:
    """One notebook output as HTML: tables and charts as they are (already escaped), text escaped."""
    kind = output.get("output_type")
    data = output.get("data", {})
    if kind in ("display_data", "execute_result"):
        if "text/html" in data:
            return data["text/html"]
        text = data.get("text/markdown") or data.get("text/plain") or ""
        return f'<pre class="ca-output" tabindex="0">{html.escape(text)}</pre>' if text else ""
    if kind == "stream" and output.get("name") == "stdout":
        return f'<pre class="ca-output ca-stream" tabindex="0">{html.escape(output.get("text", ""))}</pre>'
    if kind == "error":
        trace = _ANSI.sub("", "\n".join(output.get("traceback", [])))
        return f'<pre class="ca-output ca-error" tabindex="0">{html.escape(trace)}</pre>'
    return ""


def raw_html(markup: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_raw_cell(markup)
    cell.metadata["format"] = "text/html"
    cell.metadata["raw_mimetype"] = "text/html"
    return cell


def joined_notebook(executed: list[Path], out_dir: Path, summary: dict,
                    rendered_by: str) -> nbformat.NotebookNode:
    """One notebook: front matter, the header, every executed notebook's cells (outputs as
    raw HTML), the data files."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells += [front_matter(), raw_html(header_html(summary, rendered_by, out_dir))]
    for path in executed:
        for cell in report_cells(nbformat.read(path, as_version=4)).cells:
            if cell.cell_type == "markdown":
                nb.cells.append(nbformat.v4.new_markdown_cell(cell.source))
            elif cell.cell_type == "code":
                markup = "".join(output_html(o) for o in cell.get("outputs", []))
                if markup:
                    nb.cells.append(raw_html(markup))
    # links are relative to OUT, where report.html ends up
    nb.cells.append(raw_html(files_html(data_files(out_dir, executed))))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"  # unique ids across the joined notebooks
    return nb


def stage_project(executed: list[Path], out_dir: Path, summary: dict,
                  rendered_by: str = "Rendered by Quarto.") -> Path:
    """Write OUT/quarto-project (project file, templates, plotly.min.js, report.ipynb)."""
    stage = out_dir / PROJECT_DIR
    if stage.exists():
        shutil.rmtree(stage)
    (stage / "templates").mkdir(parents=True)
    shutil.copyfile(project_file(), stage / "_quarto.yml")
    tdir = templates_dir()
    shutil.copyfile(tdir / "report.css", stage / "templates" / "report.css")
    (stage / PLOTLY_FILE).write_bytes(plotly_js())
    (stage / AFTER_BODY).write_text(
        f"<script>\n{(tdir / 'sortable.js').read_text()}\n</script>\n"
        f'<script src="{PLOTLY_FILE}"></script>\n'
        f"<script>\n{(tdir / 'charts.js').read_text()}\n</script>\n")
    nbformat.write(joined_notebook(executed, out_dir, summary, rendered_by), stage / "report.ipynb")
    return stage


def quarto_messages(stderr: str) -> tuple[list[str], str | None]:
    """(warnings, the ERROR: line or None) from Quarto's stderr, colours removed."""
    lines = [_ANSI.sub("", ln).strip() for ln in stderr.splitlines()]
    warnings = [ln for ln in lines if ln.startswith(("WARN", "WARNING"))]
    error = next((ln for ln in lines if ln.startswith("ERROR")), None)
    return warnings, error


def render_quarto(renderer: Renderer, executed: list[Path], out_dir: Path,
                  summary: dict) -> tuple[Path, list[str]]:
    """Render OUT/report.html with Quarto; returns it and Quarto's warnings. Raises
    ReportError with Quarto's ERROR: line, or when the page fails check_page()."""
    stage = stage_project(executed, out_dir, summary, renderer.describe())
    env = {k: v for k, v in os.environ.items() if k not in ("CONNECT_API_KEY",)}
    try:
        proc = subprocess.run(quarto_command(renderer.path), cwd=stage, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ReportError(f"quarto could not run: {e}") from None
    warnings, error = quarto_messages(proc.stderr)
    rendered = stage / "report.html"
    if proc.returncode != 0 or not rendered.exists():
        last = error or next((ln for ln in reversed(proc.stderr.splitlines()) if ln.strip()),
                             "no output")
        raise ReportError(f"quarto render failed (exit {proc.returncode}): {_ANSI.sub('', last).strip()}")
    text, _ = strip_widget_cdn(rendered.read_text(encoding="utf-8"))
    check_page(text, needs_plotly="ca-chart-data" in text)
    target = write_atomic(out_dir / "report.html", text)
    rendered.unlink()
    return target, warnings
