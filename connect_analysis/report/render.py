"""The built-in renderer: executed notebooks -> one self-contained report.html (nbconvert).

Each executed notebook becomes one section (outputs only, no code) through the nbconvert
template in templates/nbconvert/connect-analysis; templates/report.html.j2 wraps them in a
page with the styles, the table-sorting script and plotly.js, each inline exactly once.
The page loads nothing from any other host, so it works offline and on an air-gapped server.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
from pathlib import Path

import jinja2
import nbformat

from .. import __version__
from ..assets import templates_dir
from ..errors import ReportError

# what each analysis file beside the report holds (files not listed are linked without a note)
DATA_FILES = {
    "summary.json": "the answers, machine-readable",
    "important-content.csv": "important content: GUIDs, access paths, usage, why picked",
    "runtimes.csv": "R, Python and Quarto versions in use and on the server",
    "image-coverage.csv": "each execution image: its runtimes, the content it can run",
    "content-images.csv": "each content item: the images that can run it",
    "warm-list.csv": "runtime cache warm list for the important content",
    "storage-by-content.csv": "bundle bytes per content item",
    "storage-growth.csv": "bundle bytes added per month",
    "storage-projection.csv": "12-month storage projection",
    "downtime-by-app-mode.csv": "content and bundles by type",
    "run-as.csv": "content with a custom run-as user or run-as-current-user",
}


def section_html(notebook: nbformat.NotebookNode) -> str:
    """One executed notebook as HTML: markdown and outputs, no input code."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="connect-analysis",
                            extra_template_basedirs=[str(templates_dir() / "nbconvert")],
                            exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(notebook)
    return body


def section_title(notebook: nbformat.NotebookNode, fallback: str) -> str:
    """The notebook's first Markdown heading, as plain text."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#+\s+(.+)$", cell.source, re.M)
            if m:
                return m.group(1).strip()
    return fallback


def header_html(summary: dict, title: str = "Connect migration plan") -> str:
    """The report's opening lines: title, server, usage window, when it was made (escaped)."""
    server = summary.get("server") or {}
    window = summary.get("window") or {}
    version = f" (Connect {html.escape(str(server['version']))})" if server.get("version") else ""
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"<h1>{html.escape(title)}</h1>"
            f'<p class="ca-meta">Server: <code>{html.escape(str(server.get("url") or "unknown"))}'
            f"</code>{version} &middot; usage window {_day(window.get('start'))} to "
            f"{_day(window.get('end'))} &middot; report generated {generated}</p>")


def data_files(out_dir: Path, executed: list[Path]) -> list[tuple[str, str]]:
    """(relative href, what it holds) for each analysis file and executed notebook in out_dir."""
    names = ["summary.json"] * (out_dir / "summary.json").exists()
    names += sorted(p.name for p in out_dir.glob("*.csv"))
    files = [(name, DATA_FILES.get(name, "")) for name in names]
    files += [(p.relative_to(out_dir).as_posix(), "executed notebook (run record)")
              for p in executed if p.is_relative_to(out_dir)]
    return files


def files_html(files: list[tuple[str, str]]) -> str:
    """The "Data files" section: relative links to the files beside the report."""
    items = "".join(f'<li><a href="{html.escape(href)}">{html.escape(href)}</a>'
                    + (f" &mdash; {html.escape(about)}" if about else "") + "</li>"
                    for href, about in files)
    return ('<h1 id="data-files">Data files</h1><p>The analysis behind this report, beside it '
            f'in the same directory:</p><ul class="ca-files">{items}</ul>')


def render_html(executed: list[Path], out_dir: Path, summary: dict | None = None) -> Path:
    """Write out_dir/report.html from the executed notebooks (in order). Returns its path."""
    from plotly.offline import get_plotlyjs

    tdir = templates_dir()
    sections = []
    for path in executed:
        nb = nbformat.read(path, as_version=4)
        sections.append({"id": "section-" + path.stem, "title": section_title(nb, path.stem),
                         "body": section_html(nb)})
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tdir)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    page = env.get_template("report.html.j2").render(
        title="Connect migration plan",
        version=__version__,
        header=header_html(summary or {}),
        sections=sections,
        files_block=files_html(data_files(out_dir, executed)),
        css=(tdir / "report.css").read_text(),
        sortable_js=(tdir / "sortable.js").read_text(),
        plotly_js=get_plotlyjs(),
    )
    return write_atomic(out_dir / "report.html", page)


def write_atomic(target: Path, text: str) -> Path:
    """Write text to target through a temporary sibling and a rename."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)
    return target


def _day(value) -> str:
    return str(value)[:10] if value else "?"


def load_summary(out_dir: Path) -> dict:
    """out_dir/summary.json, or {} when the analysis did not write one."""
    f = out_dir / "summary.json"
    try:
        return json.loads(f.read_text()) if f.exists() else {}
    except ValueError as e:
        raise ReportError(f"{f} is not valid JSON: {e}") from None


