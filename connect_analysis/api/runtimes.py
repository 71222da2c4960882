"""Runtimes: installations on the server, execution environments (images), runtime caches."""

from __future__ import annotations

import pandas as pd

from ..client import Client
from ..errors import UnsupportedError
from ._rows import frame, get

LANGUAGES = ("r", "python", "quarto")


def fetch_server_runtimes(client: Client) -> tuple[pd.DataFrame, list[str]]:
    """R, Python and Quarto installations: (rows, languages the server has no endpoint for)."""
    rows, missing = [], []
    for language in LANGUAGES:
        try:
            body = client.get_json(f"v1/server_settings/{language}") or {}
        except UnsupportedError:
            missing.append(language)  # e.g. quarto before 2021.08
            continue
        for inst in get(body, "installations", default=[]):
            if isinstance(inst, dict):
                rows.append({"language": language, "version": inst.get("version"),
                             "cluster_name": inst.get("cluster_name"), "image_name": inst.get("image_name")})
    return frame(rows, "server_runtimes"), missing


def fetch_environments(client: Client) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Execution environments (container images) and the runtimes each holds."""
    items = client.get_json("v1/environments") or []
    envs, runtimes = [], []
    for e in items:
        if not isinstance(e, dict):
            continue
        envs.append({k: e.get(k) for k in ("guid", "id", "title", "name", "cluster_name", "environment_type",
                                            "matching")})
        for language in LANGUAGES:
            for inst in get(e, language, "installations", default=[]):  # null or {"installations": []}
                if isinstance(inst, dict):
                    runtimes.append({"environment_guid": e.get("guid"), "language": language,
                                     "version": inst.get("version"), "path": inst.get("path")})
    return frame(envs, "environments"), frame(runtimes, "environment_runtimes")


def fetch_runtime_caches(client: Client) -> pd.DataFrame:
    """Runtime caches (language lower-cased: "R" -> "r")."""
    body = client.get_json("v1/system/caches/runtime") or {}
    caches = get(body, "caches", default=[])
    return frame([{"language": (c.get("language") or "").lower() or None, "version": c.get("version"),
                   "image_name": c.get("image_name")} for c in caches if isinstance(c, dict)],
                 "runtime_caches")
