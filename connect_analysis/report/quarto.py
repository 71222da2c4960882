"""The Quarto path: when a `quarto` binary is found, it renders the executed notebooks.

The project (the repository's _quarto.yml and templates/) is staged in OUT/quarto-project/
with report.ipynb, the executed notebooks joined in order. Quarto renders that one explicit
target without executing anything (`--no-execute`, and `execute: enabled: false` in the
project) into one self-contained file, which is moved to OUT/report.html.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import nbformat

from ..assets import quarto_project_file, templates_dir
from ..errors import ReportError
from .render import data_files, files_html, header_html

PROJECT_DIR = "quarto-project"
TIMEOUT_S = 600


def project_file() -> Path:
    """The kit's _quarto.yml (connect_analysis.assets)."""
    return quarto_project_file()


def quarto_command(quarto: str) -> list[str]:
    """The exact command run in the staged project directory."""
    return [quarto, "render", "--no-execute"]


def joined_notebook(executed: list[Path], out_dir: Path, summary: dict) -> nbformat.NotebookNode:
    """One notebook: an answers header, every executed notebook's cells, the data files."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(_html_cell(header_html(summary)))
    for path in executed:
        source = nbformat.read(path, as_version=4)
        for cell in source.cells:
            tags = cell.get("metadata", {}).get("tags", [])
            if "parameters" in tags or "injected-parameters" in tags:
                continue  # the run's inputs are in the run record, not the report
            nb.cells.append(cell)
    # links are relative to OUT, where report.html ends up
    nb.cells.append(_html_cell(files_html(data_files(out_dir, executed))))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"  # unique ids across the joined notebooks
    return nb


def stage_project(executed: list[Path], out_dir: Path, summary: dict) -> Path:
    """Write OUT/quarto-project (project file, templates, report.ipynb). Returns its path."""
    from plotly.offline import get_plotlyjs

    stage = out_dir / PROJECT_DIR
    if stage.exists():
        shutil.rmtree(stage)
    (stage / "templates").mkdir(parents=True)
    shutil.copyfile(project_file(), stage / "_quarto.yml")
    tdir = templates_dir()
    shutil.copyfile(tdir / "report.css", stage / "templates" / "report.css")
    (stage / "templates" / "plotly.html").write_text(f"<script>\n{get_plotlyjs()}\n</script>\n")
    (stage / "templates" / "sortable.html").write_text(
        f"<script>\n{(tdir / 'sortable.js').read_text()}\n</script>\n")
    nbformat.write(joined_notebook(executed, out_dir, summary), stage / "report.ipynb")
    return stage


def render_quarto(quarto: str, executed: list[Path], out_dir: Path, summary: dict) -> Path:
    """Render OUT/report.html with Quarto. Raises ReportError with Quarto's last message."""
    stage = stage_project(executed, out_dir, summary)
    env = {k: v for k, v in os.environ.items() if k not in ("CONNECT_API_KEY",)}
    try:
        proc = subprocess.run(quarto_command(quarto), cwd=stage, env=env, capture_output=True,
                              text=True, timeout=TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ReportError(f"quarto could not run: {e}") from None
    rendered = stage / "report.html"
    if proc.returncode != 0 or not rendered.exists():
        last = next((ln for ln in reversed(proc.stderr.splitlines()) if ln.strip()), "no output")
        raise ReportError(f"quarto render failed (exit {proc.returncode}): {last.strip()}")
    target = out_dir / "report.html"
    os.replace(rendered, target)
    return target


def _html_cell(markup: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source="")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": markup})]
    return cell
