"""Content, bundles, tags and vanity URLs."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path

import msgspec
import pandas as pd
import pyarrow as pa

from .. import __version__, schema
from .._keyguard import segment
from .._paging import fetch_listed
from ..client import Client, Version
from ..errors import ConnectError, NotFoundError
from ._rows import columns_frame, frame
from .storage import sort_storage
from .users import fetch_users

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


SALT = _salt()  # a refresh reuses digests written under the same (refresh.previous_content_list)


@dataclass
class ContentList:
    """The content list as tables, and the digest of each item's JSON (row order)."""

    content: pd.DataFrame
    tags: pd.DataFrame
    digests: list[bytes] | None  # None: the body was not a plain list
    unchanged: bool = False  # every item as it was in the previous snapshot, in the same order
    missing: tuple[str, ...] = ()  # "owner" / "tags": asked for with include=, and not in the list

    def metadata(self) -> dict[str, str]:
        """The digests as content.parquet metadata (SHA-1 of each item's JSON, 16 bytes each)."""
        if self.digests is None:
            return {}
        return {DIGESTS: SALT + "\n" + base64.b64encode(b"".join(self.digests)).decode()}


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
    missing = _missing(raws)
    if not isinstance(raws, list) or (raws and not isinstance(raws[0], msgspec.Raw)):  # another shape: decoded
        return _unique(ContentList(*_frames([i for i in _items(raws) if i is not None and i.guid]), None,
                                   missing=missing))
    digests = [hashlib.sha1(r).digest()[:16] for r in raws]
    if missing:  # to be filled in another way (fill_missing): decode all, reuse nothing
        listed = _listed(raws, digests, None)
        listed.missing = missing
        return listed
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


_KEY = {name: re.compile(rb'"' + name.encode() + rb'"\s*:') for name in ("owner", "tags")}


def _missing(body) -> tuple[str, ...]:
    """Which of owner and tags no item of a non-empty list has (a server that ignores
    include=, which the 2023.09 reference does not list). A quote inside a JSON string is
    escaped, so `"owner":` in an item's text is its key."""
    if not isinstance(body, list) or not body:
        return ()
    if not isinstance(body[0], msgspec.Raw):
        return tuple(k for k in _KEY if not any(isinstance(i, dict) and k in i for i in body))
    return tuple(k for k, key in _KEY.items() if not any(key.search(r) for r in body))


def fill_missing(client: Client, listed: ContentList, pool: Executor | None = None) -> tuple[ContentList, dict]:
    """The list with owners and tags it came without, read another documented way: owners
    from the users table by owner_guid, tags from GET /v1/tags/{id}/content per tag. Returns
    (list, {"content_owner" / "content_tags": how each was read, or why it could not be})."""
    content, tags, how = listed.content, listed.tags, {}
    if "owner" in listed.missing:
        why = "the content list came without owner although include=owner was asked"
        try:
            users = fetch_users(client, pool)
            names = dict(zip(users["guid"], users["username"], strict=True))
            content = content.assign(owner_username=content["owner_guid"].map(names).astype(
                content["owner_username"].dtype))
            how["content_owner"] = f"the users table joined on owner_guid ({why})"
        except ConnectError as e:
            how["content_owner"] = f"missing: {why}, and the users table could not be read: {e}"
    if "tags" in listed.missing:
        why = "the content list came without tags although include=tags was asked"
        try:
            tags = _tags_by_tag(client, content["guid"], pool)
            how["content_tags"] = f"GET /v1/tags/{{id}}/content per tag ({why})"
        except ConnectError as e:
            how["content_tags"] = f"missing: {why}, and the tags could not be read another way: {e}"
    return ContentList(content, tags, listed.digests, missing=listed.missing), how


def _tags_by_tag(client: Client, guids: pd.Series, pool: Executor | None) -> pd.DataFrame:
    """content_tags rows from each tag's content list, in content order, then tag order."""
    all_tags = [t for t in client.get_json("v1/tags") or [] if isinstance(t, dict) and t.get("id") is not None]

    def items(tag):
        return [i.get("guid") for i in client.get_json(f"v1/tags/{tag['id']}/content") or [] if isinstance(i, dict)]

    lists = list(pool.map(items, all_tags)) if pool else [items(t) for t in all_tags]
    order = {g: n for n, g in enumerate(guids)}
    rows = sorted(((order[g], k, g, t) for k, (t, gs) in enumerate(zip(all_tags, lists, strict=True))
                   for g in gs if g in order), key=lambda r: r[:2])
    return frame([{"content_guid": g, "tag_id": t["id"], "tag_name": t.get("name")} for _, _, g, t in rows],
                 "content_tags")


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
    """One content item's bundles as bundles-table rows, every page of them; None when the
    item is gone. The rows' `complete` is False when the list could not be read to its end."""
    try:
        items, complete = fetch_listed(client, f"v1/content/{segment(content_guid)}/bundles",
                                       key=lambda b: b.get("id") if isinstance(b, dict) else id(b))
    except NotFoundError:
        return None  # deleted while we were fetching
    return [{"content_guid": content_guid, "bundle_id": b.get("id"), "created_time": b.get("created_time"),
             "active": b.get("active"), "size": b.get("size"), "complete": complete}
            for b in (items or []) if isinstance(b, dict)]


def cut_short(bundles: pd.DataFrame, content: pd.DataFrame, incomplete: set[str]) -> list[str]:
    """Guids of items whose bundle list looks cut short: not read to its end, or without the
    item's active bundle (content.bundle_id), which every whole list holds."""
    listed = set(zip(bundles["content_guid"], bundles["bundle_id"].astype(str), strict=True))
    deployed = content[content["bundle_id"].notna()]
    missing = {g for g, b in zip(deployed["guid"], deployed["bundle_id"].astype(str), strict=True)
               if (g, b) not in listed}
    return sorted(missing | incomplete)


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
