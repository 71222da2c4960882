"""fetch_snapshot and `connect-analysis fetch` against the simulator (real HTTP on loopback): a
complete snapshot, faults, low-privilege keys, failures, the window and progress bars. The
refresh: test_fetch_refresh.py; the odd shapes real servers send: test_fetch_odd_shapes.py."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from connect_analysis import schema
from connect_analysis.api.usage import slices
from connect_analysis.errors import AuthError, ConfigError
from connect_analysis.fetch import fetch_snapshot
from connect_analysis.snapshot import load_snapshot
from connect_simulator import generate_dataset, start_simulator

KEY = "adm1n-key-that-must-never-leak"
FAULTS = {"503": 0.10, "429": 0.02, "drop": 0.01}


@pytest.fixture(scope="module")
def dataset():
    """One demo dataset (fixed clock) shared by the simulators of this module."""
    return generate_dataset("demo", seed=7, now=pd.Timestamp("2026-03-01T12:00:00Z"))


def sim_for(dataset, **kw):
    kw.setdefault("connect_version", "2026.06.0")
    return start_simulator(dataset=dataset, api_key=KEY, **kw)


def fetch(sim, out, key=KEY, **kw):
    kw.setdefault("now", sim.dataset.now.to_pydatetime())
    return fetch_snapshot(server=sim.url, out=out, api_key=key, quiet=True, **kw)


def tables(path) -> dict[str, pd.DataFrame]:
    snap = load_snapshot(path)
    return {name: getattr(snap, name) for name in schema.TABLES}


def without_port(df: pd.DataFrame) -> pd.DataFrame:
    """URLs name the simulator's port, which differs between simulators."""
    df = df.copy()
    for col in ("content_url", "dashboard_url", "vanity_url"):
        if col in df:
            df[col] = df[col].str.replace(r"^http://127\.0\.0\.1:\d+", "SERVER", regex=True)
    return df


def assert_same_tables(a, b):
    ta, tb = tables(a), tables(b)
    for name in schema.TABLES:
        x, y = without_port(ta[name]), without_port(tb[name])
        assert len(x) == len(y), f"{name}: {len(x)} rows != {len(y)} rows"
        diff = [c for c in x.columns if not x[c].equals(y[c])]
        assert not diff, f"{name}: columns differ: {diff}"


def digest(path: Path) -> dict[str, str]:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


# --- a complete snapshot ----------------------------------------------------------------


def test_fetch_writes_every_table_matching_the_server(dataset, tmp_path):
    with sim_for(dataset) as sim:
        m = fetch(sim, tmp_path / "snap", days=30)
        log = sim.request_log
    snap = load_snapshot(tmp_path / "snap")
    assert {method for method, _, _ in log} == {"GET"}  # read-only
    paths = [p.split("?")[0] for _, p, _ in log]
    assert "/__api__/v1/instrumentation/content/visits" in paths and "/__api__/v1/instrumentation/shiny/usage" in paths
    assert not [p for p in paths if p.endswith("/hits")]  # the hits endpoint counts Shiny differently
    assert m["server"] == sim.url and m["server_version"] == "2026.06.0"
    assert m["window"] == {"end": "2026-03-01T12:00:00Z", "start": "2026-01-30T12:00:00Z"}
    assert m["key_role"] == "administrator" and "fetched_at" in m and m["kit_version"]
    assert set(m["unavailable"]) == {"bundles"} and "--bundle-history" in m["unavailable"]["bundles"]
    assert snap.server_settings["version"] == "2026.06.0" and "license" in snap.server_settings
    # usage: exactly the records whose time is in the window, each once
    end = int(dataset.now.timestamp())
    start = end - 30 * 86400
    t = dataset.visit_log.time
    assert len(snap.visits) == int(((t >= start) & (t <= end)).sum())
    s = dataset.shiny_log.time
    assert len(snap.shiny_sessions) == int(((s >= start) & (s <= end)).sum())
    assert len(snap.content) == len(dataset.content) and len(snap.users) == len(dataset.users)
    assert set(snap.content["guid"]) == set(dataset.content["guid"])
    assert snap.content_storage["bytes_total"].sum() == m["system_storage"]["bytes_total"]
    assert len(snap.packages) > 0 and set(snap.packages["language"]) <= {"r", "python"}
    for name in schema.TABLES:  # row counts in the manifest match the files
        assert m["row_counts"][name] == len(getattr(snap, name))
    assert KEY not in json.dumps(m)


def test_nothing_is_lost_under_faults(dataset, tmp_path):
    with sim_for(dataset) as sim:
        fetch(sim, tmp_path / "clean", days=30, bundle_history=True)
    with sim_for(dataset, faults=FAULTS, seed=3) as sim:
        m = fetch(sim, tmp_path / "faulty", days=30, bundle_history=True)
        statuses = [s for _, _, s in sim.request_log]
    assert {429, 503, 0} <= set(statuses)  # every kind of fault happened (0: dropped mid-body)
    assert m["retries"] >= statuses.count(503) + statuses.count(429)
    assert_same_tables(tmp_path / "clean", tmp_path / "faulty")


def test_old_server_sums_storage_from_bundles_and_explains_packages(dataset, tmp_path):
    with sim_for(dataset) as sim:
        new = fetch(sim, tmp_path / "new", days=7)
    with sim_for(dataset, connect_version="2024.09.0") as sim:
        old = fetch(sim, tmp_path / "old", days=7)
        paths = [p for _, p, _ in sim.request_log]
    assert old["sources"]["content_storage"] == "summed from per-item bundle lists"
    assert "2024.11.0" in old["unavailable"]["packages"] and "2024.09.0" in old["unavailable"]["packages"]
    assert "bundles" not in old["unavailable"]
    many = int((dataset.bundles.groupby("content_guid").size() >= 20).sum())  # a second page asked
    assert sum("/bundles" in p for p in paths) == len(dataset.content) + many  # one call per item
    a = load_snapshot(tmp_path / "new").content_storage.sort_values("content_guid").reset_index(drop=True)
    b = load_snapshot(tmp_path / "old").content_storage.sort_values("content_guid").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)  # the same storage summary from both versions
    assert len(load_snapshot(tmp_path / "old").bundles) == len(dataset.bundles)
    assert new["row_counts"]["packages"] > 0

# --- low-privilege keys ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["publisher", "viewer"])
def test_low_privilege_keys_get_a_partial_snapshot_with_reasons(dataset, tmp_path, role):
    with sim_for(dataset) as sim:
        m = fetch(sim, tmp_path / role, key=sim.keys[role], days=30)
    snap = load_snapshot(tmp_path / role)
    assert m["key_role"] == role and "administrator" in m["scope"]
    assert 0 < len(snap.content) <= len(dataset.content)
    assert m["unavailable"], "a low-privilege key cannot read everything"
    for dataset_name, reason in m["unavailable"].items():
        assert dataset_name in schema.TABLES and len(reason) > 20
        assert m["row_counts"][dataset_name] == 0 or dataset_name in ("bundles", "jobs")  # per item: partial
    # never silently empty: an empty table is either unavailable or genuinely empty for this key
    admin_only = {"vanities", "runtime_caches"}
    assert admin_only <= set(m["unavailable"])
    assert any("HTTP 403" in r for r in m["unavailable"].values())


# --- failures -----------------------------------------------------------------------------


def cli(*args, key=KEY):
    env = {**os.environ, "CONNECT_API_KEY": key}
    env.pop("CONNECT_SERVER", None)
    return subprocess.run([sys.executable, "-m", "connect_analysis.cli", "fetch", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_cli_fetch_and_a_failing_fetch_leaves_the_previous_snapshot(dataset, tmp_path):
    out = tmp_path / "snap"
    with sim_for(dataset) as sim:
        r = cli("--server", sim.url, "--out", str(out), "--days", "3", "--quiet")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith(f"wrote {out}") and "Connect 2026.06.0" in r.stdout
        before = digest(out)
        bad = cli("--server", sim.url, "--out", str(out), "--days", "3", key="wrong-key")
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and bad.stderr.startswith("error: ") and "CONNECT_API_KEY" in bad.stderr
    assert "wrong-key" not in bad.stderr + bad.stdout
    assert digest(out) == before
    # the server goes away: one line, non-zero, snapshot untouched, no temporary left behind
    gone = cli("--server", sim.url, "--out", str(out), "--days", "3")
    assert gone.returncode == 1 and gone.stderr.count("\n") == 1 and "Traceback" not in gone.stderr
    assert "cannot reach" in gone.stderr
    assert digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]
    for name in (r.stdout, r.stderr, *(p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*"))):
        assert KEY not in name


def test_the_key_is_in_no_file_and_no_log_line(dataset, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with sim_for(dataset, faults={"503": 0.05}) as sim:
        fetch(sim, tmp_path / "snap", days=3)
    assert "GET" in caplog.text
    assert KEY not in caplog.text
    for p in (tmp_path / "snap").rglob("*"):
        assert KEY.encode() not in p.read_bytes()


def test_bad_key_and_foreign_directories_fail_cleanly(dataset, tmp_path):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("precious")
    with sim_for(dataset) as sim:
        with pytest.raises(AuthError):
            fetch(sim, tmp_path / "x", key="nope")
        with pytest.raises(ConfigError, match="not a connect-analysis snapshot"):
            fetch(sim, foreign)
        with pytest.raises(ConfigError, match="--days"):
            fetch(sim, tmp_path / "y", days=0)
    assert (foreign / "notes.txt").read_text() == "precious"
    assert not (tmp_path / "x").exists()


# --- window, progress, documentation -------------------------------------------------------


def test_slices_cover_the_window_on_whole_seconds():
    start = pd.Timestamp("2026-01-01T00:00:00Z").to_pydatetime()
    end = start + timedelta(days=90)
    parts = slices(start, end, 32)
    assert parts[0][0] == start and parts[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))
    assert all(lo.microsecond == 0 and lo < hi for lo, hi in parts)
    assert slices(start, start, 8) == [(start, start)]


def test_since_sets_the_window_start(dataset, tmp_path):
    with sim_for(dataset) as sim:
        m = fetch(sim, tmp_path / "a", since="2026-02-20")
        r = cli("--server", sim.url, "--out", str(tmp_path / "b"), "--since", "2026-02-25T06:00:00+02:00",
                "--quiet")
        bad = cli("--server", sim.url, "--out", str(tmp_path / "c"), "--since", "next tuesday")
    assert m["window"] == {"start": "2026-02-20T00:00:00Z", "end": "2026-03-01T12:00:00Z"}
    v = load_snapshot(tmp_path / "a").visits
    assert v["time"].min() >= pd.Timestamp("2026-02-20T00:00:00Z")
    in_window = (dataset.visit_log.time >= pd.Timestamp("2026-02-20T00:00:00Z").timestamp()) & \
        (dataset.visit_log.time <= dataset.now.timestamp())
    assert len(v) == int(in_window.sum())
    assert r.returncode == 0, r.stderr
    assert load_snapshot(tmp_path / "b").manifest["window"]["start"] == "2026-02-25T04:00:00Z"
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "--since" in bad.stderr
    assert not (tmp_path / "c").exists()


def cli_on_a_terminal(*args) -> str:
    """Run `connect-analysis fetch` with stderr on a pseudo-terminal; returns what it drew there."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a real terminal's size
    env = {**os.environ, "CONNECT_API_KEY": KEY}
    proc = subprocess.Popen([sys.executable, "-m", "connect_analysis.cli", "fetch", *args],
                            stdout=subprocess.DEVNULL, stderr=follower, env=env)
    os.close(follower)
    out = b""
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        proc.wait(timeout=60)
        os.close(leader)
    assert proc.returncode == 0, out
    return out.decode("utf-8", "replace")


def test_progress_bars_on_a_terminal_and_quiet_otherwise(dataset, tmp_path):
    with sim_for(dataset, connect_version="2024.09.0") as sim:  # per-item bundles: every bar
        drawn = cli_on_a_terminal("--server", sim.url, "--out", str(tmp_path / "a"), "--days", "10")
        quiet = cli_on_a_terminal("--server", sim.url, "--out", str(tmp_path / "b"), "--days", "10", "--quiet")
        piped = cli("--server", sim.url, "--out", str(tmp_path / "c"), "--days", "10")
    for step in ("bundles", "visits", "shiny sessions"):
        assert step in drawn, step
    assert f"/{len(dataset.content)} [" in drawn  # the bundles bar counts items
    assert "bundles" not in quiet and "visits" not in quiet
    assert piped.returncode == 0 and piped.stderr == ""  # not a terminal: no bars
    assert KEY not in drawn


def test_readme_documents_every_snapshot_table_and_column():
    import re

    root = Path(__file__).resolve().parents[1]
    sections = [(root / "docs" / "reference" / "snapshot-tables.qmd").read_text(),
                (root / "docs/reference/jobs-dataset.qmd").read_text()]  # the jobs table, new content columns
    for name, columns in schema.TABLES.items():
        found = [m.group(1) for section in sections for m in re.finditer(
            r"\*\*" + re.escape(name) + r"\.parquet\*\*(.*?)(?=\n\*\*|\n#|\Z)", section, re.S)]
        assert found, f"{name}.parquet is not documented"
        missing = [c for c in columns if f"`{c}`" not in "".join(found)]
        assert not missing, f"{name}.parquet: columns not documented: {missing}"
