"""Storage endpoints (newer servers): server totals and per-content bundle bytes."""

from __future__ import annotations

from concurrent.futures import Executor

import pandas as pd

from .._paging import fetch_offset
from ..client import Client
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
    return frame([{"content_guid": r.get("content_guid"),
                   "bundle_count": get(r, "bundles", "count"),
                   "bytes_total": get(r, "bundles", "bytes_total"),
                   "bytes_active": get(r, "bundles", "bytes_active"),
                   "bytes_inactive": get(r, "bundles", "bytes_inactive")}
                  for r in items if isinstance(r, dict)], "content_storage")
