"""The bad-input matrix, the file system's rows: --out or --snapshot a file, a read-only file
system, a disk that fills during a fetch's or an analysis's write. Each runs the real CLI in a
subprocess and asserts one clear line on stderr, a non-zero exit where the command cannot do its
job, no traceback, and nothing lost: the snapshot already in the target directory is
byte-identical afterwards, with no temporary directory left beside it.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import subprocess
from pathlib import Path

import pytest
from hostile import intact
from rel_suite import (
    FIGURES,
    assert_one_line,
    fetch_into,
    leftovers,
    tree_hash,
)


@contextlib.contextmanager
def mounted_tmpfs(path: Path, size: str = "16m"):
    """A tmpfs at path (root only); yields False when mounting is not possible here."""
    path.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        yield False
        return
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                          capture_output=True)
    if done.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def test_snapshot_directory_is_a_file(kit, simulators, demo_dataset):
    FIGURES.tried("--out is a file")
    sim = simulators(demo_dataset)
    target = kit.base / "snap"
    target.write_text("my notes\n")
    run, before = fetch_into(kit, target, sim.url)
    assert_one_line(run, "--out", "is a file", exit_code=2)
    assert tree_hash(target) == before
    FIGURES.tried("--snapshot is a file")
    run = kit("report", "--snapshot", target, "--out", kit.base / "out")
    assert_one_line(run, "--snapshot", "is a file", exit_code=2)
    assert tree_hash(target) == before and not (kit.base / "out").exists()


def test_snapshot_directory_read_only(kit, clean_snapshot, simulators, demo_dataset):
    """A read-only file system (root ignores permission bits, so as root: a tmpfs remounted
    read-only; otherwise a directory without write permission)."""
    FIGURES.tried("snapshot on a read-only file system")
    sim = simulators(demo_dataset)
    disk = kit.base / "disk"
    with mounted_tmpfs(disk) as mounted:
        snap = disk / "snap"
        shutil.copytree(clean_snapshot, snap)
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        else:
            if os.geteuid() == 0:
                pytest.skip("root without mount: nothing here is read-only to root")
            disk.chmod(0o555)
        try:
            run, before = fetch_into(kit, snap, sim.url)
            assert_one_line(run, "cannot write")
            assert "read-only" in run.stderr.lower() or "permission denied" in run.stderr.lower()
            intact(snap, before)
            kit.scan(None, disk)
        finally:
            if not mounted:
                disk.chmod(0o755)


def test_disk_fills_during_the_write(kit, clean_snapshot, simulators, demo_dataset):
    """The file system fills up while the new snapshot is written: the old one survives and
    the half-written one is removed (tmpfs with 64 KiB left; else RLIMIT_FSIZE)."""
    FIGURES.tried("disk full during the write")
    sim = simulators(demo_dataset)
    disk = kit.base / "disk"
    with mounted_tmpfs(disk, size="8m") as mounted:
        snap = disk / "snap"
        shutil.copytree(clean_snapshot, snap)
        extra = {}
        if mounted:
            st = os.statvfs(disk)
            (disk / "filler").write_bytes(b"\0" * (st.f_bavail * st.f_frsize - 64 * 1024))
        else:
            def limit():  # files larger than 16 KiB fail with EFBIG (Python ignores SIGXFSZ)
                resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, 16 * 1024))
            extra["preexec_fn"] = limit
        run, before = fetch_into(kit, snap, sim.url, **extra)
        assert_one_line(run, "cannot write")
        assert "no space left" in run.stderr.lower() or "too large" in run.stderr.lower()
        assert tree_hash(snap) == before
        assert leftovers(disk, {"snap", "filler"}) == []
        kit.scan(None, disk)


def test_disk_full_under_the_analysis_output(kit, clean_snapshot):
    """`analyze` into a directory holding a previous analysis, on a file system with 8 KiB
    left: one line, and the previous analysis byte-identical."""
    FIGURES.tried("disk full under the analysis output")
    disk = kit.base / "disk"
    with mounted_tmpfs(disk, size="4m") as mounted:
        if not mounted:
            pytest.skip("needs a tmpfs mount (root)")
        out = disk / "analysis"
        first = kit("analyze", clean_snapshot, "--out", out)
        assert first.returncode == 0, str(first)
        before = tree_hash(out)
        st = os.statvfs(disk)
        (disk / "filler").write_bytes(b"\0" * (st.f_bavail * st.f_frsize - 8 * 1024))
        run = kit("analyze", clean_snapshot, "--out", out)
        assert_one_line(run, "cannot write", "no space left")
        assert tree_hash(out) == before
        assert leftovers(disk, {"analysis", "filler"}) == []
        kit.scan(None, disk)
