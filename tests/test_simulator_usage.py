"""Usage endpoints of the simulator: cursor paging, from/to windows, content filters,
ordering, hits and the advancing clock, checked against the generated dataset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import requests

from connect_simulator import generate_dataset, start_simulator

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ADMIN = "admin-key"
VISITS = "/__api__/v1/instrumentation/content/visits"
SHINY = "/__api__/v1/instrumentation/shiny/usage"


@pytest.fixture(scope="module")
def sim():
    with start_simulator(api_key=ADMIN, seed=2, now=NOW) as s:
        yield s


def walk(sim, path, **params):
    """Every record, following paging.next; returns (records, pages)."""
    h = {"Authorization": f"Key {ADMIN}"}
    body = requests.get(sim.url + path, headers=h, params=params, timeout=10).json()
    records, pages = [], [body]
    while True:
        records += body["results"]
        if "next" not in body["paging"]:
            assert "next" not in body["paging"]["cursors"] and "last" not in body["paging"]
            return records, pages
        body = requests.get(body["paging"]["next"], headers=h, timeout=10).json()
        pages.append(body)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def visit_keys(records):
    return [(r["content_guid"], r["user_guid"], r["time"]) for r in records]


def frame_keys(df):
    return [(g, u if isinstance(u, str) else None, iso(t))
            for g, u, t in df[["content_guid", "user_guid", "time"]].itertuples(index=False)]


def test_all_visits_in_time_order(sim):
    records, pages = walk(sim, VISITS, limit=500)
    assert visit_keys(records) == frame_keys(sim.dataset.visits)
    assert all(len(p["results"]) == 500 for p in pages[:-1])
    first = pages[0]["paging"]
    assert first["next"].startswith(sim.url + VISITS) and first["cursors"]["next"].isdigit()
    rec = records[0]
    assert set(rec) == {"content_guid", "user_guid", "variant_key", "rendering_id", "bundle_id",
                        "time", "data_version", "path"}


def test_descending_order_and_limit_cap(sim):
    records, pages = walk(sim, VISITS, limit=1000, asc_order="false")
    assert len(pages[0]["results"]) == 500  # best effort: at most 500
    assert visit_keys(records) == frame_keys(sim.dataset.visits)[::-1]


def test_window_and_content_filter(sim):
    v = sim.dataset.visits
    top = v["content_guid"].value_counts().index[:3].tolist()
    start, end = pd.Timestamp(NOW - timedelta(days=40)), pd.Timestamp(NOW - timedelta(days=10))
    records, _ = walk(sim, VISITS, limit=200, content_guid="|".join(top), **{"from": iso(start), "to": iso(end)})
    want = v[v["content_guid"].isin(top) & (v["time"] >= start) & (v["time"] <= end)]
    assert len(want) > 200 and visit_keys(records) == frame_keys(want)


def test_previous_cursor_returns_the_page_before(sim):
    h = {"Authorization": f"Key {ADMIN}"}
    p1 = requests.get(sim.url + VISITS, headers=h, params={"limit": 50}, timeout=10).json()
    p2 = requests.get(p1["paging"]["next"], headers=h, timeout=10).json()
    back = requests.get(p2["paging"]["previous"], headers=h, timeout=10).json()
    assert back["results"] == p1["results"]
    assert "next" in back["paging"]


def test_empty_page_after_the_last(sim):
    h = {"Authorization": f"Key {ADMIN}"}
    future = iso(NOW + timedelta(days=5))
    body = requests.get(sim.url + VISITS, headers=h, params={"from": future}, timeout=10).json()
    assert body["results"] == [] and "next" not in body["paging"]
    bad = requests.get(sim.url + VISITS, headers=h, params={"from": "yesterday"}, timeout=10)
    assert bad.status_code == 400 and bad.json()["code"] == 136


def test_shiny_window_keeps_sessions_overlapping_it(sim):
    s = sim.dataset.shiny_sessions
    recent = s[(s["started"] > pd.Timestamp(NOW - timedelta(days=30))) & s["ended"].notna()]
    longest = recent.loc[(recent["ended"] - recent["started"]).idxmax()]
    # a window opening in the middle of that session, and reaching the open ones at the end
    start = (longest["started"] + (longest["ended"] - longest["started"]) / 2).floor("s")
    end = pd.Timestamp(NOW)
    records, _ = walk(sim, SHINY, limit=100, **{"from": iso(start), "to": iso(end)})
    # excluded only if it ended before `from` or started after `to`; open sessions stay
    keep = ~((s["ended"].notna() & (s["ended"] < start)) | (s["started"] > end))
    want = s[keep]
    assert any(r["ended"] is None for r in records)
    assert [(r["content_guid"], r["started"], r["ended"]) for r in records] == [
        (g, iso(a), None if pd.isna(b) else iso(b))
        for g, a, b in want[["content_guid", "started", "ended"]].itertuples(index=False)]
    assert any(pd.Timestamp(r["started"]) < start for r in records)  # began before the window


def test_hits_cover_visits_and_session_starts(sim):
    start, end = NOW - timedelta(days=3), NOW - timedelta(days=1)
    h = {"Authorization": f"Key {ADMIN}"}
    hits = requests.get(sim.url + "/__api__/v1/instrumentation/content/hits", headers=h,
                        params={"from": iso(start), "to": iso(end)}, timeout=10).json()
    v, s = sim.dataset.visits, sim.dataset.shiny_sessions
    n = ((v["time"] >= start) & (v["time"] <= end)).sum() + ((s["started"] >= start) & (s["started"] <= end)).sum()
    assert len(hits) == n and len({x["id"] for x in hits}) == n
    assert hits == sorted(hits, key=lambda x: x["timestamp"])
    assert hits[0]["timestamp"].endswith(".000000Z") and isinstance(hits[0]["id"], int)


def test_advance_appends_new_usage_deterministically():
    a, b = generate_dataset("demo", seed=4, now=NOW), generate_dataset("demo", seed=4, now=NOW)
    before = a.visits
    with start_simulator(api_key=ADMIN, dataset=a) as s:
        open_before = a.shiny_sessions["ended"].isna().sum()
        s.advance(days=2)
        after = s.dataset.visits
        assert after.iloc[: len(before)].equals(before)  # old records untouched
        new = after.iloc[len(before):]
        assert len(new) > 50 and (new["time"] > pd.Timestamp(NOW)).all()
        assert s.dataset.now == pd.Timestamp(NOW + timedelta(days=2))
        assert open_before and s.dataset.shiny_sessions["ended"].isna().sum() < open_before + 20
        records, _ = walk(s, VISITS, limit=500, **{"from": iso(NOW)})
        assert visit_keys(records) == frame_keys(new)
    b.advance(days=2)
    assert b.visits.equals(after)
