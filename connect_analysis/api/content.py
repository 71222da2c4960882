"""Content, bundles, tags and vanity URLs."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

import msgspec
import pandas as pd
import pyarrow as pa

from .. import __version__, schema
from .._keyguard import segment
from ..client import Client, Version
from ..errors import ConnectError, NotFoundError
from ._rows import columns_frame, frame
from .storage import sort_storage

log = logging.getLogger(__name__)

CONTENT_COLUMNS = (
    "guid", "id", "name", "title", "description", "app_mode", "content_category", "access_type",
    "owner_guid", "created_time", "last_deployed_time", "bundle_id", "r_version", "py_version",
    "quarto_version", "cluster_name", "image_name", "run_as", "run_as_current_user", "content_url",
    "dashboard_url", "vanity_url", "locked", "r_environment_management", "py_environment_management",
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


DIGESTS = "connect-analysis:content-digests"  # content.parquet's metadata key for ContentList.digests


def _salt() -> str:
    """What decides the rows an item's JSON gives: the code that decodes it (this module,
    _rows and schema) and the libraries under it. Digests written under another are not reused."""
    from . import _rows
    try:
        code = b"".join(Path(f).read_bytes() for f in (__file__, _rows.__file__, schema.__file__))
    except (OSError, TypeError, AttributeError):  # not installed as files: the versions only
        code = b""
    return (f"{__version__} {hashlib.sha1(code).hexdigest()[:12]} pandas {pd.__version__} "
            f"pyarrow {pa.__version__} msgspec {msgspec.__version__}")


_SALT = _salt()


@dataclass
class ContentList:
    """The content list as tables, and the digest of each item's JSON (row order)."""

    content: pd.DataFrame
    tags: pd.DataFrame
    digests: list[bytes] | None  # None: the body was not a plain list
    unchanged: bool = False  # every item as it was in the previous snapshot, in the same order

    def metadata(self) -> dict[str, str]:
        """The digests as content.parquet metadata (SHA-1 of each item's JSON, 16 bytes each)."""
        if self.digests is None:
            return {}
        return {DIGESTS: _SALT + "\n" + base64.b64encode(b"".join(self.digests)).decode()}

    @classmethod
    def previous(cls, content: pd.DataFrame, tags: pd.DataFrame, metadata: dict) -> ContentList | None:
        """A snapshot's list with the digests from its metadata; None when they are missing,
        were written by other code, or do not match the rows."""
        salt, _, value = metadata.get(DIGESTS.encode(), b"").decode(errors="replace").partition("\n")
        if salt != _SALT or not content["guid"].is_unique:
            return None
        try:
            packed = base64.b64decode(value, validate=True)
        except ValueError:
            return None
        digests = [packed[i:i + 16] for i in range(0, len(packed), 16)]
        if len(packed) != 16 * len(content):
            return None
        return cls(content, tags, digests)


def include(version: Version | None) -> str:
    """What the content list is asked to include: vanity URLs too on 2024.06+ (or when the
    version is hidden; an older server's 400 then gets the list asked for again without)."""
    return "tags,owner" if version is not None and not version.at_least("2024.06.0") else "tags,owner,vanity_url"


def fetch_content(client: Client, version: Version | None,
                  previous: Callable[[], ContentList | None] | None = None) -> ContentList:
    """Every content item the key may see, and each item's tags.

    Asks for owner and tags inline (one request); vanity URLs too on 2024.06+, where
    `include=vanity_url` exists. previous() may give the previous snapshot's list: an
    item whose JSON is byte for byte what it was then keeps its rows, undecoded.
    """
    include_ = include(version)
    try:
        raws = client.get_json("v1/content", {"include": include_}, into=list[msgspec.Raw])
    except ConnectError as e:
        if e.status != 400 or "vanity_url" not in include_:
            raise
        raws = client.get_json("v1/content", {"include": "tags,owner"}, into=list[msgspec.Raw])  # older, version hidden
    if not isinstance(raws, list) or (raws and not isinstance(raws[0], msgspec.Raw)):  # another shape: decoded
        return _unique(ContentList(*_frames([i for i in _items(raws) if i is not None and i.guid]), None))
    digests = [hashlib.sha1(r).digest()[:16] for r in raws]
    old = previous() if previous else None
    if old is not None and old.digests == digests:
        return ContentList(old.content, old.tags, digests, unchanged=True)
    listed = _listed(raws, digests, old)
    if old is not None and not listed.content["guid"].is_unique:  # tags are matched by guid:
        listed = _listed(raws, digests, None)  # decode every item instead
    return _unique(listed)


def _unique(listed: ContentList) -> ContentList:
    """The list with each GUID once (the first), warning when the server listed one twice."""
    twice = listed.content["guid"].duplicated().to_numpy()
    if not twice.any():
        return listed
    log.warning("the server listed %d content item(s) more than once; each is kept once", int(twice.sum()))
    digests = None if listed.digests is None else [d for d, t in zip(listed.digests, twice, strict=True) if not t]
    return ContentList(listed.content[~twice].reset_index(drop=True),
                       listed.tags.drop_duplicates().reset_index(drop=True), digests)


def _listed(raws: list[msgspec.Raw], digests: list[bytes], old: ContentList | None) -> ContentList:
    """The list from each item's JSON: decoded, or the previous rows of an item whose JSON
    has the same digest."""
    known = {d: i for i, d in enumerate(old.digests)} if old is not None else {}
    at = [known.get(d) for d in digests]
    fresh = iter(_decode([r for r, i in zip(raws, at, strict=True) if i is None]))
    base = len(old.content) if old is not None else 0
    items, rows, kept = [], [], []  # decoded items; per row: its place in old + decoded; its digest
    for d, i in zip(digests, at, strict=True):
        if i is None:
            item = next(fresh)
            if item is None or not item.guid:
                continue
            i = base + len(items)
            items.append(item)
        rows.append(i)
        kept.append(d)
    content, tags = _frames(items)
    if old is not None:  # unchanged items' rows and tags from the previous list, the others decoded
        content, tags = _merged(old, content, tags, rows)
    return ContentList(content, tags, kept)


def _frames(items: list) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(content, content_tags) of decoded items."""
    columns = {k: list(map(attrgetter(k), items)) for k in CONTENT_COLUMNS}
    columns["owner_username"] = [o and o.username for o in map(attrgetter("owner"), items)]
    tagged = [(i.guid, t) for i in items if i.tags for t in i.tags]
    tags = {"content_guid": [g for g, _ in tagged], "tag_id": [t.id for _, t in tagged],
            "tag_name": [t.name for _, t in tagged]}
    return columns_frame(columns, len(items), "content"), columns_frame(tags, len(tagged), "content_tags")


def _merged(old: ContentList, content: pd.DataFrame, tags: pd.DataFrame,
            rows: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rows `rows` of the previous content followed by the decoded `content`, and each
    row's tags (from the same source), in the order of `rows`."""
    n = len(old.content)
    both = pd.concat([old.content, content], ignore_index=True)
    all_tags = pd.concat([old.tags, tags], ignore_index=True)
    by_row: dict[tuple[bool, str], list[int]] = {}
    for j, g in enumerate(all_tags["content_guid"].tolist()):
        by_row.setdefault((j >= len(old.tags), g), []).append(j)
    guids = both["guid"].tolist()
    tag_rows = [j for i in rows for j in by_row.get((i >= n, guids[i]), ())]
    return (both.take(rows).reset_index(drop=True),
            all_tags.take(tag_rows).reset_index(drop=True))


def _decode(raws: list[msgspec.Raw]) -> list:
    """Items' JSON as _Items (None for one that is not an object)."""
    if not raws:
        return []
    body = b"[" + b",".join(raws) + b"]"
    try:
        return msgspec.json.decode(body, type=list[_Item])
    except msgspec.DecodeError:  # an odd element, owner or tag (or a number beyond a double): item by item
        return _items(json.loads(body))


def _items(body) -> list:
    """Decoded JSON as _Items, one per element (None for one that is not an object): an
    odd owner is none, odd tags are dropped."""
    if not isinstance(body, list):
        return []
    return [msgspec.convert({**i, "owner": i["owner"] if isinstance(i.get("owner"), dict) else None,
                             "tags": [t for t in i["tags"] if isinstance(t, dict)]
                             if isinstance(i.get("tags"), list) else None}, _Item)
            if isinstance(i, dict) else None for i in body]


def fetch_bundles(client: Client, content_guid: str) -> list[dict] | None:
    """One content item's bundles as bundles-table rows; None when the item is gone."""
    try:
        items = client.get_json(f"v1/content/{segment(content_guid)}/bundles")
    except NotFoundError:
        return None  # deleted while we were fetching
    return [{"content_guid": content_guid, "bundle_id": b.get("id"), "created_time": b.get("created_time"),
             "active": b.get("active"), "size": b.get("size")}
            for b in (items or []) if isinstance(b, dict)]


def fetch_tags(client: Client) -> pd.DataFrame:
    """Every tag (categories included)."""
    items = client.get_json("v1/tags") or []
    return frame(items, "tags")


def fetch_vanities(client: Client) -> pd.DataFrame:
    """Every vanity URL on the server (administrators only)."""
    items = client.get_json("v1/vanities") or []
    return frame(items, "vanities")


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
