"""The migration analysis: pure functions from a snapshot to answers (no network).

    analyze(snapshot, ...) -> Analysis          everything, in memory
    write_analysis(result, out_dir)             summary.json + CSVs
    analyze_snapshot(snapshot_dir, out_dir)     load, analyze, write (`connect-analysis analyze`)
    compare_snapshots(old_dir, new_dir, out_dir)  after the move (`connect-analysis compare`)
"""

from __future__ import annotations

from .compare import compare_snapshots
from .core import Analysis, analyze, load_for_analysis
from .output import write_analysis
from .versions import VERSION_MATCHING


def analyze_snapshot(snapshot_dir, out_dir, **options) -> Analysis:
    """Load the snapshot in snapshot_dir, analyze it with options (see analyze), write out_dir."""
    from ..snapshot import refuse_output_inside_snapshot

    refuse_output_inside_snapshot(out_dir)
    result = analyze(load_for_analysis(snapshot_dir), **options)
    write_analysis(result, out_dir)
    return result


__all__ = ["Analysis", "VERSION_MATCHING", "analyze", "analyze_snapshot",
           "compare_snapshots", "load_for_analysis", "write_analysis"]
