"""Packages each content item depends on (2024.11+): the paged /v1/packages when the key
may read it, else one /v1/content/{guid}/packages call per deployed item."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor

import pandas as pd

from .._keyguard import segment
from .._paging import fetch_offset
from ..client import Client
from ..errors import ConnectError, NotFoundError
from ._rows import frame, text

BIG_PAGE = 100_000  # connectapi's page size for /v1/packages


def fetch_all_packages(client: Client, content: pd.DataFrame, pool: Executor | None = None) -> pd.DataFrame:
    """Packages of every item's active bundle, from /v1/packages (one paged list).

    The list covers every bundle; rows of bundles other than an item's active one are
    dropped so both endpoints give the same table.
    """
    try:  # posit-sdk and connectapi ask for everything in one page; most servers allow it
        items = fetch_offset(client, "v1/packages", page_size=BIG_PAGE, pool=pool)
    except ConnectError as e:
        if e.status != 400:
            raise
        items = fetch_offset(client, "v1/packages", page_size=500, pool=pool)  # a server with a cap
    active = dict(zip(content["guid"], content["bundle_id"], strict=True))
    rows = []
    for p in items:
        if not isinstance(p, dict):
            continue
        guid = text(p.get("content_guid") or p.get("app_guid"))
        bundle = text(p.get("bundle_id"))
        if guid not in active:
            continue  # content deleted, or not visible to this key
        if bundle is not None and active[guid] is not pd.NA and bundle != active[guid]:
            continue
        rows.append(_row(guid, p))
    return tidy(frame(rows, "packages"))


def fetch_content_packages(client: Client, content_guid: str) -> list[dict] | None:
    """One item's packages as rows; None when the item is gone or not deployed."""
    try:
        items = client.get_json(f"v1/content/{segment(content_guid)}/packages")
    except NotFoundError:
        return None
    return [_row(content_guid, p) for p in (items or []) if isinstance(p, dict)]


def fetch_packages_per_content(client: Client, guids: list[str], pool: Executor,
                               on_item: Callable[[], None] | None = None) -> pd.DataFrame:
    """Packages by one call per content item, on the pool."""
    def one(guid):
        rows = fetch_content_packages(client, guid)
        if on_item:
            on_item()
        return rows or []

    rows = [r for part in pool.map(one, guids) for r in part]
    return tidy(frame(rows, "packages"))


def _row(guid, p: dict) -> dict:
    language = p.get("language")
    return {"content_guid": guid, "language": language.lower() if isinstance(language, str) else None,
            "name": p.get("name"), "version": p.get("version")}


def tidy(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop_duplicates()
    return df.sort_values(list(df.columns), kind="stable", na_position="first").reset_index(drop=True)
