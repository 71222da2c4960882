"""The storage check: free space, writability and the required size (given, default, from a snapshot)."""

import os
import shutil
import subprocess

import pytest

from connect_analysis.preflight.storage import DEFAULT_REQUIRED_BYTES, check_storage


def test_storage_writable_with_space_passes(tmp_path):
    result = check_storage(tmp_path, required_bytes=10**6)
    assert result.ok, result.detail
    assert "required 0.0 GB (1000000 bytes; required size given)" in result.detail
    assert list(tmp_path.iterdir()) == []  # the probe file was removed


def test_storage_larger_than_the_filesystem_fails(tmp_path):
    total = shutil.disk_usage(tmp_path).total
    result = check_storage(tmp_path, required_bytes=total + 1)
    assert not result.ok
    assert f"({total + 1} bytes; required size given)" in result.detail
    assert result.fix.startswith("grow the volume by at least")
    assert list(tmp_path.iterdir()) == []


def test_storage_default_requirement_is_100_gb(tmp_path):
    result = check_storage(tmp_path)
    assert DEFAULT_REQUIRED_BYTES == 10**11
    assert "(100000000000 bytes; default minimum 100 GB)" in result.detail
    assert result.ok == (shutil.disk_usage(tmp_path).free >= 10**11)


def test_storage_missing_path_fails(tmp_path):
    result = check_storage(tmp_path / "not-mounted", required_bytes=1)
    assert not result.ok and "does not exist" in result.detail and "mount" in result.fix


def test_storage_a_file_is_not_a_directory(tmp_path):
    (tmp_path / "f").write_text("x")
    result = check_storage(tmp_path / "f", required_bytes=1)
    assert not result.ok and "is not a directory" in result.detail


@pytest.fixture
def read_only_dir(tmp_path):
    """A directory the current user cannot create files in (root: the immutable attribute)."""
    target = tmp_path / "ro"
    target.mkdir()
    if os.geteuid() == 0:
        if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(target)]).returncode:
            pytest.skip("running as root and cannot set the immutable attribute (chattr)")
        yield target
        subprocess.run(["chattr", "-i", str(target)], check=True)
    else:
        target.chmod(0o555)
        yield target
        target.chmod(0o755)


def test_storage_not_writable_fails(read_only_dir):
    result = check_storage(read_only_dir, required_bytes=1)
    assert not result.ok
    assert result.detail.startswith(f"cannot write a file in {read_only_dir}")
    assert "writable" in result.fix


def test_storage_from_a_snapshot_equals_the_analysis_without_running_it(tmp_path, monkeypatch):
    import pandas as pd

    from connect_analysis import analysis
    from connect_analysis.snapshot import load_snapshot, write_snapshot

    bundles = pd.DataFrame({"content_guid": ["a", "a", "b"], "id": ["1", "2", "3"],
                            "size": [40 * 10**9, 5 * 10**9, 30 * 10**9], "active": [True, False, True]})
    snap = write_snapshot(tmp_path / "snap", {"bundles": bundles}, {"server_url": "http://127.0.0.1:1"})
    expected = int(analysis.analyze(load_snapshot(snap)).summary["storage"]["recommended_bytes"])
    assert expected == 2 * 75 * 10**9
    monkeypatch.setattr(analysis.core, "analyze", None)  # the check must not run it
    monkeypatch.setattr(analysis, "analyze", None)
    (tmp_path / "mnt").mkdir()
    result = check_storage(tmp_path / "mnt", snapshot=snap)
    assert f"({expected} bytes; recommended capacity from snapshot {snap})" in result.detail


def test_storage_from_an_empty_snapshot_uses_the_minimum(tmp_path):
    from connect_analysis import analysis
    from connect_analysis.snapshot import load_snapshot, write_snapshot

    snap = write_snapshot(tmp_path / "snap", {}, {"server_url": "http://127.0.0.1:1"})
    expected = int(analysis.analyze(load_snapshot(snap)).summary["storage"]["recommended_bytes"])
    assert expected == 10**11  # an empty server: max(100 GB, 2 x 0)
    (tmp_path / "mnt").mkdir()
    result = check_storage(tmp_path / "mnt", snapshot=snap)
    assert f"({expected} bytes; recommended capacity from snapshot {snap})" in result.detail
    assert result.ok == (shutil.disk_usage(tmp_path).free >= expected)


def test_storage_with_an_unreadable_snapshot_fails(tmp_path):
    (tmp_path / "not-a-snapshot").mkdir()
    result = check_storage(tmp_path, snapshot=tmp_path / "not-a-snapshot")
    assert not result.ok
    assert "snapshot" in result.detail and "snapshot" in result.fix

