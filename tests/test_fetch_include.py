"""A server that ignores `include=` on GET /v1/content (the 2023.09 reference does not list it)
still gives owners and tags: read another documented way, and said so in the manifest."""

from __future__ import annotations

import pandas as pd
import pytest
from test_fetch import KEY

from connect_analysis.fetch import fetch_snapshot
from connect_analysis.snapshot import load_snapshot
from connect_simulator import generate_dataset, start_simulator


@pytest.fixture(scope="module")
def dataset():
    return generate_dataset("demo", seed=7, now=pd.Timestamp("2026-03-01T12:00:00Z"))


def fetch(sim, out):
    return fetch_snapshot(server=sim.url, out=out, api_key=KEY, quiet=True, days=7,
                          now=sim.dataset.now.to_pydatetime())


def tag_rows(snap) -> list[tuple]:
    t = snap.content_tags
    return sorted(zip(t["content_guid"], t["tag_id"], t["tag_name"], strict=True))


def test_a_server_ignoring_include_still_gives_owners_and_tags(dataset, tmp_path):
    with start_simulator(dataset=dataset, api_key=KEY) as sim:
        honoured = fetch(sim, tmp_path / "honoured")
    with start_simulator(dataset=dataset, api_key=KEY, ignore_include=True) as sim:
        ignored = fetch(sim, tmp_path / "ignored")
        paths = [p for _, p, _ in sim.request_log]
        again = fetch(sim, tmp_path / "ignored")  # a refresh: the same again
    a, b = load_snapshot(tmp_path / "honoured"), load_snapshot(tmp_path / "ignored")
    assert a.content["owner_username"].notna().sum() > 100  # the simulator names owners
    pd.testing.assert_series_equal(a.content.set_index("guid")["owner_username"],
                                   b.content.set_index("guid")["owner_username"])
    assert len(a.content_tags) > 50 and tag_rows(a) == tag_rows(b)
    # owners from the users table (no request per item); tags from each tag's content list
    assert sum(p.startswith("/__api__/v1/tags/") and "/content" in p for p in paths) == len(dataset.tags)
    assert not [p for p in paths if p.split("?")[0].endswith("/tags") and "/content/" in p]
    for m in (ignored, again):
        assert m["sources"]["content_owner"].startswith("the users table joined on owner_guid")
        assert m["sources"]["content_tags"].startswith("GET /v1/tags/{id}/content per tag")
    assert "content_owner" not in honoured["sources"] and "content_tags" not in honoured["sources"]
    assert tag_rows(load_snapshot(tmp_path / "ignored")) == tag_rows(a)
