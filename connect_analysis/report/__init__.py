"""The report: analyse a snapshot, execute the notebooks, render one self-contained page.

    build_report(snapshot, out)  ->  OUT/summary.json, OUT/*.csv       (the analysis)
                                     OUT/notebooks/NN-*.ipynb          (papermill; the run record)
                                     OUT/report.html                   (Quarto if found, else nbconvert)
                                     OUT/report.pdf                    (with pdf=True; headless Chromium)
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..assets import notebooks_dir
from ..errors import ConfigError
from ..options import AnalysisOptions
from .execute import execute_notebooks, notebook_paths
from .render import load_summary, render_html


@dataclass
class Report:
    """What build_report made, and how long each stage took (seconds)."""

    html: Path
    notebooks: list[Path]
    pdf: Path | None = None
    renderer: str = "nbconvert"
    seconds: dict[str, float] = field(default_factory=dict)


def build_report(snapshot: str | os.PathLike, out: str | os.PathLike, *,
                 options: AnalysisOptions | None = None,
                 preflight: str | os.PathLike | None = None, pdf: bool = False,
                 quarto: str | None = None) -> Report:
    """Analyse the snapshot into out, execute every notebook against it, render report.html.

    options: the analysis options (AnalysisOptions; default: its defaults), given to the
    analysis and to every notebook alike, so the report shows what summary.json holds.

    options.target_version, the new cluster's Connect version, goes to the readiness verdicts
    in summary.json only (the notebooks use the default, the old server's version).

    quarto: the Quarto binary to render with (default: `quarto` on PATH; "" forces the
    built-in renderer). Raises SnapshotError, ConfigError or ReportError (naming the notebook and cell that failed;
    the executed notebooks stay in out/notebooks).
    """
    from ..analysis import analyze, load_for_analysis, write_analysis
    from ..snapshot import refuse_output_inside_snapshot

    options = options or AnalysisOptions()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    snapshot = Path(snapshot).resolve()
    out = Path(out).resolve()
    refuse_output_inside_snapshot(out)
    if preflight:
        from ..preflight_results import read_results

        read_results(preflight)  # a bad file fails here, in one line, not inside a notebook
    snap = load_for_analysis(snapshot)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot create {out}: {e.strerror or e}") from None

    write_analysis(analyze(snap, **options.analyze_kwargs()), out)
    seconds["analyze"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    executed = execute_notebooks(notebook_paths(notebooks_dir()), out / "notebooks", {
        "snapshot": str(snapshot), **options.notebook_parameters(),
        "preflight": str(Path(preflight).resolve()) if preflight else "",
    })
    seconds["execute"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    html_file, renderer = _render(executed, out, quarto)
    seconds["render"] = time.perf_counter() - t0

    pdf_file = None
    if pdf:
        from .pdf import render_pdf

        t0 = time.perf_counter()
        pdf_file = render_pdf(html_file)
        seconds["pdf"] = time.perf_counter() - t0
    return Report(html=html_file, notebooks=executed, pdf=pdf_file, renderer=renderer,
                  seconds=seconds)


def _render(executed: list[Path], out: Path, quarto: str | None) -> tuple[Path, str]:
    """(report.html, which renderer made it): Quarto when found (or given), else nbconvert."""
    summary = load_summary(out)
    quarto = shutil.which("quarto") if quarto is None else quarto
    if quarto:
        from .quarto import render_quarto

        return render_quarto(quarto, executed, out, summary), "quarto"
    return render_html(executed, out, summary), "nbconvert"


__all__ = ["AnalysisOptions", "Report", "build_report", "notebooks_dir"]
