"""What the report notebooks call: check the parameters, find the snapshot, read or run the
analysis; the facts and tables they show are in sections.py (re-exported here as ca.NAME).
Notebook cells stay one line each.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..options import AnalysisOptions, fields_by_name

# the default `snapshot` parameter, relative to the notebook's own folder (notebook_folder())
DEMO_SNAPSHOT = "../demo-output/snapshot"


@dataclass
class Prepared:
    """A notebook's inputs, checked, and the analysis of its snapshot."""

    snapshot_path: Path
    result: object  # connect_analysis.analysis.Analysis
    top_n: int
    reused: bool = False  # True: the report's stored analysis, not analysed in this kernel
    _snapshot: object = None

    @property
    def summary(self) -> dict:
        return self.result.summary

    @property
    def snapshot(self):
        """The snapshot (connect_analysis.snapshot.Snapshot), loaded when first asked for."""
        if self._snapshot is None:
            from ..analysis import load_for_analysis

            self._snapshot = load_for_analysis(self.snapshot_path)
        return self._snapshot


def notebook_folder() -> Path:
    """The folder of the running notebook: Jupyter names the notebook in JPY_SESSION_NAME;
    elsewhere (papermill, a script) the kit's notebooks/ folder, whatever the working
    directory is."""
    session = os.environ.get("JPY_SESSION_NAME")
    if session and Path(session).suffix == ".ipynb" and Path(session).parent.is_dir():
        return Path(session).resolve().parent
    from ..assets import notebooks_dir

    return notebooks_dir()


def _resolve_default(snapshot: str | os.PathLike) -> str | os.PathLike:
    """The default snapshot parameter resolved against the notebook's folder, not the cwd."""
    if str(snapshot) == DEMO_SNAPSHOT:
        return str(notebook_folder() / snapshot)
    return snapshot


def check_parameters(*, snapshot: str, days: int = 90, preflight: str = "",
                     **options) -> dict:
    """The parameters, validated; raises ConfigError naming the first bad one.

    options: the analysis options (AnalysisOptions fields, as papermill literals: a
    current_use_bytes of 0 is "not measured"). Returns {"snapshot", "days", "preflight",
    "options": AnalysisOptions}."""
    if not isinstance(snapshot, str | os.PathLike) or not str(snapshot):
        raise ConfigError("snapshot must be a directory path")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigError(f"days must be a whole number >= 1, not {days!r}")
    unknown = set(options) - set(fields_by_name())
    if unknown:
        raise ConfigError(f"unknown parameter {sorted(unknown)[0]!r}")
    if preflight and not Path(preflight).expanduser().is_file():
        raise ConfigError(f"preflight: no such file: {preflight}")
    return {"snapshot": Path(snapshot).expanduser(), "days": days,
            "preflight": Path(preflight).expanduser() if preflight else None,
            "options": AnalysisOptions.from_parameters(**options)}


def open_snapshot(path: Path, days: int = 90):
    """Load the snapshot at path (only the columns the analysis reads); the default path is
    the notebook folder's ../demo-output/snapshot.

    The report never fetches: a missing snapshot is a SnapshotError saying how to make one.
    days is unused (kept for the notebooks' parameter of that name).
    """
    from ..analysis import load_for_analysis
    from ..errors import SnapshotError

    path = Path(_resolve_default(path))
    if not (path / "manifest.json").exists():
        hint = ("make the demo snapshot with `make demo` (or `connect-analysis demo`)"
                if path.resolve() == (notebook_folder() / DEMO_SNAPSHOT).resolve() else
                "fetch one with `connect-analysis fetch --server URL --out DIR`")
        raise SnapshotError(f"no snapshot at {path}: {hint}, then pass its directory as the "
                            "`snapshot` parameter")
    return load_for_analysis(path)


def prepare(*, snapshot: str, days: int = 90, preflight: str = "", **options) -> Prepared:
    """Check the parameters, then read the analysis `connect-analysis report` already made
    (report/stored.py) when it was made with these options, else open the snapshot and
    analyse it (the notebooks' second cell).

    options: the AnalysisOptions fields, so a notebook given the options of `analyze` shows
    the same figures as summary.json."""
    from ..analysis import analyze
    from .stored import analysis_options, load_stored

    p = check_parameters(snapshot=_resolve_default(snapshot), days=days, preflight=preflight,
                         **options)
    opts = p["options"]
    if Path(p["snapshot"]).is_dir():
        # the notebooks have no target_version parameter: the report's analysis is theirs
        stored = load_stored(analysis_options(p["snapshot"], opts))
        if stored is not None:
            return Prepared(snapshot_path=Path(p["snapshot"]).resolve(), result=stored,
                            top_n=opts.top_n, reused=True)
    snap = open_snapshot(p["snapshot"], days=p["days"])
    result = analyze(snap, **opts.analyze_kwargs())
    return Prepared(snapshot_path=Path(snap.path or p["snapshot"]), result=result,
                    top_n=opts.top_n, _snapshot=snap)


from .sections import (  # noqa: E402  (the notebooks call these as ca.NAME)
    answers,
    counts,
    downtime_facts,
    facts,
    frame,
    growth_table,
    important_table,
    licence_facts,
    package_facts,
    preflight_results,
    projection_table,
    readiness_table,
    storage_facts,
    storage_history,
    usage_facts,
    users_facts,
)

__all__ = ["DEMO_SNAPSHOT", "Prepared", "answers", "check_parameters", "counts", "downtime_facts",
           "facts", "frame", "growth_table", "important_table", "licence_facts", "notebook_folder",
           "open_snapshot", "package_facts", "prepare", "preflight_results", "projection_table",
           "readiness_table", "storage_facts", "storage_history", "usage_facts", "users_facts"]
