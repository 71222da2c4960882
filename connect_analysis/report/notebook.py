"""What the report notebooks call: check the parameters, find the snapshot, run the analysis,
and turn the summary into the answers table. Notebook cells stay one line each.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError

# the default `snapshot` parameter, relative to the notebook's own folder (notebook_folder())
DEMO_SNAPSHOT = "../demo-output/snapshot"
# where the default is fetched to instead when CONNECT_SERVER is set: never the demo's directory,
# so demo data is never shown as the server's
SERVER_SNAPSHOT = "../connect-output/snapshot"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


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
    from . import notebooks_dir

    return notebooks_dir()


def _resolve_default(snapshot: str | os.PathLike) -> str | os.PathLike:
    """The default snapshot parameter resolved against the notebook's folder, not the cwd."""
    if str(snapshot) in (DEMO_SNAPSHOT, SERVER_SNAPSHOT):
        return str(notebook_folder() / snapshot)
    return snapshot


def check_parameters(*, snapshot: str, days: int = 90, top_n: int = 20, images: str = "",
                     must_keep: list | tuple = (), must_keep_tags: list | tuple = (),
                     current_use_bytes: int | None = None, preflight: str = "") -> dict:
    """The parameters, validated; raises ConfigError naming the first bad one.

    current_use_bytes: measured bytes in use (None or 0, the notebooks' default: not measured,
    the bundle bytes count)."""
    if not isinstance(snapshot, str | os.PathLike) or not str(snapshot):
        raise ConfigError("snapshot must be a directory path")
    for name, value in (("days", days), ("top_n", top_n)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a whole number >= 1, not {value!r}")
    if not isinstance(must_keep, list | tuple) or not all(isinstance(g, str) for g in must_keep):
        raise ConfigError("must_keep must be a list of content GUIDs")
    bad = [g for g in must_keep if not _GUID.match(g)]
    if bad:
        raise ConfigError(f"must_keep: not a content GUID: {bad[0]!r}")
    if not isinstance(must_keep_tags, list | tuple) or not all(
            isinstance(t, str) and t for t in must_keep_tags):
        raise ConfigError("must_keep_tags must be a list of tag names or ids")
    if current_use_bytes is not None and (isinstance(current_use_bytes, bool)
                                          or not isinstance(current_use_bytes, int)
                                          or current_use_bytes < 0):
        raise ConfigError(f"current_use_bytes must be a whole number of bytes >= 0, "
                          f"not {current_use_bytes!r}")
    named = {"", "posit", "server"}  # images: Posit's public images, or the server's own
    for name, value in (("images", "" if images in named else images), ("preflight", preflight)):
        if value and not Path(value).expanduser().is_file():
            raise ConfigError(f"{name}: no such file: {value}")
    return {"snapshot": Path(snapshot).expanduser(), "days": days, "top_n": top_n,
            "images": (images or None) if images in named else str(Path(images).expanduser().resolve()),
            "must_keep": tuple(must_keep), "must_keep_tags": tuple(must_keep_tags),
            "current_use_bytes": current_use_bytes or None,
            "preflight": Path(preflight).expanduser() if preflight else None}


def open_snapshot(path: Path, days: int = 90):
    """Load the snapshot at path.

    For the default path (a notebook opened with no arguments): with CONNECT_SERVER set, the
    server is fetched into SERVER_SNAPSHOT (key from CONNECT_API_KEY) unless that already holds
    this server's snapshot; without it, the demo snapshot is made when missing. Any other path
    that is missing is fetched from CONNECT_SERVER when set, else it is an error.
    """
    from ..analysis import load_for_analysis

    path = Path(_resolve_default(path))
    server = os.environ.get("CONNECT_SERVER")
    default = path.resolve() == (notebook_folder() / DEMO_SNAPSHOT).resolve()
    if server and default:
        path = (notebook_folder() / SERVER_SNAPSHOT).resolve()
        if not _holds(path, server):
            _fetch(server, path, days)
    elif not path.exists():
        if server:
            _fetch(server, path, days)
        elif default:
            from ..demo import make_demo_snapshot

            make_demo_snapshot(path)
    return load_for_analysis(path)


def _fetch(server: str, path: Path, days: int) -> None:
    from ..fetch import fetch_snapshot

    fetch_snapshot(server, path, days=days, quiet=True)


def _holds(path: Path, server: str) -> bool:
    """Whether path holds a snapshot of server; not when the URL is bad (the fetch says why)."""
    import json

    from ..client import normalize_server

    try:
        return json.loads((path / "manifest.json").read_text()).get("server") == normalize_server(server)
    except (OSError, ValueError, AttributeError, ConfigError):
        return False


def prepare(*, snapshot: str, days: int = 90, top_n: int = 20, images: str = "",
            must_keep: list | tuple = (), must_keep_tags: list | tuple = (),
            current_use_bytes: int | None = None, preflight: str = "") -> Prepared:
    """Check the parameters, open the snapshot and analyse it (the notebooks' second cell).

    The analysis options are those of `connect-analysis analyze`, so a notebook given the
    same options shows the same figures as summary.json. Inside `connect-analysis report`
    the analysis the report already made is read (report/stored.py), not computed again."""
    from ..analysis import analyze
    from .stored import analysis_options, load_stored

    p = check_parameters(snapshot=_resolve_default(snapshot), days=days, top_n=top_n,
                         images=images, must_keep=must_keep, must_keep_tags=must_keep_tags,
                         current_use_bytes=current_use_bytes, preflight=preflight)
    stored = load_stored(analysis_options(p)) if Path(p["snapshot"]).is_dir() else None
    if stored is not None:
        return Prepared(snapshot_path=Path(p["snapshot"]).resolve(), result=stored,
                        top_n=p["top_n"], reused=True)
    snap = open_snapshot(p["snapshot"], days=p["days"])
    result = analyze(snap, images=p["images"], must_keep_guids=p["must_keep"],
                     must_keep_tags=p["must_keep_tags"], top_n=p["top_n"],
                     current_use_bytes=p["current_use_bytes"])
    return Prepared(snapshot_path=Path(snap.path or p["snapshot"]), result=result,
                    top_n=p["top_n"], _snapshot=snap)


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

__all__ = ["Prepared", "answers", "check_parameters", "counts", "downtime_facts", "facts",
           "frame", "growth_table", "important_table", "package_facts", "projection_table", "readiness_table", "licence_facts", "notebook_folder", "open_snapshot",
           "prepare", "preflight_results", "storage_facts", "storage_history", "usage_facts",
           "users_facts"]
