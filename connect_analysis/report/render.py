"""The built-in renderer: executed notebooks -> one self-contained report.html (nbconvert).

Each executed notebook becomes one section (outputs only, no code) through the nbconvert
template in templates/nbconvert/connect-analysis; templates/report.html.j2 wraps them in a
page with the styles, the table script and plotly.js, each inline exactly once (plotly.js
last, so the text paints before it is parsed). Notebook headings move down one level: the
page has one <h1>. The page loads nothing from any other host, so it works offline.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import jinja2
import nbformat

from .. import __version__
from ..analysis.output import ANALYSIS_FILES, write_atomic
from ..assets import templates_dir
from ..errors import ReportError
from ..plan import PLAN_DIR, PLAN_FILES
from ..tables import day
from .verdicts import verdicts_html


def section_html(notebook: nbformat.NotebookNode) -> str:
    """One executed notebook as HTML: markdown and outputs, no input code."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="connect-analysis",
                            extra_template_basedirs=[str(templates_dir() / "nbconvert")],
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(notebook)
    return body


NOTEBOOK_ONLY = "notebook-only"  # cells for people running a notebook, left out of the report
TITLE = "Connect migration plan"


def report_cells(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the notebook as the report shows it: cells tagged notebook-only and the
    parameters cells dropped, Markdown headings one level down (# becomes ##)."""
    nb = nbformat.from_dict(json.loads(json.dumps(notebook)))
    drop = {NOTEBOOK_ONLY, "parameters", "injected-parameters"}
    nb.cells = [c for c in nb.cells if not drop & set(c.get("metadata", {}).get("tags", []))]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = re.sub(r"^(#{1,5})(\s)", r"#\1\2", cell.source, flags=re.M)
    return nb


def section_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    """The notebook's first Markdown heading, as plain text."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#+\s+(.+)$", cell.source, re.M)
            if m:
                return m.group(1).strip()
    return fallback


def meta_html(summary: dict, rendered_by: str) -> str:
    """The line under the title: server, usage window, when and how it was made (escaped)."""
    server = summary.get("server") or {}
    window = summary.get("window") or {}
    version = f" (Connect {html.escape(str(server['version']))})" if server.get("version") else ""
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f'<p class="ca-meta">Server: <code>{html.escape(str(server.get("url") or "unknown"))}'
            f"</code>{version} &middot; usage window {day(window.get('start'))} to "
            f"{day(window.get('end'))} &middot; report generated {generated} &middot; "
            f'<span class="ca-rendered-by">{html.escape(rendered_by)}</span></p>')


def header_html(summary: dict, rendered_by: str, out_dir: Path | None = None) -> str:
    """What the report opens with, under its title: the meta line, the verdicts, and links to
    the plan's files when out_dir holds a plan/."""
    plan = ""
    if out_dir is not None and (out_dir / "plan").is_dir():
        links = ", ".join(f'<a href="plan/{n}">{n}</a>' for n in
                          ("values.yaml", "environments.json", "rebuild.sh", "caches.sh",
                           "preflight.sh", "plan.json") if (out_dir / "plan" / n).is_file())
        plan = (f'<p class="ca-plan">The files for the move, from this analysis: {links} '
                '(all of them under Data files).</p>')
    return meta_html(summary, rendered_by) + verdicts_html(summary) + plan


def data_files(out_dir: Path, executed: list[Path]) -> list[tuple[str, str]]:
    """(relative href, what it holds) for each file beside the report: the analysis's files in
    the order it writes them (analysis ANALYSIS_FILES), any other CSV, the plan's files, the
    executed notebooks."""
    names = [name for name in ANALYSIS_FILES if (out_dir / name).is_file()]
    names += sorted(p.name for p in out_dir.glob("*.csv") if p.name not in ANALYSIS_FILES)
    files = [(name, ANALYSIS_FILES.get(name, "")) for name in names]
    plan = out_dir / PLAN_DIR  # connect_analysis.plan.write_plan's files
    if plan.is_dir():
        inside = sorted(p.relative_to(plan).as_posix() for p in plan.rglob("*") if p.is_file())
        files += [(f"{PLAN_DIR}/{name}", _plan_note(name)) for name in inside]
    files += [(p.relative_to(out_dir).as_posix(), "executed notebook (run record)")
              for p in executed if p.is_relative_to(out_dir)]
    return files


def _plan_note(name: str) -> str:
    """What the plan file plan/name holds (PLAN_FILES; a key ending in / covers a directory)."""
    return next((about for key, about in PLAN_FILES.items()
                 if name == key or (key.endswith("/") and name.startswith(key))), "")


def files_html(files: list[tuple[str, str]]) -> str:
    """The "Data files" section: relative links to the files beside the report."""
    items = "".join(f'<li><a href="{html.escape(href)}">{html.escape(href)}</a>'
                    + (f" &mdash; {html.escape(about)}" if about else "") + "</li>"
                    for href, about in files)
    return ('<h2 id="data-files">Data files</h2><p>The analysis behind this report, beside it '
            f'in the same directory:</p><ul class="ca-files">{items}</ul>')


def render_html(executed: list[Path], out_dir: Path, summary: dict | None = None,
                rendered_by: str = "Rendered by the kit's built-in renderer (nbconvert).") -> Path:
    """Write out_dir/report.html from the executed notebooks (in order). Returns its path."""
    tdir = templates_dir()
    sections = []
    for path in executed:
        nb = report_cells(nbformat.read(path, as_version=4))
        sections.append({"id": "section-" + path.stem, "title": section_title(nb, path.stem),
                         "body": section_html(nb)})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tdir)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    page = env.get_template("report.html.j2").render(
        title=TITLE,
        version=__version__,
        header=header_html(summary or {}, rendered_by, out_dir),
        sections=sections,
        files_block=files_html(data_files(out_dir, executed)),
        css=(tdir / "report.css").read_text(),
        sortable_js=(tdir / "sortable.js").read_text(),
        charts_js=(tdir / "charts.js").read_text(),
        plotly_js=plotly_js().decode("utf-8"),
    )
    from .quarto_check import check_page

    check_page(page)  # the same check as after a Quarto render
    return write_atomic(out_dir / "report.html", page)


def plotly_js() -> bytes:
    """The installed plotly package's plotly.min.js, byte for byte."""
    from importlib.resources import files

    return files("plotly").joinpath("package_data", "plotly.min.js").read_bytes()


def load_summary(out_dir: Path) -> dict:
    """out_dir/summary.json, or {} when the analysis did not write one."""
    f = out_dir / "summary.json"
    try:
        return json.loads(f.read_text()) if f.exists() else {}
    except ValueError as e:
        raise ReportError(f"{f} is not valid JSON: {e}") from None


