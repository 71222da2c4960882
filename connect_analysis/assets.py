"""The report's assets: notebooks/, templates/, _quarto.yml and the Connect entry notebook.

In the repository they live at the top level; the wheel carries them as
connect_analysis/_assets/ (hatchling's force-include, see pyproject.toml). Both are read through
importlib.resources, so an installed kit never needs a source checkout. An editable install
imports the package from the checkout, where the same files sit beside it at the top level.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import ReportError

PACKAGED = "_assets"


def assets_root() -> Path:
    """The directory that holds notebooks/, templates/, _quarto.yml and deploy/.

    connect_analysis/_assets in an installed wheel; the checkout's top level in an editable
    install. Raises ReportError when neither holds the templates.
    """
    package = resources.files("connect_analysis")
    candidates = [Path(str(package / PACKAGED)), Path(str(package)).parent]
    for root in candidates:
        if (root / "templates" / "report.html.j2").is_file() and (root / "_quarto.yml").is_file():
            return root
    raise ReportError(f"the kit's report assets are missing from {candidates[0]}: reinstall "
                      "connect-analysis (uv tool install / pipx / pip)")


def asset(name: str) -> Path:
    """One asset by its name under the root ("notebooks", "templates", "_quarto.yml",
    "deploy/connect-analysis-report.ipynb"); raises ReportError when it is missing."""
    path = assets_root() / name
    if not path.exists():
        raise ReportError(f"the kit's asset {name} is missing from {path.parent}")
    return path


def notebooks_dir() -> Path:
    """The report's notebooks (NN-name.ipynb)."""
    return asset("notebooks")


def templates_dir() -> Path:
    """The report's templates (page, styles, nbconvert template)."""
    return asset("templates")


def quarto_project_file() -> Path:
    """The Quarto project file the report is rendered with."""
    return asset("_quarto.yml")


def entry_notebook() -> Path:
    """The notebook Connect renders (the bundle's entry point)."""
    return asset("deploy/connect-analysis-report.ipynb")
