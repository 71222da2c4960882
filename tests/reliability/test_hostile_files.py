"""Issue 18, "The user's files lost": the snapshot directory belongs to the kit, the commit
survives a kill at any moment, and no row is dropped by a server's low total."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time

import odd_servers as odd
from hostile import case, fetch_bounded, intact
from rel_suite import FIGURES, SINCE, assert_one_line, leftovers, tree_hash

from connect_analysis.snapshot import load_snapshot


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@case("a refresh of a directory that also holds the user's files")
def test_a_refresh_never_deletes_the_users_files(kit, snapshot_copy, simulators, demo_dataset):
    FIGURES.tried("user's files in the snapshot directory")
    sim = simulators(demo_dataset)
    (snapshot_copy / "notes.txt").write_text("my notes\n")
    (snapshot_copy / "report").mkdir()
    (snapshot_copy / "report" / "report.html").write_text("<p>mine</p>\n")
    run, before, _ = fetch_bounded(kit, snapshot_copy, sim.url)
    line = assert_one_line(run, "did not write", "notes.txt", "report/")
    assert "choose another --out" in line
    intact(snapshot_copy, before)
    assert sim.request_log == [] or all(m == "GET" for m, _, _ in sim.request_log)


@case("report --out / analyze --out inside the snapshot")
def test_outputs_inside_a_snapshot_are_refused(kit, snapshot_copy):
    FIGURES.tried("report --out inside the snapshot")
    before = tree_hash(snapshot_copy)
    run = kit("report", "--snapshot", snapshot_copy, "--out", snapshot_copy / "report")
    assert_one_line(run, "is inside the snapshot", "choose a directory outside")
    FIGURES.tried("analyze --out inside the snapshot")
    run = kit("analyze", snapshot_copy, "--out", snapshot_copy / "deep" / "analysis")
    assert_one_line(run, "is inside the snapshot")
    run = kit("analyze", snapshot_copy, "--out", snapshot_copy)
    assert_one_line(run, "is inside the snapshot")
    intact(snapshot_copy, before)


@case("kill -9 between the two renames of the commit")
def test_a_commit_killed_half_way_is_recovered_at_the_next_start(kit, clean_snapshot, simulators, demo_dataset):
    """The state a kill between the renames leaves: --out missing, the previous snapshot
    moved aside, a half-written temporary. The next fetch puts the previous snapshot back,
    refreshes it incrementally and leaves nothing else."""
    FIGURES.tried("kill -9 between the renames")
    sim = simulators(demo_dataset)
    snap = kit.base / "snap"
    pid = dead_pid()
    first, _, _ = fetch_bounded(kit, snap, sim.url)
    assert first.returncode == 0, str(first)
    snap.rename(kit.base / f".snap.old-{pid}")
    half = kit.base / f".snap.{pid}.k1ll3d.tmp"
    half.mkdir()
    (half / "users.parquet").write_bytes(b"PAR1 half")
    run, _, _ = fetch_bounded(kit, snap, sim.url)
    assert run.returncode == 0, str(run)
    assert f"restored {snap}" in run.stderr and "removed" in run.stderr
    assert leftovers(kit.base, {"snap", "home"}) == []
    manifest = json.loads((snap / "manifest.json").read_text())
    assert manifest["refresh"]["mode"] == "incremental"  # the previous snapshot was found again
    assert manifest["row_counts"]["users"] == len(demo_dataset.users)


@case("temporaries of killed (SIGKILL) fetches")
def test_kill_9_at_any_moment_leaves_the_old_or_the_new_snapshot(kit, clean_snapshot, simulators, demo_dataset):
    """SIGKILL a fetch at several moments: --out always loads (old or new), and the next
    fetch removes every temporary the killed ones left."""
    FIGURES.tried("kill -9 during fetches")
    sim = simulators(demo_dataset, latency_ms=5)
    snap = kit.base / "snap"
    shutil.copytree(clean_snapshot, snap)
    left_behind = 0
    for delay in (0.6, 1.2, 1.8, 2.6, 3.5):
        proc = kit.start("fetch", "--server", sim.url, "--out", snap, "--since", SINCE)
        time.sleep(delay)
        proc.kill()
        proc.communicate()
        load_snapshot(snap)  # the old or the new one, complete
        left_behind += len(leftovers(kit.base, {"snap", "home"}))
    assert left_behind > 0, "no kill landed while a temporary existed"
    run, _, _ = fetch_bounded(kit, snap, sim.url)
    assert run.returncode == 0, str(run)
    assert leftovers(kit.base, {"snap", "home"}) == []
    assert load_snapshot(snap).manifest["row_counts"]["users"] == len(demo_dataset.users)


@case("SIGTERM during a fetch")
def test_sigterm_during_a_fetch(kit, snapshot_copy, simulators, demo_dataset):
    FIGURES.tried("SIGTERM during a fetch")
    sim = simulators(demo_dataset, latency_ms=150)
    before = tree_hash(snapshot_copy)
    t0 = time.monotonic()
    proc = kit.start("fetch", "--server", sim.url, "--out", snapshot_copy, "--since", SINCE, "--bundle-history")
    while len(sim.request_log) < 20 and proc.poll() is None and time.monotonic() - t0 < 30:
        time.sleep(0.05)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    run = kit.finish(proc, t0, timeout=30)
    assert time.monotonic() - sent < 5
    assert_one_line(run, "terminated", "nothing was changed", exit_code=143)
    intact(snapshot_copy, before)


@case("--out is a symlink")
def test_a_symlinked_out_is_followed_to_its_target(kit, snapshot_copy, simulators, demo_dataset):
    FIGURES.tried("--out a symlink")
    sim = simulators(demo_dataset)
    link = kit.base / "latest"
    link.symlink_to(snapshot_copy.name)
    run, _, _ = fetch_bounded(kit, link, sim.url)
    assert run.returncode == 0, str(run)
    assert link.is_symlink() and os.readlink(link) == snapshot_copy.name
    manifest = json.loads((snapshot_copy / "manifest.json").read_text())
    assert manifest["server"] == sim.url
    assert leftovers(kit.base, {"snap", "latest", "home"}) == []


@case("an offset-paged list whose total is too low")
def test_a_low_total_drops_no_rows(kit, simulators, demo_dataset):
    """Users paged 10 at a time with `total: 1` on every page: every user is kept."""
    FIGURES.tried("offset total too low")
    sim = simulators(demo_dataset)

    def tamper(h):
        path, _, query = h.path.partition("?")
        if not path.endswith("/v1/users"):
            return False
        query = query.replace("page_size=500", "page_size=10")
        status, _, body = odd.forward(h, sim.url, f"{path}?{query}")
        data = json.loads(body)
        data["total"] = 1
        odd.send_bytes(h, status, json.dumps(data).encode())
        return True
    with odd.tampering(sim.url, tamper) as proxy:
        snap = kit.base / "snap"
        run, _, _ = fetch_bounded(kit, snap, proxy.url)
    assert run.returncode == 0, str(run)
    assert len(demo_dataset.users) > 20
    assert json.loads((snap / "manifest.json").read_text())["row_counts"]["users"] == len(demo_dataset.users)
