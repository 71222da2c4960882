"""What the report notebooks call: check the parameters, find the snapshot, run the analysis,
and turn the summary into the answers table. Notebook cells stay one line each.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from ..options import AnalysisOptions, fields_by_name
from ..tables import Table, human_bytes, key_values

# the default `snapshot` parameter, relative to notebooks/ (Jupyter's working directory there)
DEMO_SNAPSHOT = "../demo-output/snapshot"


@dataclass
class Prepared:
    """A notebook's inputs, checked, and the analysis of its snapshot."""

    snapshot_path: Path
    snapshot: object  # connect_analysis.snapshot.Snapshot
    result: object  # connect_analysis.analysis result
    top_n: int

    @property
    def summary(self) -> dict:
        return self.result.summary


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
    """Load the snapshot at path (only the columns the analysis reads).

    The report never fetches: a missing snapshot is a SnapshotError saying how to make one.
    days is unused (kept for the notebooks' parameter of that name).
    """
    from ..analysis import load_for_analysis
    from ..errors import SnapshotError

    path = Path(path)
    if not (path / "manifest.json").exists():
        hint = ("make the demo snapshot with `make demo` (or `connect-analysis demo`)"
                if path.resolve() == Path(DEMO_SNAPSHOT).resolve() else
                "fetch one with `connect-analysis fetch --server URL --out DIR`")
        raise SnapshotError(f"no snapshot at {path}: {hint}, then pass its directory as the "
                            "`snapshot` parameter")
    return load_for_analysis(path)


def prepare(*, snapshot: str, days: int = 90, preflight: str = "", **options) -> Prepared:
    """Check the parameters, open the snapshot and analyse it (the notebooks' second cell).

    options: the AnalysisOptions fields, so a notebook given the options of `analyze` shows
    the same figures as summary.json."""
    from ..analysis import analyze

    p = check_parameters(snapshot=snapshot, days=days, preflight=preflight, **options)
    snap = open_snapshot(p["snapshot"], days=p["days"])
    result = analyze(snap, **p["options"].analyze_kwargs())
    return Prepared(snapshot_path=Path(snap.path or p["snapshot"]), snapshot=snap, result=result,
                    top_n=p["options"].top_n)


def answers(summary: dict) -> Table:
    """The answers the report opens with, one labelled line each (escaped)."""
    rows: list[tuple[str, object]] = []
    server = summary.get("server") or {}
    rows.append(("Server", f"{server.get('url') or '?'} (Connect {server.get('version') or '?'})"))
    content = summary.get("content") or {}
    rows.append(("Content items", f"{content.get('total', 0)} ({content.get('deployed', 0)} deployed, "
                                  f"{content.get('never_deployed', 0)} never deployed)"))
    for language, label in (("r", "R"), ("python", "Python"), ("quarto", "Quarto")):
        rt = (summary.get("runtimes") or {}).get(language) or {}
        in_use = rt.get("in_use") or {}
        missing = rt.get("missing_on_server") or []
        text = ", ".join(f"{v} ({n})" for v, n in in_use.items()) or "none"
        if missing:
            text += f" | missing on the server: {', '.join(map(str, missing))}"
        rows.append((f"{label} versions in use (content items)", text))
    images = summary.get("images") or {}
    if images:
        rows.append(("Images covering the content (smallest set, in order)",
                     ", ".join(map(str, images.get("minimal_set") or [])) or "none needed"))
        rows.append(("Content no image covers", images.get("content_not_covered", 0)))
    important = summary.get("important_content") or []
    rows.append(("Important content", f"{len(important)} items (listed below, with GUIDs and URLs)"))
    storage = summary.get("storage") or {}
    if storage:
        rows.append(("Shared storage: recommended capacity",
                     f"{human_bytes(storage.get('recommended_bytes') or 0)} "
                     f"(current use {human_bytes(storage.get('current_use_bytes') or 0)}; "
                     "max(100 GB, 2 x current use))"))
        rows.append(("Bundles", f"{storage.get('bundle_count', 0)} bundles, "
                                f"{human_bytes(storage.get('bundle_bytes_total') or 0)}"))
    downtime = summary.get("downtime") or {}
    if downtime.get("estimated_minutes") is not None:
        rows.append(("Migration time (estimate)", f"{downtime['estimated_minutes']} minutes for "
                     f"{downtime.get('content_to_rebuild', 0)} items to rebuild (assumptions below)"))
    run_as = summary.get("run_as") or {}
    custom = run_as.get("custom") or {}
    rows.append(("Run-as (custom Unix users)",
                 ", ".join(f"{u} ({n})" for u, n in custom.items()) or "none"))
    rows.append(("Run as the viewing user", run_as.get("current_user", 0)))
    rows.append(("Licence", _licence_text(summary.get("license"))))
    unavailable = summary.get("unavailable") or {}
    if unavailable:
        rows.append(("Not available from this server",
                     "; ".join(f"{k}: {v}" for k, v in unavailable.items())))
    return key_values(rows, caption="The answers")


def facts(mapping: dict | None, *, caption: str | None = None) -> Table:
    """A dict as labelled lines (nested dicts flattened to "outer: inner"), escaped."""
    rows: list[tuple[str, object]] = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}: {k}" if prefix else str(k), v)
        elif isinstance(value, list):
            rows.append((prefix, ", ".join(map(str, value)) or "none"))
        else:
            rows.append((prefix, value))

    walk("", mapping or {})
    if not rows:
        rows.append(("", "not available"))
    return key_values([(k.replace("_", " "), _bytes_if(k, v)) for k, v in rows], caption=caption)


def counts(mapping: dict | None, key: str, value: str = "content items") -> pd.DataFrame:
    """{name: count} as a two-column DataFrame, largest first."""
    items = sorted((mapping or {}).items(), key=lambda kv: (-kv[1], str(kv[0])))
    return pd.DataFrame(items, columns=[key, value])


def frame(records: list[dict] | None) -> pd.DataFrame:
    """A list of summary records (e.g. not-covered versions) as a DataFrame."""
    return pd.DataFrame(records or [])


def preflight_results(path: str) -> pd.DataFrame:
    """The results of `connect-analysis preflight --json` in path ("" : none), one row each."""
    if not path:
        return pd.DataFrame(columns=["name", "target", "ok", "detail", "fix"])
    from ..preflight_results import read_results

    return pd.DataFrame([r.to_dict() for r in read_results(path)],
                        columns=["name", "target", "ok", "detail", "fix"])


def important_links(df: pd.DataFrame) -> pd.DataFrame:
    """The important content's access paths: guid, title, content_url, vanity_url."""
    cols = [c for c in ("guid", "title", "content_url", "vanity_url", "reason") if c in df.columns]
    return df[cols]


def _bytes_if(key: str, value):
    if key.endswith("bytes") and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{human_bytes(value)} ({int(value):,} bytes)"
    return value


def _licence_text(licence) -> str:
    if not licence:
        return "not available"
    parts = []
    for key in ("status", "tier", "expiration", "expires", "days_left", "user_limit",
                "licensed_users", "users"):
        if licence.get(key) not in (None, ""):
            parts.append(f"{key.replace('_', ' ')}: {licence[key]}")
    return "; ".join(parts) or "present"
