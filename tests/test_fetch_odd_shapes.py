"""fetch_snapshot against one tiny loopback server that answers in the odd shapes real servers
and fixtures show: lenient parsing of ids, times, nulls and missing paging."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pandas as pd
from loopback import serve
from test_fetch import KEY

from connect_analysis.fetch import fetch_snapshot
from connect_analysis.snapshot import load_snapshot


def odd_server():
    """A few hand-written responses in the odd shapes real servers and fixtures show."""
    content = [
        {"guid": "c1", "id": 583, "name": "a", "title": None, "app_mode": "brand-new-mode", "bundle_id": 401171,
         "created_time": "2020-02-23T20:28:20Z", "last_deployed_time": "2024-02-24T09:56:30.123456+02:00",
         "owner": None, "tags": None, "some_future_field": {"x": 1}, "locked": None},
        {"guid": "c2", "id": "584", "name": "b", "title": "B", "app_mode": "shiny", "bundle_id": None,
         "created_time": "2023-07-24T18:49:28.584906476Z", "last_deployed_time": None,
         "owner": {"username": "bob"}, "tags": [{"id": 7, "name": "t"}]},
    ]
    visits = [
        {"content_guid": "c1", "user_guid": None, "time": "2026-02-27T10:00:00Z", "rendering_id": 7,
         "bundle_id": 33, "data_version": 1, "path": None, "variant_key": None, "extra": True},
        {"content_guid": "c1", "user_guid": "u1", "time": "2026-02-28T05:00:00-05:00", "rendering_id": "8",
         "bundle_id": "34", "data_version": "3"},
        {"content_guid": "c2", "user_guid": "u1", "time": "2026-02-28T11:59:59.999999999Z"},
    ]
    sessions = [{"content_guid": "c2", "user_guid": None, "started": "2026-02-28T00:00:00.5Z", "ended": None,
                 "data_version": 1}]

    def route(h):
        path = urlsplit(h.path).path.removeprefix("/__api__/")
        answers = {
            "server_settings": {"version": "2023.09.0"},
            "v1/user": {"user_role": "administrator", "guid": 5},
            # a third item as raw text: 1e400 is valid JSON beyond a double, 0001-01-01 is Go's zero time
            "v1/content": json.dumps(content)[:-1] + ', {"guid": "c3", "id": 1e400, "name": "c", '
                          '"created_time": "0001-01-01T00:00:00Z", "last_deployed_time": 1e12}]',  # year 33658
            "v1/content/c1/bundles": [{"id": 401171, "content_guid": "c1", "created_time":
                                       "2006-01-02T15:04:05Z07:00", "active": True, "size": 1000}],
            "v1/content/c2/bundles": [],
            "v1/content/c3/bundles": [],
            "v1/users": {"results": [{"guid": "u1", "username": "u", "active_time": None}], "total": None,
                         "current_page": None},
            "v1/tags": [{"id": 7, "name": "t", "parent_id": None}],
            "v1/vanities": [],
            "v1/server_settings/r": {"installations": [{"version": "4.3.2"}]},
            "v1/server_settings/python": {"installations": None},
            "v1/environments": [{"guid": "e1", "id": 1, "python": None, "r": {"installations": []}}],
            "v1/system/caches/runtime": {"caches": [{"language": "Python", "version": "3.11.3"}]},
            "v1/instrumentation/content/visits": {"results": visits},  # no paging object at all
            "v1/instrumentation/shiny/usage": {"results": sessions, "paging": {"cursors": None, "next": None}},
        }
        if path == "v1/groups":
            h.send_json({"code": 25, "error": "Groups are not enabled", "payload": None}, 400)
        elif isinstance(answers.get(path), str):
            h.send_text(answers[path], ctype="application/json")
        elif path in answers:
            h.send_json(answers[path])
        else:
            h.send_text("404 page not found", 404)
    return route


def test_odd_shapes_are_accepted(tmp_path):
    with serve(odd_server()) as srv:
        m = fetch_snapshot(server=srv.url + "/__api__", out=tmp_path / "s", api_key=KEY, days=7,
                           now=pd.Timestamp("2026-03-01T00:00:00Z").to_pydatetime())
    snap = load_snapshot(tmp_path / "s")
    c = snap.content.set_index("guid")
    assert c.loc["c1", "app_mode"] == "brand-new-mode" and c.loc["c1", "id"] == "583"
    assert c.loc["c1", "bundle_id"] == "401171" and pd.isna(c.loc["c2", "bundle_id"])
    assert c.loc["c1", "last_deployed_time"] == pd.Timestamp("2024-02-24T07:56:30.123456Z")
    assert c.loc["c2", "created_time"] == pd.Timestamp("2023-07-24T18:49:28.584906476Z")
    assert c.loc["c2", "owner_username"] == "bob"
    assert pd.isna(c.loc["c3", "created_time"]) and pd.isna(c.loc["c3", "last_deployed_time"])  # out of range
    assert c.loc["c3", "id"] == "inf"
    assert list(snap.content_tags["tag_id"]) == ["7"]
    v = snap.visits
    assert list(v["rendering_id"]) == ["7", "8", pd.NA] or list(v["rendering_id"].fillna("-")) == ["7", "8", "-"]
    assert list(v["time"]) == [pd.Timestamp("2026-02-27T10:00:00Z"), pd.Timestamp("2026-02-28T10:00:00Z"),
                               pd.Timestamp("2026-02-28T11:59:59.999999999Z")]
    assert list(v["data_version"].fillna(-1)) == [1, 3, -1]
    assert len(snap.shiny_sessions) == 1 and pd.isna(snap.shiny_sessions["ended"][0])
    assert snap.bundles["size"].tolist() == [1000] and snap.content_storage["bytes_active"].sum() == 1000
    assert snap.runtime_caches["language"].tolist() == ["python"]
    assert snap.server_runtimes["version"].tolist() == ["4.3.2"]
    assert "Groups are not enabled" in m["unavailable"]["groups"]
    assert "2024.11.0" in m["unavailable"]["packages"]
    assert "environment_runtimes" not in m["unavailable"] and len(snap.environments) == 1
