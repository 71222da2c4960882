"""Clients no one here wrote, unchanged, against the simulator: posit-sdk and the
rsconnect-python CLI. What they return must match the generated data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from suite import skip_or_fail

from connect_simulator import start_simulator

try:
    import posit.connect as posit_connect
except ImportError:
    skip_or_fail("posit-sdk is not installed (the test extra has it)", module_level=True)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ADMIN = "admin-key"


@pytest.fixture(scope="module")
def sim():
    with start_simulator(api_key=ADMIN, seed=5, now=NOW) as s:
        yield s


def test_posit_sdk_content_users_bundles(sim):
    client = posit_connect.Client(sim.url, ADMIN)
    ds = sim.dataset
    items = client.content.find()
    assert sorted(i["guid"] for i in items) == sorted(ds.content["guid"])
    by_guid = {i["guid"]: i for i in items}
    for row in ds.content.head(20).itertuples():
        assert by_guid[row.guid]["title"] == (row.title if isinstance(row.title, str) else None)
        assert by_guid[row.guid]["app_mode"] == row.app_mode
    users = client.users.find()
    assert sorted(u["username"] for u in users) == sorted(ds.users["username"])
    guid = ds.bundles["content_guid"].value_counts().index[0]
    bundles = by_guid[guid].bundles.find()
    want = ds.bundles[ds.bundles["content_guid"] == guid]
    assert sorted(b["id"] for b in bundles) == sorted(want["id"])
    assert sum(b["size"] for b in bundles) == int(want["size"].sum())


def test_posit_sdk_usage_matches_visits_and_sessions(sim):
    client = posit_connect.Client(sim.url, ADMIN)
    events = client.metrics.usage.find()
    v, s = sim.dataset.visits, sim.dataset.shiny_sessions
    assert len(events) == len(v) + len(s)
    got = sorted((e["content_guid"], e["user_guid"] or "", e["started"]) for e in events)
    want = sorted([(g, u if isinstance(u, str) else "", t.strftime("%Y-%m-%dT%H:%M:%SZ"))
                   for g, u, t in v[["content_guid", "user_guid", "time"]].itertuples(index=False)]
                  + [(g, u if isinstance(u, str) else "", t.strftime("%Y-%m-%dT%H:%M:%SZ"))
                     for g, u, t in s[["content_guid", "user_guid", "started"]].itertuples(index=False)])
    assert got == want


def test_posit_sdk_caches_environments_packages(sim):
    client = posit_connect.Client(sim.url, ADMIN)
    caches = client.system.caches.runtime.find()
    assert sorted((c["language"], c["version"]) for c in caches) == sorted(
        sim.dataset.runtime_caches[["language", "version"]].itertuples(index=False, name=None))
    envs = client.environments.fetch()
    assert sorted(e["name"] for e in envs) == sorted(sim.dataset.environments["name"])
    one = client.environments.find(envs[0]["guid"])
    assert one["r"]["installations"] or one["python"]["installations"]
    pk = sim.dataset.packages
    guid = pk["content_guid"].iloc[0]
    item = client.content.get(guid)
    got = sorted((p["language"], p["name"], p["version"]) for p in item.packages.fetch())
    mine = pk[pk["content_guid"] == guid]
    assert got == sorted(mine[["language", "name", "version"]].itertuples(index=False, name=None))


def test_posit_sdk_refuses_gated_calls_on_old_servers():
    with start_simulator(api_key=ADMIN, connect_version="2023.09.0", seed=5, now=NOW) as s:
        client = posit_connect.Client(s.url, ADMIN)
        assert len(client.content.find()) == len(s.dataset.content)
        with pytest.raises(RuntimeError, match="2024.11.0"):
            client.packages.fetch()


def _rsconnect(sim, tmp_path: Path, *args) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("rsconnect")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECT_")}
    env["HOME"] = str(tmp_path)  # rsconnect keeps state under HOME; keep the real one clean
    env["XDG_CONFIG_HOME"] = str(tmp_path / ".config")
    return subprocess.run([str(exe), *args, "--server", sim.url, "--api-key", ADMIN],
                          capture_output=True, text=True, env=env, timeout=120)


def test_rsconnect_content_search(sim, tmp_path):
    r = _rsconnect(sim, tmp_path, "content", "search")
    assert r.returncode == 0, r.stderr
    found = json.loads(r.stdout)
    assert sorted(c["guid"] for c in found) == sorted(sim.dataset.content["guid"])
    r = _rsconnect(sim, tmp_path, "content", "search", "--unpublished")
    never = sim.dataset.content.loc[sim.dataset.content["bundle_id"].isna(), "guid"]
    assert sorted(c["guid"] for c in json.loads(r.stdout)) == sorted(never) and len(never)
    assert any(("GET", "/__api__/v1/content", 200) == e for e in sim.request_log)


def test_rsconnect_system_caches_list(sim, tmp_path):
    r = _rsconnect(sim, tmp_path, "system", "caches", "list")
    assert r.returncode == 0, r.stderr
    caches = json.loads(r.stdout)["caches"]
    assert sorted((c["language"], c["version"]) for c in caches) == sorted(
        sim.dataset.runtime_caches[["language", "version"]].itertuples(index=False, name=None))
    assert all(m == "GET" for m, _, _ in sim.request_log)
