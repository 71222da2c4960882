"""Per-item bundle lists read page by page (page_size / page_number, as Posit's OpenAPI
reference documents for GET /v1/content/{guid}/bundles), against the simulator on loopback
serving an old server without the storage endpoints."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest
from loopback import serve
from test_fetch import KEY, without_port

from connect_analysis._paging import fetch_listed
from connect_analysis.client import Client
from connect_analysis.fetch import fetch_snapshot
from connect_analysis.snapshot import load_snapshot
from connect_simulator import generate_dataset, start_simulator

OLD = "2024.09.0"  # before /v1/content/storage: storage is summed from the bundle lists
MANY = [45, 20, 40, 21]  # bundles a few items get (pages of 20: 3; 1 full; 2 full; 2)


def with_many_bundles(ds):
    """Give a few deployed items with fewer than 20 bundles many (inactive ones, each with its own
    size)."""
    counts = ds.bundles.groupby("content_guid").size()
    few = [g for g in ds.content.loc[ds.content["bundle_id"].notna(), "guid"] if counts.get(g, 0) < 20]
    rng = np.random.default_rng(3)
    next_id = int(ds.bundles["id"].astype(int).max()) + 1
    extra = []
    for guid, total in zip(few, MANY, strict=False):
        have = ds.bundles[ds.bundles["content_guid"] == guid]
        template = have.iloc[0]
        for _ in range(total - len(have)):
            b = template.copy()
            b["id"], b["active"], b["size"] = str(next_id), False, int(rng.integers(1_000, 5_000_000))
            next_id += 1
            extra.append(b)
    ds.bundles = pd.concat([ds.bundles, pd.DataFrame(extra)], ignore_index=True)
    return ds


@pytest.fixture(scope="module")
def dataset():
    return with_many_bundles(generate_dataset("demo", seed=7, now=pd.Timestamp("2026-03-01T12:00:00Z")))


def fetch(dataset, out, **sim_options):
    with start_simulator(dataset=dataset, api_key=KEY, connect_version=OLD, **sim_options) as sim:
        m = fetch_snapshot(server=sim.url, out=out, api_key=KEY, quiet=True, days=30,
                           now=dataset.now.to_pydatetime())
        asked = [parse_qs(urlsplit(p).query) for _, p, _ in sim.request_log if p.split("?")[0].endswith("/bundles")]
    return m, load_snapshot(out), asked


def test_a_server_paging_bundles_at_20_gives_the_same_storage_as_one_that_does_not(dataset, tmp_path):
    paged_m, paged, asked = fetch(dataset, tmp_path / "paged", bundles_page_size=20)
    whole_m, whole, _ = fetch(dataset, tmp_path / "whole", bundles_page_size=0)
    assert all(q["page_size"] == ["500"] for q in asked)  # page_size is always sent
    assert max(int(q["page_number"][0]) for q in asked) == 3  # the 45 bundles: pages of 20, 20, 5
    for name in ("bundles", "content_storage"):
        a, b = without_port(getattr(paged, name)), without_port(getattr(whole, name))
        pd.testing.assert_frame_equal(a, b)
    # and they are the server's own figures
    truth = dataset.bundles.groupby("content_guid")["size"].agg(["size", "sum"])
    storage = paged.content_storage.set_index("content_guid")
    for guid, (count, total) in truth.iterrows():
        assert storage.loc[guid, "bundle_count"] == count and storage.loc[guid, "bytes_total"] == total
    assert {20, 21, 40, 45} <= set(truth["size"])
    for m in (paged_m, whole_m):
        assert m["sources"]["bundles"].startswith("/v1/content/{guid}/bundles, every page")
        assert "cut short" not in m["sources"]["bundles"]


def test_a_bundle_list_without_the_active_bundle_is_reported_cut_short(tmp_path):
    ds = generate_dataset("demo", seed=7, now=pd.Timestamp("2026-03-01T12:00:00Z"))
    item = ds.content[ds.content["bundle_id"].notna()].iloc[0]
    ds.bundles = ds.bundles[ds.bundles["id"] != item["bundle_id"]].reset_index(drop=True)  # its list lacks it
    m, _, _ = fetch(ds, tmp_path / "snap")
    assert "1 item(s) look cut short" in m["sources"]["bundles"] and item["guid"] in m["sources"]["bundles"]


def listing(pages_at: int | None, total: int, follow_page_number: bool = True):
    records = [{"id": str(i)} for i in range(total)]

    def route(h):
        q = parse_qs(urlsplit(h.path).query)
        size = int(q.get("page_size", ["20"])[0])
        if pages_at is not None:
            size = min(size, pages_at)
        number = int(q.get("page_number", ["1"])[0]) if follow_page_number else 1
        h.send_json(records[(number - 1) * size: number * size] if pages_at is not None else records)
    return route


@pytest.mark.parametrize(("pages_at", "total", "follows", "expected", "requests"), [
    (20, 45, True, 45, 3),     # pages of 20 whatever was asked: read to the short page
    (20, 40, True, 40, 3),     # two full pages, then an empty one
    (100, 250, True, 250, 3),  # the server's own cap of 100
    (None, 45, True, 45, 2),   # no paging: the same page again ends it
    (None, 7, True, 7, 1),     # short: one request
    (500, 500, True, 500, 2),  # exactly a page
])
def test_listed_pages_are_followed_to_the_end(pages_at, total, follows, expected, requests):
    with serve(listing(pages_at, total, follows)) as srv, Client(srv.url, KEY) as client:
        records, complete = fetch_listed(client, "v1/content/x/bundles", key=lambda r: r["id"])
        sent = len(srv.requests)
    assert [r["id"] for r in records] == [str(i) for i in range(expected)] and complete
    assert sent == requests
