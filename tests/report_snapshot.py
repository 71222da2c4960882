"""A small hand-built snapshot for the report tests, with server text that must stay text."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from connect_analysis.snapshot import write_snapshot

SCRIPT_TITLE = "<script>alert(1)</script>"
BOLD_TITLE = '"quoted" <b>bold</b>'
HOSTILE_OWNER = "<img src=x onerror=alert(2)>"
GUIDS = [f"0000000{i}-aaaa-bbbb-cccc-00000000000{i}" for i in range(1, 6)]
END = pd.Timestamp("2026-05-31T00:00:00Z")
START = END - pd.Timedelta(days=90)


def write_hostile_snapshot(path: Path) -> Path:
    """Five content items, two with markup in their titles, usage, bundles over 3 months."""
    t = pd.Timestamp
    content = pd.DataFrame({
        "guid": GUIDS,
        "title": [SCRIPT_TITLE, BOLD_TITLE, "Sales dashboard", "Nightly ETL", None],
        "name": ["a", "b", "c", "d", "e"],
        "app_mode": ["shiny", "python-dash", "quarto-static", "rmd-static", "static"],
        "owner_username": [HOSTILE_OWNER, "bob", "carol", "dave", "erin"],
        "bundle_id": ["1", "2", "3", "4", None],
        "r_version": ["4.3.2", None, "4.4.1", "4.3.2", None],
        "py_version": [None, "3.11.4", "3.12.1", None, None],
        "quarto_version": [None, None, "1.4.550", None, None],
        "run_as": ["rstudio-connect", None, "svc-<etl>", None, None],
        "run_as_current_user": [False, False, False, True, False],
        "content_url": [f"http://connect.example/content/{g}/" for g in GUIDS],
        "created_time": [t("2026-01-05T00:00:00Z")] * 5,
        "last_deployed_time": [t("2026-03-01T00:00:00Z")] * 4 + [None],
    })
    bundles = pd.DataFrame({
        "content_guid": [GUIDS[0], GUIDS[0], GUIDS[1], GUIDS[2], GUIDS[3]],
        "bundle_id": ["0", "1", "2", "3", "4"],
        "created_time": [t("2026-02-10T00:00:00Z"), t("2026-03-01T00:00:00Z"),
                         t("2026-03-15T00:00:00Z"), t("2026-04-02T00:00:00Z"),
                         t("2026-04-20T00:00:00Z")],
        "active": [False, True, True, True, True],
        "size": [2_000_000, 3_000_000, 5_000_000, 7_000_000, 1_000_000],
    })
    visits = pd.DataFrame({
        "content_guid": [GUIDS[0]] * 3 + [GUIDS[1]] * 5 + [GUIDS[2]],
        "user_guid": ["u1", "u2", None, "u1", "u1", "u2", "u3", None, "u2"],
        "time": [t("2026-05-01T10:00:00Z")] * 9,
    })
    sessions = pd.DataFrame({
        "content_guid": [GUIDS[0]] * 4,
        "user_guid": ["u1", "u2", "u3", "u1"],
        "started": [t("2026-05-02T10:00:00Z")] * 4,
        "ended": [t("2026-05-02T11:00:00Z")] * 3 + [None],
    })
    users = pd.DataFrame({"guid": ["u1", "u2", "u3"], "username": ["al", "bo", "<i>cy</i>"],
                          "user_role": ["publisher", "viewer", "administrator"]})
    server_runtimes = pd.DataFrame({"language": ["r", "python"], "version": ["4.3.2", "3.11.4"]})
    manifest = {"server": {"url": "http://connect.example", "version": "2026.06.0"},
                "window": {"start": START.isoformat(), "end": END.isoformat()},
                "fetched_at": END.isoformat()}
    settings = {"version": "2026.06.0",
                "license": {"status": "activated", "tier": "enhanced", "users": "25",
                            "expiration": 1893456000000}}
    return write_snapshot(path, {"content": content, "bundles": bundles, "visits": visits,
                                 "shiny_sessions": sessions, "users": users,
                                 "server_runtimes": server_runtimes}, manifest, settings)
