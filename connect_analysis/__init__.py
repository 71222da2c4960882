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
    "ConnectAnalysisError": "errors",
    "Snapshot": "snapshot",
    "load_snapshot": "snapshot",
    "write_snapshot": "snapshot",
    "fetch_snapshot": "fetch",
    "Analysis": "analysis",
    "analyze": "analysis",
    "analyze_snapshot": "analysis",
    "write_analysis": "analysis",
    "compare_snapshots": "analysis",
    "build_report": "report",
    "write_plan": "plan",
    "plan_snapshot": "plan",
    "run_preflight": "preflight",
    "start_simulator": "connect_simulator",  # the sibling package, not a module of the kit
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        module = _LAZY[name]
        relative = "" if module.startswith("connect_") else "."
        return getattr(import_module(relative + module, __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
