"""Scheduled runs: dated output, same-day replacement, pruning, exit codes, against the simulator."""

import fcntl
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from loopback import serve

from connect_analysis.errors import ConfigError
from connect_analysis.schedule import list_runs, prune_runs, scheduled_run

KEY = "schedule-test-key"


def _make_runs(root, names):
    for name in names:
        (root / name).mkdir(parents=True)
        (root / name / "report.html").write_text(name)


def test_prune_keeps_the_newest_runs_and_newer_failed_records(tmp_path):
    _make_runs(tmp_path, ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05",
                          "2026-01-02.failed", "2026-01-05.failed", "snapshot", "notes"])
    os.symlink("2026-01-05", tmp_path / "latest")
    removed = prune_runs(tmp_path, keep=2)
    assert [p.name for p in removed] == ["2026-01-01", "2026-01-02", "2026-01-02.failed", "2026-01-03"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2026-01-04", "2026-01-05", "2026-01-05.failed", "latest", "notes", "snapshot"]
    assert [p.name for p in list_runs(tmp_path)] == ["2026-01-05", "2026-01-04"]


def test_keep_must_be_positive(tmp_path):
    with pytest.raises(ConfigError, match="--keep must be at least 1"):
        scheduled_run("http://127.0.0.1:9", tmp_path, keep=0)


def test_a_second_run_while_one_holds_the_lock_fails_fast(tmp_path):
    with open(tmp_path / ".lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ConfigError, match="another run is in progress"):
            scheduled_run("http://127.0.0.1:9", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]


def test_run_against_a_non_connect_server_exits_nonzero_and_writes_no_run(tmp_path):
    _make_runs(tmp_path / "out", ["2000-01-01"])
    with serve(lambda h: h.send_text("404 page not found", 404)) as srv:  # not Connect
        done = subprocess.run(
            [sys.executable, "-m", "connect_analysis.cli", "run", "--server", srv.url,
             "--out-root", str(tmp_path / "out")],
            capture_output=True, text=True, timeout=120,
            env={**os.environ, "CONNECT_API_KEY": KEY})
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr and KEY not in done.stderr + done.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".lock", "2000-01-01"]
    assert (tmp_path / "out" / "2000-01-01" / "report.html").read_text() == "2000-01-01"


# --- end to end against the simulator --------------------------------------------------------------


@pytest.fixture(scope="module")
def simulator():
    from connect_simulator import start_simulator

    with start_simulator(scenario="demo", api_key=KEY, port=0) as sim:
        yield sim


def _run_cli(*args, env):
    return subprocess.run([sys.executable, "-m", "connect_analysis.cli", "run", *args],
                          capture_output=True, text=True, timeout=600, env=env)


def test_scheduled_runs_end_to_end(simulator, tmp_path):
    """Two renders: a good one (replacing the same day, pruning with --keep), then one that
    fails after the notebooks ran (a broken Quarto on PATH) and must keep the good report."""
    root = tmp_path / "reports"
    today = datetime.now(UTC).date().isoformat()  # runs are named by their UTC date
    _make_runs(root, ["2000-01-01", "2000-01-01.failed", today])
    (root / today / "marker").write_text("an earlier run today")
    env = {k: v for k, v in os.environ.items() if k != "QUARTO_PATH"} | {"CONNECT_API_KEY": KEY}

    seen = len(simulator.request_log)
    done = _run_cli("--server", simulator.url, "--out-root", str(root), "--days", "30", "--keep", "1",
                    "--renderer", "builtin", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(root / today / "report.html")
    assert "pruned" in done.stderr and "2000-01-01" in done.stderr
    assert (root / today / "report.html").stat().st_size > 10_000
    assert not (root / today / "marker").exists()  # the same day's run was replaced
    assert sorted(p.name for p in root.iterdir()) == [".lock", today, "latest", "snapshot"]
    assert os.readlink(root / "latest") == today
    assert sorted(p.name for p in (root / today / "notebooks").glob("*.ipynb"))
    first_fetch = json.loads((root / "snapshot" / "manifest.json").read_text())
    first_log = simulator.request_log[seen:]
    good_report = (root / today / "report.html").read_bytes()

    broken = tmp_path / "bin" / "quarto"
    broken.parent.mkdir()
    broken.write_text("#!/bin/sh\necho 'quarto: broken install' >&2\nexit 3\n")
    broken.chmod(0o755)
    env["PATH"] = f"{broken.parent}{os.pathsep}{env['PATH']}"
    seen = len(simulator.request_log)
    done = _run_cli("--server", simulator.url, "--out-root", str(root), "--days", "30", "--keep", "1",
                    env=env)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("error: ")
    assert (root / today / "report.html").read_bytes() == good_report  # untouched
    record = root / f"{today}.failed"
    assert sorted(p.name for p in (record / "notebooks").glob("*.ipynb"))
    assert not any(p.name.endswith(".tmp") for p in root.iterdir())
    second_fetch = json.loads((root / "snapshot" / "manifest.json").read_text())
    assert second_fetch["fetched_at"] >= first_fetch["fetched_at"]  # refreshed in place
    assert second_fetch["row_counts"]["content"] == first_fetch["row_counts"]["content"]
    # the second run refreshed incrementally: it read only usage newer than the first snapshot's
    assert (first_fetch["refresh"]["mode"], second_fetch["refresh"]["mode"]) == ("full", "incremental")
    assert second_fetch["row_counts"]["visits"] >= first_fetch["row_counts"]["visits"] > 0
    second_log = simulator.request_log[seen:]
    assert {m for m, _, _ in first_log + second_log} == {"GET"}
    visits = [[p for _, p, _ in log if "/instrumentation/content/visits" in p] for log in (first_log, second_log)]
    assert visits[0] and visits[1] and len(visits[1]) < len(visits[0])
    froms = [parse_qs(urlsplit(p).query)["from"][0] for p in visits[1]]
    assert min(froms) >= first_fetch["window"]["end"], (froms, first_fetch["window"])
    assert second_fetch["refresh"]["usage_from"]["visits"] == first_fetch["window"]["end"]
    for path in root.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
