"""Storage endpoints (newer servers): server totals and per-content bundle bytes."""

from __future__ import annotations

from concurrent.futures import Executor

import pandas as pd

from .._keyguard import segment
from .._paging import fetch_offset
from ..client import Client
from ..errors import NotFoundError
from ._rows import frame, get


def fetch_system_storage(client: Client) -> dict:
    """Server-wide bundle storage: {bytes_total, bytes_active, bytes_inactive, count, content_count}."""
    body = client.get_json("v1/system/storage") or {}
    bundles = body.get("bundles") if isinstance(body, dict) else None
    return dict(bundles) if isinstance(bundles, dict) else {}


def fetch_content_storage(client: Client, pool: Executor | None = None) -> pd.DataFrame:
    """Bundle bytes per content item from the paged /v1/content/storage."""
    items = fetch_offset(client, "v1/content/storage", page_size=500, pool=pool,
                         key=lambda r: r.get("content_guid"))
    return sort_storage(frame([{"content_guid": r.get("content_guid"),
                                 "bundle_count": get(r, "bundles", "count"),
                                 "bytes_total": get(r, "bundles", "bytes_total"),
                                 "bytes_active": get(r, "bundles", "bytes_active"),
                                 "bytes_inactive": get(r, "bundles", "bytes_inactive")}
                                for r in items if isinstance(r, dict)], "content_storage"))


def fetch_one_content_storage(client: Client, content_guid: str) -> dict | None:
    """One item's bundle bytes from /v1/content/{guid}/storage; None when it is gone."""
    try:
        r = client.get_json(f"v1/content/{segment(content_guid)}/storage") or {}
    except NotFoundError:
        return None
    return {"content_guid": content_guid, "bundle_count": r.get("bundle_count"),
            "bytes_total": r.get("bundle_bytes_total"), "bytes_active": r.get("bundle_bytes_active"),
            "bytes_inactive": r.get("bundle_bytes_inactive")}


def sort_storage(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("content_guid", kind="stable").reset_index(drop=True)


def adds_up(df: pd.DataFrame, system: dict | None) -> bool:
    """Whether per-item rows sum to the server's totals (bundle count and bytes)."""
    if not system:
        return False
    pairs = (("bundle_count", "count"), ("bytes_total", "bytes_total"), ("bytes_active", "bytes_active"))
    try:
        return all(int(df[col].fillna(0).sum()) == int(system[key]) for col, key in pairs)
    except (KeyError, TypeError, ValueError):
        return False
