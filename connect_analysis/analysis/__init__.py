"""The migration analysis: pure functions from a snapshot to answers (no network).

    analyze(snapshot, ...) -> Analysis          everything, in memory
    write_analysis(result, out_dir)             summary.json + CSVs
    analyze_snapshot(snapshot_dir, out_dir)     load, analyze, write (`connect-analysis analyze`)
    compare_snapshots(old_dir, new_dir, out_dir)  after the move (`connect-analysis compare`)
"""

from __future__ import annotations

from .compare import compare_snapshots
from .core import Analysis, analyze
from .output import write_analysis
from .versions import VERSION_MATCHING

# The only columns of the big usage tables the analysis reads; loading just these keeps a
# 10-million-event snapshot well inside 2 GB.
ANALYSIS_COLUMNS = {"visits": ["content_guid", "user_guid", "time"]}


def load_for_analysis(snapshot_dir):
    """The snapshot in snapshot_dir with only the columns the analysis reads (a Snapshot)."""
    from ..snapshot import load_snapshot

    return load_snapshot(snapshot_dir, columns=ANALYSIS_COLUMNS)


def analyze_snapshot(snapshot_dir, out_dir, **options) -> Analysis:
    """Load the snapshot in snapshot_dir, analyze it with options (see analyze), write out_dir."""
    result = analyze(load_for_analysis(snapshot_dir), **options)
    write_analysis(result, out_dir)
    return result


__all__ = ["ANALYSIS_COLUMNS", "Analysis", "VERSION_MATCHING", "analyze", "analyze_snapshot",
           "compare_snapshots", "load_for_analysis", "write_analysis"]
