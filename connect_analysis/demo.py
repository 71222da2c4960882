"""The whole kit in one call: simulated server -> snapshot -> analysis -> report.

The simulator runs in-process on a loopback port with a throwaway key made here; the key
goes to the fetch as an argument and is written nowhere.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from .options import JOBS_DEFAULT

DEMO_OUT = "demo-output"
DEMO_DAYS = 90


def make_demo_snapshot(path: str | os.PathLike, *, seed: int = 1, jobs: str = JOBS_DEFAULT) -> Path:
    """Serve the simulator's demo scenario, fetch it into path as a real server of the same
    Connect version would be fetched by default (2026.06 has the storage endpoints: no
    per-bundle history, so the report shows none), stop the simulator. Returns path.
    jobs: the fetch's --jobs (the demo deploys fewer than options.JOBS_ALL_UP_TO items: all are read)."""
    from connect_simulator import start_simulator

    from .fetch import fetch_snapshot

    key = secrets.token_urlsafe(24)
    with start_simulator(scenario="demo", api_key=key, seed=seed, port=0) as sim:
        fetch_snapshot(sim.url, Path(path), days=DEMO_DAYS, api_key=key, quiet=True, jobs=jobs)
    return Path(path)


def run_demo(out: str | os.PathLike = DEMO_OUT, *, pdf: bool = False, renderer: str = "auto",
             jobs: str = JOBS_DEFAULT):
    """Make the demo snapshot in out/snapshot and the report in out. Returns the Report."""
    from .report import build_report

    out = Path(out)
    snapshot = make_demo_snapshot(out / "snapshot", jobs=jobs)
    return build_report(snapshot, out, pdf=pdf, renderer=renderer)
