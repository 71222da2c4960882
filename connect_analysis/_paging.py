"""Connect's two pagination schemes, in one place. Callers get complete lists of
records and never see a page.

Offset: `page_number` (from 1) / `page_size`; body {"results", "current_page", "total"}.
Listed: `page_number` / `page_size` on a plain array with no total (per-item bundle lists).
Cursor: `limit` / `next`; body {"results", "paging": {"cursors": {"next"}, "next": url}}.
Both tolerate absent or null paging keys and a server that answers with a plain array.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from urllib.parse import parse_qs, urlsplit

from .client import Client
from .errors import ServerError

MAX_PAGES = 1_000_000  # a guard against a server that never says "last page"


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
        except (TypeError, ValueError):
            return None
    return None


def fetch_offset(client: Client, path: str, params: dict | None = None, *, page_size: int = 500,
                 pool: Executor | None = None, key: Callable[[dict], object] | None = None) -> list[dict]:
    """Every record of an offset-paged endpoint.

    Page 1 is read first; when the body says how many records there are, the other
    pages are read in parallel on pool. Then pages are read on until one comes back
    empty or the total is reached, so a server that caps page_size still gives
    everything. key (optional) drops records seen twice when the list shifted between
    pages.
    """
    params = dict(params or {})
    body = client.get_json(path, {**params, "page_number": 1, "page_size": page_size})
    first = _results(body)
    if isinstance(body, list) or not first:  # not paged, or empty
        return first
    total = _total(body)
    pages = [first]
    per_page = len(first)
    next_page = 2
    if total is not None and total > per_page and pool is not None:
        last = math.ceil(total / per_page)
        numbers = range(2, last + 1)
        futures = [pool.submit(client.get_json, path, {**params, "page_number": n, "page_size": page_size})
                   for n in numbers]
        for f in futures:
            pages.append(_results(f.result()))
        next_page = last + 1
    seen = sum(len(p) for p in pages)
    while (total is None or seen < total) and pages[-1] and next_page <= MAX_PAGES:
        page = _results(client.get_json(path, {**params, "page_number": next_page, "page_size": page_size}))
        if page == pages[-1]:
            break  # the server ignores page_number: it would repeat this page forever
        pages.append(page)
        seen += len(page)
        next_page += 1
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


def iter_cursor(client: Client, path: str, params: dict | None = None, *, limit: int = 500) -> Iterator[dict]:
    """Every record of a cursor-paged endpoint, following `next` until the last page."""
    params = {**(params or {}), "limit": limit}
    seen_cursors = set()
    for _ in range(MAX_PAGES):
        body = client.get_json(path, params)
        records = _results(body)
        yield from records
        cursor = _next_cursor(body)
        if not cursor or not records:
            return
        if cursor in seen_cursors:
            raise ServerError(f"{client.server} repeated a paging cursor on {path}; the listing would never end")
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
