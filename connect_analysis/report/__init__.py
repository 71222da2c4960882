"""The report: analyse a snapshot, execute the notebooks, render one self-contained page.

    build_report(snapshot, out)  ->  OUT/summary.json, OUT/*.csv       (the analysis)
                                     OUT/plan/                         (the move's files: values.yaml, ...)
                                     OUT/analysis.pickle               (what the notebooks read)
                                     OUT/notebooks/NN-*.ipynb          (papermill; the run record)
                                     OUT/report.html                   (Quarto if found, else nbconvert)
                                     OUT/report.pdf                    (with pdf=True; headless Chromium)
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from .execute import execute_notebooks, notebook_paths
from .render import load_summary, render_html, templates_dir
from .renderer import choose_renderer
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


def notebooks_dir() -> Path:
    """notebooks/ at the repository root."""
    return templates_dir().parent / "notebooks"


def build_report(snapshot: str | os.PathLike, out: str | os.PathLike, *, top_n: int = 20,
                 images: str | os.PathLike | None = None, must_keep: tuple[str, ...] = (),
                 must_keep_tags: tuple[str, ...] = (), current_use_bytes: int | None = None,
                 preflight: str | os.PathLike | None = None, pdf: bool = False,
                 renderer: str = "auto", target_version: str | None = None) -> Report:
    """Analyse the snapshot into out, execute every notebook against it, render report.html.

    top_n, images ("posit", "server" or a YAML file), must_keep (GUIDs), must_keep_tags and
    current_use_bytes (measured bytes in use) are the options of `analyze`, given to the
    analysis and to every notebook alike, so the report shows what summary.json holds.

    renderer: "auto" (Quarto when found: QUARTO_PATH, beside this interpreter, PATH; else the
    built-in renderer), "quarto" or "builtin". target_version: the new cluster's Connect
    version for the readiness verdicts (the notebooks read this same analysis, so they show
    them too). Raises SnapshotError, ConfigError or ReportError (naming the notebook and cell
    that failed; the executed notebooks stay in out/notebooks).
    """
    from ..analysis import analyze, load_for_analysis, write_analysis
    from .notebook import check_parameters

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    chosen = choose_renderer(renderer)
    snapshot = Path(snapshot).resolve()
    out = Path(out).resolve()
    params = check_parameters(snapshot=str(snapshot), top_n=top_n,
                              images=str(images or ""), must_keep=list(must_keep),
                              must_keep_tags=list(must_keep_tags),
                              current_use_bytes=current_use_bytes, preflight=str(preflight or ""))
    if preflight:
        from ..preflight import read_results

        read_results(preflight)  # a bad file fails here, in one line, not inside a notebook
    snap = load_for_analysis(snapshot)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot create {out}: {e.strerror or e}") from None

    result = analyze(snap, images=params["images"], must_keep_guids=params["must_keep"],
                     must_keep_tags=params["must_keep_tags"], top_n=top_n,
                     current_use_bytes=params["current_use_bytes"], target_version=target_version)
    write_analysis(result, out)
    from ..plan import write_plan

    write_plan(result, out, snapshot=snap, target_version=target_version)  # OUT/plan/, linked
    stored = save_analysis(result, out, analysis_options(params))
    seconds["analyze"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    executed = execute_notebooks(notebook_paths(notebooks_dir()), out / "notebooks", {
        "snapshot": str(snapshot),
        "top_n": top_n,
        "images": params["images"] or "",
        "must_keep": list(params["must_keep"]),
        "must_keep_tags": list(params["must_keep_tags"]),
        "current_use_bytes": current_use_bytes or 0,  # the notebooks' "not measured"
        "preflight": str(Path(preflight).resolve()) if preflight else "",
    }, env={RESULT_ENV: str(stored)})  # the notebooks read this analysis, not analyse again
    seconds["execute"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    summary = load_summary(out)
    warnings: list[str] = []
    if chosen.name == "quarto":
        from .quarto import render_quarto

        html_file, warnings = render_quarto(chosen, executed, out, summary)
    else:
        html_file = render_html(executed, out, summary, rendered_by=chosen.describe())
    seconds["render"] = time.perf_counter() - t0

    pdf_file = None
    if pdf:
        from .pdf import render_pdf

        t0 = time.perf_counter()
        pdf_file = render_pdf(html_file)
        seconds["pdf"] = time.perf_counter() - t0
    return Report(html=html_file, notebooks=executed, pdf=pdf_file, renderer=chosen.name,
                  rendered_by=chosen.describe(), warnings=warnings, seconds=seconds)


__all__ = ["Report", "build_report", "notebooks_dir"]
