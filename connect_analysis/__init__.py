"""connect-analysis: plan a Posit Connect move to off-host execution.

Importing this package has no side effects and makes no request: the names below are
loaded on first use.

    fetch_snapshot(server, out)      Connect API  -> snapshot directory
    load_snapshot(dir)               snapshot     -> Snapshot (DataFrames)
    analyze(snapshot)                Snapshot     -> Analysis (summary dict + DataFrames)
    build_report(snapshot, out)      snapshot     -> report.html
    write_plan(analysis, out)        Analysis     -> out/plan/ (values.yaml, rebuild.sh, ...)
    run_preflight(...)               checks from inside the new cluster
    start_simulator(...)             the simulated Connect server (from connect_simulator)
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("connect-analysis")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

_LAZY = {
    "ConnectAnalysisError": "connect_analysis.errors",
    "Snapshot": "connect_analysis.snapshot",
    "load_snapshot": "connect_analysis.snapshot",
    "write_snapshot": "connect_analysis.snapshot",
    "fetch_snapshot": "connect_analysis.fetch",
    "Analysis": "connect_analysis.analysis",
    "analyze": "connect_analysis.analysis",
    "analyze_snapshot": "connect_analysis.analysis",
    "write_analysis": "connect_analysis.analysis",
    "compare_snapshots": "connect_analysis.analysis",
    "build_report": "connect_analysis.report",
    "write_plan": "connect_analysis.plan",
    "plan_snapshot": "connect_analysis.plan",
    "run_preflight": "connect_analysis.preflight",
    "start_simulator": "connect_simulator",  # the sibling package, not a module of the kit
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
