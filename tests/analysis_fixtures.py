"""A small hand-built snapshot for the analysis tests. Every answer the tests expect was worked
out by hand from the rows below (see the comments), not by running the analysis code."""

from __future__ import annotations

import pandas as pd

from connect_analysis import schema
from connect_analysis.snapshot import Snapshot

WINDOW_START = "2024-03-01T00:00:00Z"
WINDOW_END = "2024-03-31T00:00:00Z"
SERVER = "http://connect.example"

LICENSE_STRINGS = {  # as 2023.11-dev servers send it: numbers as strings
    "status": "activated", "expiration": "1735689600000", "days-left": "999", "tier": "enterprise",
    "users": "20", "shiny-users": "20", "user-activity-days": "365", "has-trial": False, "type": "local",
}
LICENSE_NUMBERS = {  # as 2024.09 servers send it
    "status": "activated", "expiration": 1735689600000, "days-left": 384, "tier": "enterprise",
    "users": 20, "shiny-users": 20, "user-activity-days": 365, "has-trial": "false", "type": "local",
}


def _c(guid, app_mode, bundle, r=None, py=None, q=None, **kw):
    row = {"guid": guid, "id": guid, "name": guid, "title": f"Title {guid}", "app_mode": app_mode,
           "bundle_id": bundle, "r_version": r, "py_version": py, "quarto_version": q,
           "owner_username": "alice", "content_url": f"{SERVER}/content/{guid}/",
           "last_deployed_time": "2024-01-01T00:00:00Z", "run_as_current_user": False}
    row.update(kw)
    return row


CONTENT = [
    _c("a1", "shiny", "10", r="4.3.1", run_as="svc_shiny"),
    _c("b2", "python-dash", "20", py="3.11.4", run_as_current_user=True,
       vanity_url=f"{SERVER}/dash/"),
    _c("c3", "quarto-static", "30", r="4.3.2", q="1.4.553"),
    _c("d4", "static", "40"),
    _c("e5", "unknown", None, r="4.2.0"),                       # never deployed
    _c("f6", "rmd-static", "60", r="3.5.3", run_as="svc_shiny", image_name="img-e"),
    _c("g7", "jupyter-static", "70", py="3.11.9", run_as="analyst"),
    _c("h8", "python-fastapi", "80", py="3.8.10", title=None, run_as=""),
]


def _v(guid, user, time):
    return {"content_guid": guid, "user_guid": user, "time": time}


VISITS = [
    _v("a1", None, "2024-03-05T10:00:00Z"),                     # anonymous
    _v("b2", "u1", "2024-03-02T00:00:00Z"), _v("b2", "u2", "2024-03-03T00:00:00Z"),
    _v("b2", "u3", "2024-03-04T00:00:00Z"), _v("b2", "u3", WINDOW_END),  # exactly at the end: in
    _v("c3", "u1", "2024-03-06T00:00:00Z"), _v("c3", "u1", "2024-03-07T00:00:00Z"),
    _v("c3", "u1", "2024-03-31T00:00:01Z"),                     # one second after the end: out
    _v("g7", "u2", "2024-03-08T00:00:00Z"), _v("g7", "u3", "2024-03-09T00:00:00Z"),
    _v("f6", None, "2024-03-10T00:00:00Z"),
    _v("d4", "u1", "2024-02-15T00:00:00Z"),                     # before the window: out
    _v("zz", "u5", "2024-03-11T00:00:00Z"), _v("zz", None, "2024-03-12T00:00:00Z"),  # deleted content
]

SESSIONS = [
    {"content_guid": "a1", "user_guid": "u1", "started": "2024-03-10T00:00:00Z", "ended": "2024-03-10T02:00:00Z"},
    {"content_guid": "a1", "user_guid": "u4", "started": "2024-03-30T12:00:00Z", "ended": None},  # open
    {"content_guid": "a1", "user_guid": "u6", "started": "2024-02-29T23:00:00Z", "ended": "2024-03-01T01:00:00Z"},
    {"content_guid": "a1", "user_guid": "u7", "started": "2024-02-01T00:00:00Z", "ended": "2024-02-01T01:00:00Z"},  # out
    {"content_guid": "zz", "user_guid": "u5", "started": "2024-03-10T00:00:00Z", "ended": "2024-03-10T00:30:00Z"},
]

CONTENT_STORAGE = [
    {"content_guid": "a1", "bundle_count": 2, "bytes_total": 300, "bytes_active": 200, "bytes_inactive": 100},
    {"content_guid": "b2", "bundle_count": 1, "bytes_total": 50, "bytes_active": 50, "bytes_inactive": 0},
    {"content_guid": "c3", "bundle_count": 3, "bytes_total": 1000, "bytes_active": 400, "bytes_inactive": 600},
    {"content_guid": "zz", "bundle_count": 1, "bytes_total": 10, "bytes_active": 10, "bytes_inactive": 0},
]

BUNDLES = [  # the same storage, bundle by bundle
    {"content_guid": "c3", "bundle_id": "31", "created_time": "2024-01-10T00:00:00Z", "active": False, "size": 300},
    {"content_guid": "c3", "bundle_id": "32", "created_time": "2024-01-25T00:00:00Z", "active": False, "size": 300},
    {"content_guid": "c3", "bundle_id": "30", "created_time": "2024-03-02T00:00:00Z", "active": True, "size": 400},
    {"content_guid": "a1", "bundle_id": "11", "created_time": "2023-12-31T23:59:00Z", "active": False, "size": 100},
    {"content_guid": "a1", "bundle_id": "10", "created_time": "2024-03-15T00:00:00Z", "active": True, "size": 200},
    {"content_guid": "b2", "bundle_id": "20", "created_time": "2024-03-20T00:00:00Z", "active": True, "size": 50},
    {"content_guid": "zz", "bundle_id": "90", "created_time": "2024-01-05T00:00:00Z", "active": True, "size": 10},
]

USERS = [
    {"guid": "u1", "user_role": "administrator", "active_time": "2024-03-30T00:00:00Z", "locked": False},
    {"guid": "u2", "user_role": "publisher", "active_time": "2024-03-01T00:00:00Z", "locked": False},
    {"guid": "u3", "user_role": "viewer", "active_time": "2023-01-01T00:00:00Z", "locked": False},
    {"guid": "u4", "user_role": "viewer", "active_time": "2024-03-30T00:00:00Z", "locked": True},
    {"guid": "u5", "user_role": "viewer", "active_time": None, "locked": False},
    {"guid": "u6", "user_role": "publisher", "active_time": "2023-04-01T00:00:00Z", "locked": None},
]

SERVER_RUNTIMES = [
    {"language": "r", "version": "4.3.2"}, {"language": "r", "version": "4.1.3"},
    {"language": "python", "version": "3.11.9"}, {"language": "python", "version": "3.10.4"},
    {"language": "quarto", "version": "1.4.553"},
]

TAGS = [
    {"content_guid": "e5", "tag_id": "7", "tag_name": "finance"},
    {"content_guid": "a1", "tag_id": "7", "tag_name": "finance"},
    {"content_guid": "c3", "tag_id": "8", "tag_name": "marketing"},
]

VANITIES = [{"content_guid": "a1", "path": "/sales/"}]

IMAGES_YAML = """
images:
  - name: img-a
    r: ["4.3.0"]
    python: ["3.11.0"]
    quarto: "1.4.550"
  - name: img-b
    r: ["4.3.3"]
  - name: img-c
    r: ["3.5.3"]
  - name: img-d
    matching: none
    python: ["3.11.9"]
  - name: img-e
    matching: exact
    r: ["3.5.0"]
"""


def tables(**overrides) -> dict[str, pd.DataFrame]:
    raw = {"content": CONTENT, "visits": VISITS, "shiny_sessions": SESSIONS,
           "content_storage": CONTENT_STORAGE, "bundles": BUNDLES, "users": USERS,
           "server_runtimes": SERVER_RUNTIMES, "content_tags": TAGS, "vanities": VANITIES}
    raw.update(overrides)
    given = {name: schema.conform(pd.DataFrame(rows), name) for name, rows in raw.items()}
    return {name: schema.empty(name) for name in schema.TABLES} | given  # a snapshot loads all


def manifest(version="2024.03.0", unavailable=None) -> dict:
    return {"server": {"url": SERVER, "version": version},
            "window": {"start": WINDOW_START, "end": WINDOW_END},
            "fetched_at": WINDOW_END, "unavailable": unavailable or {}}


def small_snapshot(license=LICENSE_STRINGS, unavailable=None, **overrides) -> Snapshot:
    return Snapshot(manifest=manifest(unavailable=unavailable),
                    server_settings={"version": "2024.03.0", "license": license},
                    tables=tables(**overrides))
