"""The report: analyse a snapshot, execute the notebooks, render one self-contained page.

    build_report(snapshot, out)  ->  OUT/summary.json, OUT/*.csv       (the analysis)
                                     OUT/plan/                         (the move's files: values.yaml, ...)
                                     OUT/analysis.pickle               (what the notebooks read)
                                     OUT/notebooks/NN-*.ipynb          (papermill; the run record)
                                     OUT/report.html                   (Quarto or the built-in renderer)
                                     OUT/report.pdf                    (with pdf=True; headless Chromium)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..assets import notebooks_dir
from ..errors import ConfigError
from ..options import AnalysisOptions
from .execute import execute_notebooks, notebook_paths
from .render import load_summary, render_html
from .renderer import Renderer, choose_renderer
from .stored import RESULT_ENV, analysis_options, save_analysis


@dataclass
class Report:
    """What build_report made, and how long each stage took (seconds)."""

    html: Path
    notebooks: list[Path]
    pdf: Path | None = None
    renderer: str = "builtin"  # "quarto" or "builtin"
    rendered_by: str = ""  # the sentence the report carries: which renderer (and Quarto) made it
    warnings: list[str] = field(default_factory=list)  # Quarto's warnings, as it printed them
    seconds: dict[str, float] = field(default_factory=dict)


def build_report(snapshot: str | os.PathLike, out: str | os.PathLike, *,
                 options: AnalysisOptions | None = None,
                 preflight: str | os.PathLike | None = None, pdf: bool = False,
                 renderer: str = "auto") -> Report:
    """Analyse the snapshot into out, execute every notebook against it, render report.html.

    options: the analysis options (AnalysisOptions; default: its defaults), given to the
    analysis and to every notebook alike, so the report shows what summary.json holds; the
    notebooks read this same analysis (target_version included) instead of analysing again.

    renderer: "auto" (Quarto when found: QUARTO_PATH, beside this interpreter, PATH; else the
    built-in renderer), "quarto" or "builtin". Raises SnapshotError, ConfigError or
    ReportError (naming the notebook and cell that failed; the executed notebooks stay in
    out/notebooks).
    """
    from ..snapshot import refuse_output_inside_snapshot

    options = options or AnalysisOptions()
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    chosen = choose_renderer(renderer)
    snapshot = Path(snapshot).resolve()
    out = Path(out).resolve()
    refuse_output_inside_snapshot(out)
    if preflight:
        from ..preflight_results import read_results

        read_results(preflight)  # a bad file fails here, in one line, not inside a notebook
    stored = _analyse_into(snapshot, out, options)
    seconds["analyze"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    executed = execute_notebooks(notebook_paths(notebooks_dir()), out / "notebooks", {
        "snapshot": str(snapshot), **options.notebook_parameters(),
        "preflight": str(Path(preflight).resolve()) if preflight else "",
    }, env={RESULT_ENV: str(stored)})  # the notebooks read this analysis, not analyse again
    seconds["execute"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    html_file, warnings = _render(chosen, executed, out)
    seconds["render"] = time.perf_counter() - t0

    pdf_file = None
    if pdf:
        from .pdf import render_pdf

        t0 = time.perf_counter()
        pdf_file = render_pdf(html_file)
        seconds["pdf"] = time.perf_counter() - t0
    return Report(html=html_file, notebooks=executed, pdf=pdf_file, renderer=chosen.name,
                  rendered_by=chosen.describe(), warnings=warnings, seconds=seconds)



def _analyse_into(snapshot: Path, out: Path, options: AnalysisOptions) -> Path:
    """Analyse the snapshot once and write the analysis files, the plan (OUT/plan/) and the
    stored analysis the notebooks read; returns the stored analysis' path."""
    from ..analysis import analyze, load_for_analysis, write_analysis
    from ..plan import write_plan

    snap = load_for_analysis(snapshot)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot create {out}: {e.strerror or e}") from None
    result = analyze(snap, **options.analyze_kwargs())
    write_analysis(result, out)
    write_plan(result, out, snapshot=snap, target_version=options.target_version)
    return save_analysis(result, out, analysis_options(snapshot, options))

def _render(chosen: Renderer, executed: list[Path], out: Path) -> tuple[Path, list[str]]:
    """(report.html, Quarto's warnings) from the chosen renderer."""
    summary = load_summary(out)
    if chosen.name == "quarto":
        from .quarto import render_quarto

        return render_quarto(chosen, executed, out, summary)
    return render_html(executed, out, summary, rendered_by=chosen.describe()), []


__all__ = ["AnalysisOptions", "Report", "build_report", "notebooks_dir"]
