"""Both pagination schemes against real loopback servers: callers get every record once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
from loopback import serve

from connect_analysis._paging import fetch_offset, iter_cursor
from connect_analysis.client import Client
from connect_analysis.errors import ServerError

RECORDS = [{"guid": f"g{i:05d}", "n": i} for i in range(1234)]


def query(h) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(h.path).query).items()}


def offset_route(records, cap=100, with_total=True):
    """Offset paging that caps page_size at `cap`, like a server with a lower maximum."""
    def route(h):
        q = query(h)
        page, size = int(q.get("page_number", 1)), min(int(q.get("page_size", 20)), cap)
        body = {"results": records[(page - 1) * size: page * size], "current_page": page}
        if with_total:
            body["total"] = len(records)
        h.send_json(body)
    return route


@pytest.mark.parametrize("with_total", [True, False])
def test_offset_paging_returns_every_record_once(with_total):
    with serve(offset_route(RECORDS, with_total=with_total)) as srv, Client(srv.url, "k") as c, \
            ThreadPoolExecutor(4) as pool:
        got = fetch_offset(c, "v1/users", page_size=500, pool=pool)
    assert got == RECORDS  # in order, nothing lost or doubled, despite the 100-record cap
    pages = sorted(int(parse_qs(urlsplit(p).query)["page_number"][0]) for _, p, _ in srv.requests)
    expected_pages = 13 if with_total else 14  # without a total, the empty page 14 says "done"
    assert pages == list(range(1, expected_pages + 1))


def test_offset_paging_accepts_a_plain_array_and_an_empty_list():
    with serve(lambda h: h.send_json(RECORDS[:3])) as srv, Client(srv.url, "k") as c:
        assert fetch_offset(c, "v1/packages") == RECORDS[:3]
    with serve(lambda h: h.send_json({"results": None, "total": None, "current_page": None})) as srv, \
            Client(srv.url, "k") as c:
        assert fetch_offset(c, "v1/packages") == []


def test_offset_paging_drops_records_repeated_across_pages():
    shifted = RECORDS[:250] + RECORDS[249:400]  # one record slid onto the next page mid-listing
    with serve(offset_route(shifted)) as srv, Client(srv.url, "k") as c, ThreadPoolExecutor(4) as pool:
        got = fetch_offset(c, "v1/users", pool=pool, key=lambda r: r["guid"])
    assert got == RECORDS[:400]


def cursor_route(records, style):
    """Cursor paging; `style` says how the last page and the next link are given."""
    def route(h):
        q = query(h)
        at, limit = int(q.get("next", 0)), int(q.get("limit", 20))
        page = records[at: at + limit]
        more = at + limit < len(records)
        nxt = str(at + limit) if more else None
        if style == "cursors":
            paging = {"cursors": {"previous": None, "next": nxt}, "next": None}
        elif style == "link-only":
            paging = {"next": f"http://elsewhere.example/__api__/v1/x?next={nxt}" if nxt else None}
        elif style == "absent":
            paging = {"cursors": {"next": nxt}} if nxt else {"cursors": {}}
        else:  # "null": no paging object at all on the last page
            paging = {"cursors": {"next": nxt}} if nxt else None
        h.send_json({"results": page, "paging": paging})
    return route


@pytest.mark.parametrize("style", ["cursors", "link-only", "absent", "null"])
def test_cursor_paging_follows_next_until_the_end(style):
    with serve(cursor_route(RECORDS, style)) as srv, Client(srv.url, "k") as c:
        got = list(iter_cursor(c, "v1/instrumentation/content/visits", {"from": "2025-01-01T00:00:00Z"},
                               limit=500))
    assert got == RECORDS
    assert len(srv.requests) == 3
    assert all("from=2025-01-01T00%3A00%3A00Z" in p and "limit=500" in p for _, p, _ in srv.requests)
    # the link's host is never contacted: only its cursor is used
    assert all(p.startswith("/__api__/v1/instrumentation/content/visits") for _, p, _ in srv.requests)


def test_cursor_paging_stops_on_a_repeated_cursor():
    def route(h):
        h.send_json({"results": [{"n": 1}], "paging": {"cursors": {"next": "same"}}})
    with serve(route) as srv, Client(srv.url, "k") as c, pytest.raises(ServerError, match="cursor"):
        list(iter_cursor(c, "v1/audit_logs"))


def test_offset_paging_stops_when_the_server_ignores_page_number():
    body = {"results": RECORDS[:5], "total": None, "current_page": None}
    with serve(lambda h: h.send_json(body)) as srv, Client(srv.url, "k") as c:
        assert fetch_offset(c, "v1/users") == RECORDS[:5]
    assert len(srv.requests) == 2
