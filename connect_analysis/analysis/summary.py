"""summary.json: the snapshot's facts the report and the CLI print, as plain JSON values.

Also where the snapshot's manifest is read for the server, the usage window and "now".
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..timestamps import iso
from .usage import Window


def server_info(manifest: dict, server_settings: dict) -> dict:
    """{url, version} of the server the snapshot was fetched from (null when unknown)."""
    server = manifest.get("server")
    url = version = None
    if isinstance(server, dict):
        url, version = server.get("url"), server.get("version")
    elif isinstance(server, str):
        url = server
    url = url or manifest.get("server_url")
    version = version or manifest.get("server_version") or (server_settings or {}).get("version")
    return {"url": url if isinstance(url, str) else None,
            "version": str(version) if version not in (None, "") else None}


def snapshot_window(manifest: dict) -> Window:
    """The usage window the fetch asked for, from the manifest (either end None when absent)."""
    w = manifest.get("window") or manifest.get("usage_window") or {}
    if not isinstance(w, dict):
        w = {}
    start = w.get("start", w.get("from", manifest.get("since")))
    end = w.get("end", w.get("to", manifest.get("until")))
    return Window(_utc(start), _utc(end))


def default_now(manifest: dict, window: Window) -> pd.Timestamp:
    """"now" for days-left and projections: the window end, else fetched-at, else the clock."""
    for candidate in (window.end, _utc(manifest.get("fetched_at")), _utc(manifest.get("fetched"))):
        if candidate is not None:
            return candidate
    return pd.Timestamp.now(tz="UTC")


def plain(value):
    """value with numpy/pandas scalars, NA and timestamps turned into JSON-safe Python values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return iso(value)
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if math.isnan(value) else float(value)
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    return value


def _utc(value) -> pd.Timestamp | None:
    if value is None or value == "":
        return None
    try:
        t = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if pd.isna(t):
        return None
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
