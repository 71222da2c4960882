"""The shared-storage check: the path exists, a file can be written, read back and removed,
and the free space covers the recommended capacity."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from . import CheckResult

DEFAULT_REQUIRED_BYTES = 100 * 10**9  # 100 GB, the documented minimum for Connect's shared storage
PROBE_BYTES = 1024 * 1024


def required_bytes_from_snapshot(snapshot: str | os.PathLike) -> tuple[int | None, str]:
    """(recommended capacity in bytes, where it came from) from a snapshot: summary.json's
    storage.recommended_bytes, computed from the two storage tables only (no full analysis).

    Returns (None, reason) when the snapshot cannot give it. Never raises.
    """
    from ..analysis.storage import STORAGE_TABLES, recommended_capacity_bytes, storage_in_use_bytes
    from ..errors import ConnectAnalysisError
    from ..snapshot import load_snapshot

    try:
        in_use = storage_in_use_bytes(load_snapshot(snapshot, tables=STORAGE_TABLES))
    except ConnectAnalysisError as e:
        return None, f"cannot read snapshot {snapshot}: {e}"
    except (KeyError, TypeError, ValueError) as e:
        return None, f"snapshot {snapshot} has no usable storage figures ({e})"
    return recommended_capacity_bytes(in_use), f"recommended capacity from snapshot {snapshot}"


def check_storage(path: str | os.PathLike, snapshot: str | os.PathLike | None = None,
                  required_bytes: int | None = None) -> CheckResult:
    """Check a shared-storage directory. The requirement, in bytes, is `required_bytes` when
    given, else the snapshot's recommended capacity, else 100 GB. Never raises."""
    target = str(path)
    if required_bytes is not None:
        required, source = int(required_bytes), "required size given"
    elif snapshot is not None:
        required, source = required_bytes_from_snapshot(snapshot)
        if required is None:
            return CheckResult("storage", target, False, source,
                               "give a readable snapshot (connect-analysis fetch), or omit --snapshot "
                               "to check against 100 GB")
    else:
        required, source = DEFAULT_REQUIRED_BYTES, "default minimum 100 GB"

    directory = Path(path)
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        return CheckResult("storage", target, False, f"{target} {what}",
                           "mount the shared storage (NFS, EFS, ...) at this path in the pod")
    problem = _write_read_remove(directory)
    if problem:
        return CheckResult("storage", target, False, problem,
                           "make the mount writable by the user this runs as (ownership, mode, "
                           "read-only mount or export options)")
    free = shutil.disk_usage(directory).free
    detail = (f"writable; free {_gb(free)} ({free} bytes), required {_gb(required)} "
              f"({required} bytes; {source})")
    if free < required:
        return CheckResult("storage", target, False, detail,
                           f"grow the volume by at least {_gb(required - free)}, or use a larger one")
    return CheckResult("storage", target, True, detail)


def _write_read_remove(directory: Path) -> str | None:
    """Write a file, read it back, remove it. Returns what went wrong, or None."""
    probe = directory / f".connect-analysis-preflight-{uuid.uuid4().hex}"
    payload = os.urandom(PROBE_BYTES)
    try:
        with open(probe, "xb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())  # so a full or broken mount fails here, not later
    except OSError as e:
        _remove_quietly(probe)
        return f"cannot write a file in {directory}: {e.strerror or e}"
    try:
        if probe.read_bytes() != payload:
            return f"a file written in {directory} read back different"
    except OSError as e:
        return f"cannot read back a file written in {directory}: {e.strerror or e}"
    finally:
        problem = _remove_quietly(probe)
    if problem:
        return f"cannot remove a file written in {directory}: {problem}"
    return None


def _remove_quietly(path: Path) -> str | None:
    try:
        path.unlink(missing_ok=True)
    except OSError as e:
        return e.strerror or str(e)
    return None


def _gb(n: int) -> str:
    return f"{n / 10**9:,.1f} GB"
