"""Scheduled rendering anywhere (cron, a CI job, a systemd timer): one run refreshes the
snapshot, renders the report into a directory named by the date, and prunes old runs.

    OUT_ROOT/
      snapshot/            refreshed incrementally by every run (fetch into the same directory)
      2026-06-02/          the report of the run on that day (UTC): report.html, notebooks, CSVs
      2026-06-01/
      2026-06-02.failed/   the record of a failed render (executed notebooks), kept for reading
      latest -> 2026-06-02 a symlink to the newest successful run
      .lock                held while a run is in progress; a second run at once fails fast

A second successful run on the same day replaces that day's directory atomically (the new
report is complete before the old one goes). A failed run never replaces a good report.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from .errors import ConfigError, ConnectAnalysisError, ReportError
from .options import JOBS_DEFAULT
from .snapshot import replace_dir

SNAPSHOT_DIR = "snapshot"
LATEST = "latest"
FAILED_SUFFIX = ".failed"
_RUN_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FAILED_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})\.failed$")


@dataclass
class RunResult:
    """Where a scheduled run put its report, and which old runs it removed."""

    run_dir: Path
    report: Path
    snapshot: Path
    pruned: list[Path] = field(default_factory=list)


def render_once(server: str, snapshot_dir: str | os.PathLike, out_dir: str | os.PathLike,
                days: int = 90, renderer: str = "auto", jobs: str = JOBS_DEFAULT) -> Path:
    """Refresh snapshot_dir from the server (incrementally when it holds a snapshot), then
    render the report into out_dir. The key comes from CONNECT_API_KEY; jobs: the fetch's --jobs.
    Returns report.html."""
    from .fetch import fetch_snapshot
    from .report import build_report

    fetch_snapshot(server, Path(snapshot_dir), days=days, jobs=jobs)
    return build_report(Path(snapshot_dir), Path(out_dir), renderer=renderer).html


def scheduled_run(server: str, out_root: str | os.PathLike, keep: int | None = None,
                  days: int = 90, today: date | None = None, renderer: str = "auto",
                  jobs: str = JOBS_DEFAULT) -> RunResult:
    """One scheduled run into out_root (layout in the module docstring).

    keep: how many successful runs to keep (the newest by date); None keeps all.
    today: the run's date (default: today in UTC). Raises ConnectAnalysisError on any
    failure, after keeping the failed render's record in DAY.failed.
    """
    if keep is not None and keep < 1:
        raise ConfigError("--keep must be at least 1 (the run just made)")
    root = Path(out_root)
    day = (today or datetime.now(UTC).date()).isoformat()
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot create {root}: {e.strerror or e}") from None
    with _run_lock(root):
        snapshot = root / SNAPSHOT_DIR
        work = Path(tempfile.mkdtemp(prefix=f".{day}.", suffix=".tmp", dir=root))
        try:
            report = render_once(server, snapshot, work, days=days, renderer=renderer, jobs=jobs)
        except BaseException as e:
            _keep_failed(work, root / f"{day}{FAILED_SUFFIX}")
            if isinstance(e, ConnectAnalysisError | KeyboardInterrupt):
                raise
            raise ReportError(f"the run failed: {type(e).__name__}: {e}") from e
        run_dir = root / day
        replace_dir(work, run_dir)
        _point_latest(root, day)
        pruned = prune_runs(root, keep) if keep else []
    return RunResult(run_dir=run_dir, report=run_dir / Path(report).name, snapshot=snapshot,
                     pruned=pruned)


def list_runs(out_root: str | os.PathLike) -> list[Path]:
    """The successful run directories under out_root, newest first."""
    root = Path(out_root)
    if not root.is_dir():
        return []
    return sorted((p for p in root.iterdir() if p.is_dir() and not p.is_symlink()
                   and _RUN_NAME.match(p.name)), key=lambda p: p.name, reverse=True)


def prune_runs(out_root: str | os.PathLike, keep: int) -> list[Path]:
    """Remove all but the newest `keep` runs, and failed records older than the oldest kept.
    Returns the removed paths. The snapshot and `latest` are never touched."""
    root = Path(out_root)
    runs = list_runs(root)
    kept, removed = runs[:keep], runs[keep:]
    oldest_kept = kept[-1].name if kept else None
    for p in root.iterdir():
        m = _FAILED_NAME.match(p.name)
        if m and p.is_dir() and oldest_kept and m.group(1) < oldest_kept:
            removed.append(p)
    for p in removed:
        shutil.rmtree(p)
    return sorted(removed)


@contextmanager
def _run_lock(root: Path) -> Iterator[None]:
    """An exclusive lock on OUT_ROOT/.lock: cron may start a run while the last one still runs."""
    with open(root / ".lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(f"another run is in progress in {root} (it holds {root / '.lock'})") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _keep_failed(work: Path, record: Path) -> None:
    """Keep what a failed render left (the executed notebooks) as DAY.failed."""
    if not work.exists():
        return
    if any(work.iterdir()):
        replace_dir(work, record)
    else:
        work.rmdir()


def _point_latest(root: Path, day: str) -> None:
    """Atomically point OUT_ROOT/latest at the day's run (a relative symlink)."""
    link = root / LATEST
    if link.exists() and not link.is_symlink():
        return  # someone put a real file there: leave it
    tmp = root / f".{LATEST}.{os.getpid()}"
    tmp.unlink(missing_ok=True)
    os.symlink(day, tmp)
    os.replace(tmp, link)
