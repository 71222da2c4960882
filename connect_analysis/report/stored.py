"""The analysis the report computed, kept beside it for the notebooks to read.

build_report analyses the snapshot once and writes OUT/analysis.pickle (with summary.json
and the CSVs); each notebook kernel is told where it is (RESULT_ENV in its environment) and
reads it instead of analysing the snapshot again. The file records the options it was
computed with and the kit version: a notebook whose parameters differ analyses anew.
The pickle is the kit's own output in the user's own directory, read only through RESULT_ENV.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from .. import __version__

RESULT_FILE = "analysis.pickle"
RESULT_ENV = "CONNECT_ANALYSIS_RESULT"


def analysis_options(snapshot, options) -> dict:
    """What decides an analysis, comparable: the snapshot's path and the AnalysisOptions
    (without target_version, which the notebooks do not take: they show the report's)."""
    import dataclasses

    return {"snapshot": str(Path(snapshot).resolve()),
            "options": dataclasses.asdict(dataclasses.replace(options, target_version=None))}


def save_analysis(result, out_dir: Path, options: dict) -> Path:
    """Write out_dir/analysis.pickle (through a temporary file and a rename)."""
    target = Path(out_dir) / RESULT_FILE
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        pickle.dump({"kit_version": __version__, "options": options, "result": result}, f,
                    protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, target)
    return target


def load_stored(options: dict):
    """The stored analysis named by RESULT_ENV when it was made with these options by this
    kit version; else None (the caller analyses the snapshot itself)."""
    path = os.environ.get(RESULT_ENV)
    if not path or not Path(path).is_file():
        return None
    try:
        with open(path, "rb") as f:
            stored = pickle.load(f)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    if stored.get("kit_version") != __version__ or stored.get("options") != options:
        return None
    return stored["result"]
