"""Shiny sessions overlapping the usage window (begun before it, ended in it or still open)
are in the snapshot, counted and ranked: after a cold fetch and after refreshes."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from test_fetch import KEY, assert_same_tables

from connect_analysis.analysis import analyze
from connect_analysis.fetch import fetch_snapshot
from connect_analysis.snapshot import load_snapshot
from connect_simulator import generate_dataset, start_simulator
from connect_simulator.usage import OPEN, UsageLog

NOW = pd.Timestamp("2026-03-01T12:00:00Z")
DAYS = 30


def fetch(sim, out, **kw):
    return fetch_snapshot(server=sim.url, out=out, api_key=KEY, quiet=True, days=DAYS,
                          now=sim.dataset.now.to_pydatetime(), **kw)


def with_sessions(log: UsageLog, content: int, users: list[int], started: list[int], ended: list[int]) -> UsageLog:
    """The log with extra Shiny sessions, kept in time order."""
    time = np.concatenate([log.time, started])
    order = np.argsort(time, kind="stable")
    n = len(started)
    return UsageLog(time=time[order], content=np.concatenate([log.content, np.full(n, content, np.int32)])[order],
                    user=np.concatenate([log.user, np.asarray(users, np.int32)])[order],
                    path=np.concatenate([log.path, np.zeros(n, log.path.dtype)])[order],
                    end=np.concatenate([log.end, ended])[order], n_guids=log.n_guids)


def overlapping(ds, start: pd.Timestamp, end: pd.Timestamp, content: int | None = None) -> int:
    """Sessions the server holds that overlap [start, end], counted from its own arrays."""
    log = ds.shiny_log
    s, e = int(start.timestamp()), int(end.timestamp())
    hit = (log.time <= e) & ((log.end == OPEN) | (log.end >= s))
    if content is not None:
        hit &= log.content == content
    return int(hit.sum())


def ranking(snapshot_dir):
    result = analyze(load_snapshot(snapshot_dir))
    return result, result.usage_by_content.set_index("guid")


@pytest.fixture
def crafted(tmp_path_factory):
    """The demo dataset where the second most used item gets just enough sessions begun
    before the window (all but one ended inside it, one still open) to rank first, when
    and only when they count. Made anew for each test: tests move its clock."""
    ds = generate_dataset("demo", seed=7, now=NOW)
    plain = tmp_path_factory.mktemp("plain") / "snap"
    with start_simulator(dataset=ds, api_key=KEY) as sim:
        fetch(sim, plain)
    result, _ = ranking(plain)
    top = result.important_content
    first, second = top.iloc[0], top.iloc[1]
    k = int(first["events"] - second["events"]) + 3
    start = int((NOW - timedelta(days=DAYS)).timestamp())
    b = int(np.flatnonzero(ds.usage_guids == second["guid"])[0])
    users = [i % len(ds.users) for i in range(k)]
    started = [start - 2 * 3600 - i for i in range(k - 1)] + [start - 86400]
    ended = [start + 7 * 3600] * (k - 1) + [OPEN]
    ds.shiny_log = with_sessions(ds.shiny_log, b, users, started, ended)
    return ds, b, str(second["guid"]), str(first["guid"]), k


def check(snap_dir, ds, b, guid_b, extra, still_open=1):
    snap = load_snapshot(snap_dir)
    window = snap.manifest["window"]
    start, end = pd.Timestamp(window["start"]), pd.Timestamp(window["end"])
    sessions = snap.shiny_sessions
    mine = sessions[sessions["content_guid"] == guid_b]
    early = mine[mine["started"] < start]
    assert len(early) == extra and early["ended"].isna().sum() == still_open  # begun before; one open
    assert (early["ended"].dropna() < end).all()
    assert len(sessions) == overlapping(ds, start, end)
    result, per = ranking(snap_dir)
    assert result.summary["usage"]["shiny_sessions"] == overlapping(ds, start, end)
    assert per.loc[guid_b, "shiny_sessions"] == overlapping(ds, start, end, b)
    return result


def test_sessions_begun_before_the_window_are_fetched_counted_and_ranked(crafted, tmp_path):
    ds, b, guid_b, guid_a, k = crafted
    with start_simulator(dataset=ds, api_key=KEY) as sim:
        fetch(sim, tmp_path / "snap")
        result = check(tmp_path / "snap", ds, b, guid_b, k)
        assert result.important_content.iloc[0]["guid"] == guid_b  # ahead only with them
        assert result.important_content.iloc[1]["guid"] == guid_a

        sim.advance(days=0.25)  # the window moves 6 h: the crafted sessions still overlap it
        m = fetch(sim, tmp_path / "snap")
        assert m["refresh"]["mode"] == "incremental"
        result = check(tmp_path / "snap", ds, b, guid_b, k, still_open=0)  # closed by the server since
        assert result.important_content.iloc[0]["guid"] == guid_b
        fetch(sim, tmp_path / "fresh")
        assert_same_tables(tmp_path / "snap", tmp_path / "fresh")

        sim.advance(days=0.25)  # the crafted open session was closed since, and is now kept
        m = fetch(sim, tmp_path / "snap")
        assert m["refresh"]["mode"] == "incremental"
        fetch(sim, tmp_path / "fresh2")
    assert_same_tables(tmp_path / "snap", tmp_path / "fresh2")
    snap = load_snapshot(tmp_path / "snap")
    start = pd.Timestamp(snap.manifest["window"]["start"])
    s = snap.shiny_sessions
    assert (s["started"] < start).any()  # sessions begun before the window, read back from the last snapshot
    assert len(s) == overlapping(ds, start, pd.Timestamp(snap.manifest["window"]["end"]))


def test_a_longer_window_after_a_session_open_since_before_the_old_one(crafted, tmp_path):
    """The crafted open session began a day before the 30-day window; a 45-day refresh then
    must not read the days between twice."""
    ds, b, guid_b, _, k = crafted
    with start_simulator(dataset=ds, api_key=KEY) as sim:
        fetch(sim, tmp_path / "snap")
        longer = fetch_snapshot(server=sim.url, out=tmp_path / "snap", api_key=KEY, quiet=True, days=45,
                                now=ds.now.to_pydatetime())
        fetch_snapshot(server=sim.url, out=tmp_path / "fresh", api_key=KEY, quiet=True, days=45,
                       now=ds.now.to_pydatetime())
    assert_same_tables(tmp_path / "snap", tmp_path / "fresh")
    window = longer["window"]
    assert len(load_snapshot(tmp_path / "snap").shiny_sessions) == overlapping(
        ds, pd.Timestamp(window["start"]), pd.Timestamp(window["end"]))


def test_a_snapshot_of_the_old_rule_is_not_reused_for_sessions(crafted, tmp_path):
    """A snapshot whose manifest does not name the overlap rule may lack begun-before sessions:
    a refresh reads shiny sessions in full."""
    ds, b, guid_b, _, k = crafted
    with start_simulator(dataset=ds, api_key=KEY) as sim:
        fetch(sim, tmp_path / "snap")
        path = tmp_path / "snap" / "manifest.json"
        manifest = json.loads(path.read_text())
        del manifest["sources"]["shiny_sessions"]
        path.write_text(json.dumps(manifest))
        m = fetch(sim, tmp_path / "snap")
    assert m["refresh"]["usage_from"]["shiny_sessions"] == m["window"]["start"]
    check(tmp_path / "snap", ds, b, guid_b, k)
