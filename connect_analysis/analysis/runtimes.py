"""Runtime inventory: the R, Python and Quarto versions content uses, against what the server has.

A version is "in use" when deployed content (bundle_id not null) recorded it; never-deployed
content has nothing to run yet and is left out.
"""

from __future__ import annotations

import pandas as pd

from .versions import VERSION_MATCHING, best_match, sort_versions

LANGUAGES = ("r", "python", "quarto")
VERSION_COLUMN = {"r": "r_version", "python": "py_version", "quarto": "quarto_version"}
LABEL = {"r": "R", "python": "Python", "quarto": "Quarto"}

RUNTIME_COLUMNS = ["language", "version", "content_count", "events", "usage_share",
                   "installed", "served_by", "missing_on_server"]


def deployed(content: pd.DataFrame) -> pd.Series:
    """True for content with an active bundle (bundle_id not null)."""
    return content["bundle_id"].notna()


def installed_versions(server_runtimes: pd.DataFrame) -> dict[str, list[str]]:
    """{language: [version, ...]} installed on the server, sorted as versions."""
    lang = server_runtimes["language"].str.lower()
    return {lg: sort_versions(server_runtimes.loc[lang == lg, "version"].dropna()) for lg in LANGUAGES}


def runtime_inventory(content: pd.DataFrame, events: pd.Series, server_runtimes: pd.DataFrame,
                      server_runtimes_known: bool = True,
                      rule: str = VERSION_MATCHING) -> pd.DataFrame:
    """One row per (language, version) in use or installed; columns RUNTIME_COLUMNS.

    content_count: deployed content that recorded the version; events: their usage events in
    the window; usage_share: events / all events on existing content (0..1); installed: this
    exact version is installed on the server; served_by: the installed version that would run
    it under the matching rule; missing_on_server: in use and nothing installed matches
    (null when the server's runtimes could not be read).
    """
    installed = installed_versions(server_runtimes)
    is_deployed = deployed(content)
    total_events = int(events.sum())
    rows = []
    for lang in LANGUAGES:
        col = content[VERSION_COLUMN[lang]]
        use = is_deployed & col.notna()
        counts = col[use].value_counts()
        ev = events[use].groupby(col[use]).sum()
        for version in sort_versions(list(counts.index) + installed[lang]):
            n = int(counts.get(version, 0))
            served = best_match(version, installed[lang], rule)
            rows.append({
                "language": lang,
                "version": version,
                "content_count": n,
                "events": int(ev.get(version, 0)),
                "usage_share": (float(ev.get(version, 0)) / total_events) if total_events else 0.0,
                "installed": version in installed[lang],
                "served_by": served,
                "missing_on_server": (n > 0 and served is None) if server_runtimes_known else None,
            })
    out = pd.DataFrame(rows, columns=RUNTIME_COLUMNS)
    return out.astype({"language": "string", "version": "string", "content_count": "int64",
                       "events": "int64", "usage_share": "float64", "installed": "bool",
                       "served_by": "string", "missing_on_server": "boolean"})


def runtimes_summary(inventory: pd.DataFrame, server_runtimes_known: bool = True) -> dict:
    """{language: {in_use: {version: content count}, installed: [...], missing_on_server: [...]}}.

    missing_on_server is null when the server's runtimes could not be read.
    """
    out = {}
    for lang in LANGUAGES:
        rows = inventory[inventory["language"] == lang]
        used = rows[rows["content_count"] > 0]
        out[lang] = {
            "in_use": {str(v): int(n) for v, n in zip(used["version"], used["content_count"], strict=True)},
            "installed": [str(v) for v in rows.loc[rows["installed"], "version"]],
            "missing_on_server": ([str(v) for v in used.loc[used["missing_on_server"].fillna(False).astype(bool), "version"]]
                                  if server_runtimes_known else None),
        }
    return out


def no_runtime_by_app_mode(content: pd.DataFrame) -> dict[str, int]:
    """{app_mode: count} of deployed content with no R, Python or Quarto version recorded."""
    none = deployed(content)
    for col in VERSION_COLUMN.values():
        none &= content[col].isna()
    modes = content.loc[none, "app_mode"].fillna("unknown")
    return {str(k): int(v) for k, v in sorted(modes.value_counts().items())}


def runtimes_label(row) -> str:
    """ "R 4.3.2; Python 3.11.9" for a content row; empty when it records none."""
    parts = []
    for lang in LANGUAGES:
        v = row.get(VERSION_COLUMN[lang])
        if isinstance(v, str) and v:
            parts.append(f"{LABEL[lang]} {v}")
    return "; ".join(parts)
