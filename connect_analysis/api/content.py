"""Content, bundles, tags and vanity URLs."""

from __future__ import annotations

from operator import attrgetter

import msgspec
import pandas as pd

from ..client import Client, Version
from ..errors import ConnectError, NotFoundError
from ._rows import columns_frame, frame
from .storage import sort_storage

CONTENT_COLUMNS = (
    "guid", "id", "name", "title", "description", "app_mode", "content_category", "access_type",
    "owner_guid", "created_time", "last_deployed_time", "bundle_id", "r_version", "py_version",
    "quarto_version", "cluster_name", "image_name", "run_as", "run_as_current_user", "content_url",
    "dashboard_url", "vanity_url", "locked",
)


# One item of the content list, only the fields kept; any JSON value is accepted in a
# field and cleaned up column by column. Structs decode far faster than dicts (gc=False:
# no cycle-collector work for the 20,000 items and their tags).
class _Owner(msgspec.Struct, gc=False):
    username: object = None


class _Tag(msgspec.Struct, gc=False):
    id: object = None
    name: object = None


_Item = msgspec.defstruct("_Item", [(k, object, None) for k in CONTENT_COLUMNS]
                          + [("owner", _Owner | None, None), ("tags", list[_Tag] | None, None)], gc=False)


def fetch_content(client: Client, version: Version | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every content item the key may see, and each item's tags: (content, content_tags).

    Asks for owner and tags inline (one request); vanity URLs too on 2024.06+, where
    `include=vanity_url` exists.
    """
    include = "tags,owner"
    if version is None or version.at_least("2024.06.0"):
        include += ",vanity_url"
    try:
        items = client.get_json("v1/content", {"include": include}, into=list[_Item])
    except ConnectError as e:
        if e.status != 400 or "vanity_url" not in include:
            raise
        items = client.get_json("v1/content", {"include": "tags,owner"}, into=list[_Item])  # older, version hidden
    items = [i for i in _items(items) if i.guid]
    columns = {k: list(map(attrgetter(k), items)) for k in CONTENT_COLUMNS}
    columns["owner_username"] = [o and o.username for o in map(attrgetter("owner"), items)]
    tagged = [(i.guid, t) for i in items if i.tags for t in i.tags]
    tags = {"content_guid": [g for g, _ in tagged], "tag_id": [t.id for _, t in tagged],
            "tag_name": [t.name for _, t in tagged]}
    return columns_frame(columns, len(items), "content"), columns_frame(tags, len(tagged), "content_tags")


def _items(body) -> list:
    """The list as _Items: a body that did not decode as one (an odd element, owner or
    tag) is kept item by item, every object in it, an odd owner as none."""
    if isinstance(body, list) and all(isinstance(i, _Item) for i in body):
        return body
    objects = [{**i, "owner": i["owner"] if isinstance(i.get("owner"), dict) else None,
                "tags": [t for t in i["tags"] if isinstance(t, dict)] if isinstance(i.get("tags"), list) else None}
               for i in (body if isinstance(body, list) else []) if isinstance(i, dict)]
    return msgspec.convert(objects, list[_Item])


def fetch_bundles(client: Client, content_guid: str) -> list[dict] | None:
    """One content item's bundles as bundles-table rows; None when the item is gone."""
    try:
        items = client.get_json(f"v1/content/{content_guid}/bundles")
    except NotFoundError:
        return None  # deleted while we were fetching
    return [{"content_guid": content_guid, "bundle_id": b.get("id"), "created_time": b.get("created_time"),
             "active": b.get("active"), "size": b.get("size")}
            for b in (items or []) if isinstance(b, dict)]


def fetch_tags(client: Client) -> pd.DataFrame:
    """Every tag (categories included)."""
    items = client.get_json("v1/tags") or []
    return frame([{k: t.get(k) for k in ("id", "name", "parent_id", "created_time", "updated_time")}
                  for t in items if isinstance(t, dict)], "tags")


def fetch_vanities(client: Client) -> pd.DataFrame:
    """Every vanity URL on the server (administrators only)."""
    items = client.get_json("v1/vanities") or []
    return frame([{"content_guid": v.get("content_guid"), "path": v.get("path"),
                   "created_time": v.get("created_time")} for v in items if isinstance(v, dict)], "vanities")


def bundle_frame(rows: list[dict]) -> pd.DataFrame:
    return frame(rows, "bundles")


def storage_from_bundles(bundles: pd.DataFrame, content_guids) -> pd.DataFrame:
    """content_storage rows summed from per-bundle sizes (bytes), one row per content item."""
    b = bundles.assign(size=bundles["size"].fillna(0), active=bundles["active"].fillna(False))
    grouped = b.groupby("content_guid", sort=False)
    summary = pd.DataFrame({
        "bundle_count": grouped.size(),
        "bytes_total": grouped["size"].sum(),
        "bytes_active": b[b["active"]].groupby("content_guid")["size"].sum(),
    }).reindex(pd.Index(list(content_guids), dtype="string", name="content_guid")).fillna(0)
    summary["bytes_inactive"] = summary["bytes_total"] - summary["bytes_active"]
    rows = summary.reset_index().to_dict("records")
    return sort_storage(frame(rows, "content_storage"))
