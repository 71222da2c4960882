"""After the move: is the important content of the old server present and runnable on the new one?

For each important item of the old snapshot (as analyze() picks it): missing on the new server,
a different active bundle, or a runtime version the new server lacks (installed runtimes plus
execution environments, under the version-matching rule).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .output import csv_text, write_atomic
from .runtimes import LABEL, LANGUAGES, VERSION_COLUMN, installed_versions
from .summary import plain, server_info
from .versions import VERSION_MATCHING, best_match, sort_versions

COMPARE_COLUMNS = ["guid", "title", "reason", "status", "missing", "old_bundle_id", "new_bundle_id",
                   "bundle_differs", "runtimes_lacking", "new_content_url"]
COMPARE_CSV = "compare.csv"
COMPARE_SUMMARY = "compare-summary.json"


def new_server_runtimes(snapshot) -> dict[str, list[str]] | None:
    """{language: [versions]} the server can run: installations plus environment runtimes.

    None when the snapshot could read neither.
    """
    unavailable = snapshot.unavailable
    if "server_runtimes" in unavailable and "environment_runtimes" in unavailable:
        return None
    installed = installed_versions(snapshot.server_runtimes)
    env = snapshot.environment_runtimes
    lang = env["language"].str.lower()
    return {lg: sort_versions(installed[lg] + list(env.loc[lang == lg, "version"].dropna()))
            for lg in LANGUAGES}


def compare_important(old_result, old_snapshot, new_snapshot, rule: str = VERSION_MATCHING) -> pd.DataFrame:
    """One row per important item of the old server; columns COMPARE_COLUMNS.

    status: "missing", "changed" (different bundle and/or a lacking runtime) or "ok".
    runtimes_lacking: "Python 3.8.10; R 3.6.3" (null when the new server's runtimes are unknown).
    """
    old = old_snapshot.content.drop_duplicates("guid").set_index("guid")
    new = new_snapshot.content.drop_duplicates("guid").set_index("guid")
    runtimes = new_server_runtimes(new_snapshot)
    rows = []
    for item in old_result.important_content.itertuples(index=False):
        g = item.guid
        present = g in new.index
        old_bundle = _s(old.at[g, "bundle_id"]) if g in old.index else None
        new_bundle = _s(new.at[g, "bundle_id"]) if present else None
        lacking = None
        if runtimes is not None and g in old.index:
            lacking = "; ".join(
                f"{LABEL[lg]} {v}" for lg in LANGUAGES
                if (v := _s(old.at[g, VERSION_COLUMN[lg]])) and best_match(v, runtimes[lg], rule) is None)
        differs = present and old_bundle != new_bundle
        status = "missing" if not present else ("changed" if differs or lacking else "ok")
        rows.append({
            "guid": g, "title": item.title, "reason": item.reason, "status": status, "missing": not present,
            "old_bundle_id": old_bundle, "new_bundle_id": new_bundle, "bundle_differs": bool(differs),
            "runtimes_lacking": lacking, "new_content_url": _s(new.at[g, "content_url"]) if present else None,
        })
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS).astype(
        {"missing": "bool", "bundle_differs": "bool", "runtimes_lacking": "string"})


def compare_snapshots(old_dir, new_dir, out_dir, **options) -> pd.DataFrame:
    """Compare two snapshot directories; write out_dir/compare.csv and compare-summary.json.

    options go to analyze() for the old snapshot (top_n, must_keep_guids, must_keep_tags, ...).
    """
    from .core import analyze, load_for_analysis

    old_snap = load_for_analysis(old_dir)
    new_snap = load_for_analysis(new_dir)
    old_result = analyze(old_snap, **options)
    table = compare_important(old_result, old_snap, new_snap,
                              options.get("version_matching", VERSION_MATCHING))
    summary = {
        "old_server": server_info(old_snap.manifest, old_snap.server_settings),
        "new_server": server_info(new_snap.manifest, new_snap.server_settings),
        "checked": len(table),
        "missing": int(table["missing"].sum()),
        "bundle_differs": int(table["bundle_differs"].sum()),
        "runtimes_lacking": int(table["runtimes_lacking"].fillna("").ne("").sum()),
        "ok": int((table["status"] == "ok").sum()),
        "new_server_runtimes_known": new_server_runtimes(new_snap) is not None,
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / COMPARE_CSV, csv_text(table))
    write_atomic(out / COMPARE_SUMMARY, json.dumps(plain(summary), indent=2, ensure_ascii=False) + "\n")
    return table


def _s(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)
