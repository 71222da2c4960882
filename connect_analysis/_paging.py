"""Connect's two pagination schemes, in one place. Callers get complete lists of
records and never see a page.

Offset: `page_number` (from 1) / `page_size`; body {"results", "current_page", "total"}.
Listed: `page_number` / `page_size` on a plain array with no total (per-item bundle lists).
Cursor: `limit` / `next`; body {"results", "paging": {"cursors": {"next"}, "next": url}}.
Both tolerate absent or null paging keys and a server that answers with a plain array.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from urllib.parse import parse_qs, urlsplit

import msgspec

from .client import Client
from .errors import ServerError

MAX_PAGES = 1_000_000  # a guard against a server that never says "last page"
MAX_RECORDS = 20_000_000  # more than any one listing of a Connect server holds
BATCH = 32  # offset pages asked for at once


def _results(body) -> list:
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        return body.get("results") or []
    return []


def _total(body) -> int | None:
    if isinstance(body, dict):
        try:
            return int(body["total"]) if body.get("total") is not None else None
        except (TypeError, ValueError, OverflowError):  # not a number, or 1e400
            return None
    return None


def _digest(page: list) -> bytes:
    return hashlib.blake2b(msgspec.json.encode(page), digest_size=16).digest()


class _Guard:
    """Stops a listing that cannot end: a page seen before, more records than a listing can
    hold, a total the pages do not bear out."""

    def __init__(self, client: Client, path: str):
        self.client, self.path, self.seen, self.records = client, path, set(), 0

    def page(self, page: list, where: str) -> None:
        digest = _digest(page)
        if digest in self.seen:
            self.fail(f"sent a page it had sent before ({where}); the listing would never end")
        self.seen.add(digest)
        self.records += len(page)
        if self.records > MAX_RECORDS:
            self.fail(f"listed more than {MAX_RECORDS:,} records; the listing would never end")

    def fail(self, why: str):
        raise ServerError(f"{self.client.server} {why}: GET {self.path}; the fetch stopped")


def fetch_offset(client: Client, path: str, params: dict | None = None, *, page_size: int = 500,
                 pool: Executor | None = None, key: Callable[[dict], object] | None = None) -> list[dict]:
    """Every record of an offset-paged endpoint.

    Page 1 is read first; when the body says how many records there are, the next pages
    are read in parallel on pool (at most BATCH at a time). Pages are read on until one
    comes back empty, or until a short page completes the total, so a server that caps
    page_size or gives a low total still gives everything. key (optional) drops records
    seen twice when the list shifted between pages. ServerError for a listing that
    cannot end (see _Guard) or whose total is far above what its pages held.
    """
    params = dict(params or {})

    def get(n: int) -> list:
        return _results(client.get_json(path, {**params, "page_number": n, "page_size": page_size}))
    body = client.get_json(path, {**params, "page_number": 1, "page_size": page_size})
    first = _results(body)
    if isinstance(body, list) or not first:  # not paged, or empty
        return first
    total, per_page, guard = _total(body), len(first), _Guard(client, path)
    guard.page(first, "page 1")
    pages, number = [first], 2
    while not _ended(pages, total, per_page, guard.records):
        ahead = 1 if pool is None or total is None else min(BATCH, max(1, math.ceil(total / per_page) - number + 1))
        batch = [get(number)] if ahead == 1 else [f.result() for f in
                                                  [pool.submit(get, n) for n in range(number, number + ahead)]]
        for page in batch:
            if not page:
                pages.append(page)
                break
            if number == 2 and page == first:
                return _dedupe(first, key) if key else first  # the server ignores page_number
            guard.page(page, f"page {number}")
            pages.append(page)
            number += 1
    if total is not None and total > guard.records + per_page:
        guard.fail(f"said it holds {total:,} records, but its pages ended after {guard.records:,}")
    records = [r for page in pages for r in page]
    return _dedupe(records, key) if key else records


def fetch_listed(client: Client, path: str, params: dict | None = None, *, page_size: int = 500,
                 default_size: int = 20, key: Callable[[dict], object] | None = None) -> tuple[list, bool]:
    """(every record, whether the list is known complete) of an endpoint answering a plain
    array a page at a time, with no total: Connect documents page_size (default 20) on a
    content item's bundles, and a server may apply its own page size whatever was asked.

    A first page of `default_size` or more records may be one of several: the next pages are
    read while each is as long as the first (the server's page size), until a short or empty
    one. A page repeated as it was means the server does not page (the list was whole); the
    MAX_PAGES guard reached means the list is not complete. key drops records seen twice.
    """
    params = dict(params or {})
    first = _results(client.get_json(path, {**params, "page_number": 1, "page_size": page_size}))
    pages, complete = [first], True
    if len(first) >= min(default_size, page_size):
        for number in range(2, MAX_PAGES + 1):
            page = _results(client.get_json(path, {**params, "page_number": number, "page_size": page_size}))
            if not page or page == pages[-1]:
                break  # the end, or a server that ignores page_number
            pages.append(page)
            if len(page) < len(first):
                break
        else:
            complete = False
    records = [r for page in pages for r in page]
    return (_dedupe(records, key) if key else records), complete


def _ended(pages: list[list], total: int | None, per_page: int, seen: int) -> bool:
    """An empty page ends a listing; so does a short page that completes the total."""
    last = pages[-1]
    return not last or (len(pages) > 1 and len(last) < per_page and total is not None and seen >= total)


def iter_cursor(client: Client, path: str, params: dict | None = None, *, limit: int = 500) -> Iterator[dict]:
    """Every record of a cursor-paged endpoint, following `next` until the last page.
    ServerError when a cursor or a page comes again, or the chain is longer than any
    listing (MAX_RECORDS)."""
    params = {**(params or {}), "limit": limit}
    seen_cursors, guard = set(), _Guard(client, path)
    for number in range(1, MAX_PAGES + 1):
        body = client.get_json(path, params)
        records = _results(body)
        cursor = _next_cursor(body)
        if records and cursor:
            if cursor in seen_cursors:
                raise ServerError(f"{client.server} repeated a paging cursor on {path}; the listing would never end")
            guard.page(records, f"page {number}")
        yield from records
        if not cursor or not records:
            return
        seen_cursors.add(cursor)
        params = {**params, "next": cursor}
        params.pop("previous", None)


def _next_cursor(body) -> str | None:
    """The `next` cursor: paging.cursors.next, else the `next` query parameter of paging.next."""
    if not isinstance(body, dict):
        return None
    paging = body.get("paging") or {}
    if not isinstance(paging, dict):
        return None
    cursor = (paging.get("cursors") or {}).get("next") if isinstance(paging.get("cursors"), dict) else None
    if cursor not in (None, ""):
        return str(cursor)
    link = paging.get("next")
    if isinstance(link, str) and link:
        values = parse_qs(urlsplit(link).query).get("next")
        if values and values[0]:
            return values[0]
    return None


def _dedupe(records: list[dict], key: Callable[[dict], object]) -> list[dict]:
    seen, out = set(), []
    for r in records:
        k = key(r)
        if k in seen:
            continue
        seen.add(k)
        out.append(r)
    return out
